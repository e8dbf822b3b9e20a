from crm_shared.uow import SqlAlchemyUnitOfWork

from crm_calls.adapters.planning_repository import PlanningRepository
from crm_calls.adapters.repository import CustomerReplicaRepository


class CallsUnitOfWork(SqlAlchemyUnitOfWork):
    def _start(self) -> None:
        self.customers = CustomerReplicaRepository(self.session)
        self.planning = PlanningRepository(self.session)
