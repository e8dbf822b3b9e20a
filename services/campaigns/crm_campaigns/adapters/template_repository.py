"""Mail templates."""
from __future__ import annotations

from sqlalchemy import exists, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from crm_campaigns.adapters.mailing_tables import mail_templates, mailings

T = mail_templates.c


class TemplateRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, row: dict) -> None:
        self.session.execute(insert(mail_templates).values(**row))

    def get(self, template_id: str, *, lock: bool = False) -> Row | None:
        query = select(mail_templates).where(T.template_id == template_id)
        return self.session.execute(query.with_for_update() if lock else query).first()

    def list(self, *, limit: int, after: tuple | None, channel: str | None, lines: set[str] | None) -> list[Row]:
        query = select(mail_templates).order_by(T.name, T.template_id).limit(limit)
        if after is not None:
            query = query.where((T.name > after[0]) | ((T.name == after[0]) & (T.template_id > after[1])))
        if channel is not None:
            query = query.where(T.channel == channel)
        if lines is not None:
            query = query.where(T.line_of_business.in_(lines))
        return list(self.session.execute(query))

    def update(self, template_id: str, values: dict) -> None:
        self.session.execute(update(mail_templates).where(T.template_id == template_id).values(**values))

    def used_by_mailing(self, template_id: str, statuses: tuple[str, ...]) -> bool:
        query = select(exists().where(mailings.c.template_id == template_id, mailings.c.status.in_(statuses)))
        return bool(self.session.execute(query).scalar())
