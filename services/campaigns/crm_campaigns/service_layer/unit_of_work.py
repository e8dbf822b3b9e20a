"""The unit of work: the repositories' changes and the events they caused commit in one transaction."""
from __future__ import annotations

from crm_shared.events import CloudEvent
from crm_shared.outbox import write_events
from crm_shared.uow import SqlAlchemyUnitOfWork
from sqlalchemy.orm import Session

from crm_campaigns.adapters.budget_repository import BudgetRepository
from crm_campaigns.adapters.campaign_repository import CampaignRepository
from crm_campaigns.adapters.figures_query import FiguresQuery
from crm_campaigns.adapters.import_repository import ImportRepository
from crm_campaigns.adapters.mailing_repository import MailingRepository
from crm_campaigns.adapters.orm import messaging
from crm_campaigns.adapters.participation_repository import ParticipationRepository
from crm_campaigns.adapters.replica_repository import ReplicaRepository
from crm_campaigns.adapters.suppression_repository import SuppressionRepository
from crm_campaigns.adapters.template_repository import TemplateRepository

SERVICE = "campaigns"


def _repositories(uow, session: Session) -> None:
    uow.campaigns = CampaignRepository(session)
    uow.participations = ParticipationRepository(session)
    uow.replica = ReplicaRepository(session)
    uow.budget = BudgetRepository(session)
    uow.figures = FiguresQuery(session)
    uow.imports = ImportRepository(session)
    uow.suppressions = SuppressionRepository(session)
    uow.mailings = MailingRepository(session)
    uow.templates = TemplateRepository(session)


class CampaignsUnitOfWork(SqlAlchemyUnitOfWork):
    def _start(self) -> None:
        _repositories(self, self.session)

    def publish(self, *events: CloudEvent) -> None:
        """Writes the events to the outbox at once, in the open transaction (a rollback still discards them),
        so a launch of 200,000 participants does not hold all their events in memory until the commit."""
        if events:
            self.session.flush()
            write_events(self.session.connection(), messaging.outbox, SERVICE, events)


class ConsumerUnitOfWork:
    """The same interface inside a consumer's transaction: `commit` writes the events to the outbox and leaves
    the commit to the consumer, which commits them with the inbox record and the handler's effects."""

    def __init__(self, session: Session):
        self.session = session
        _repositories(self, session)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def publish(self, *events: CloudEvent) -> None:
        self.session.flush()
        write_events(self.session.connection(), messaging.outbox, SERVICE, events)

    def commit(self) -> None:
        self.session.flush()
