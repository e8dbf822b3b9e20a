from crm_shared.events import CloudEvent
from crm_shared.outbox import write_events
from crm_shared.uow import SqlAlchemyUnitOfWork
from sqlalchemy.orm import Session

from crm_calls.adapters.orm import messaging
from crm_calls.adapters.planning_repository import PlanningRepository
from crm_calls.adapters.repository import CustomerReplicaRepository
from crm_calls.service_layer.clock import SYSTEM_CLOCK, Clock


class CallsUnitOfWork(SqlAlchemyUnitOfWork):
    def __init__(self, session_factory, outbox, service: str, clock: Clock = SYSTEM_CLOCK):
        super().__init__(session_factory, outbox, service)
        self.clock = clock

    def _start(self) -> None:
        self.customers = CustomerReplicaRepository(self.session)
        self.planning = PlanningRepository(self.session)


class ConsumerUnitOfWork:
    """The same interface inside a consumer's transaction: `commit` writes the events to the outbox and leaves
    the commit to the consumer, which commits them with the inbox record and the handler's effects."""

    def __init__(self, session: Session, clock: Clock = SYSTEM_CLOCK):
        self.session = session
        self.clock = clock
        self.customers = CustomerReplicaRepository(session)
        self.planning = PlanningRepository(session)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def publish(self, *events: CloudEvent) -> None:
        self.session.flush()
        write_events(self.session.connection(), messaging.outbox, "calls", events)

    def commit(self) -> None:
        self.session.flush()
