"""The import on SQLite, as the embedded mode runs it: plain IN lists and INSERTs instead of arrays and COPY."""
from __future__ import annotations

import json

from crm_shared.auth import Principal
from crm_shared.config import Settings
from sqlalchemy import func, select

from crm_campaigns.adapters import orm
from crm_campaigns.bootstrap import build_runtime, uow_factory
from crm_campaigns.service_layer import campaigns, imports

ACTOR = Principal("marketer", frozenset({"marketing"}), frozenset({"*"}))


def test_an_import_on_sqlite(tmp_path):
    runtime = build_runtime(Settings.from_env("campaigns", database_url=f"sqlite:///{tmp_path}/campaigns.db"))
    runtime.migrate()
    uows = uow_factory(runtime.engine)
    campaign = campaigns.create_campaign(uows(), ACTOR, {"name": "Spring", "campaign_type": "telemarketing",
                                                         "line_of_business": "retail"})
    lines = ["Firma;PLZ;Telefon", *(f"Firma {i};{10000 + i};030 {1000000 + i}" for i in range(250)),
             "FIRMA 7 GmbH;10007;+49 30 1000007", "Kaputt;1;"]
    started = imports.start_import(uows(), ACTOR, campaign["campaign_id"], "liste.csv", "text/csv",
                                   "\n".join(lines).encode(),
                                   {"Firma": "company_name", "PLZ": "postal_code", "Telefon": "phone"},
                                   max_bytes=runtime.settings.import_max_bytes)

    assert imports.process_import(uows, started["import_id"]) == "completed"
    with uows() as uow:
        done = uow.imports.get(started["import_id"])
        [duplicate] = uow.imports.report(started["import_id"], limit=10, after=None, outcome="duplicate")
        participants = uow.session.execute(select(func.count()).select_from(orm.participations)).scalar()
        box = orm.messaging.outbox
        bodies = uow.session.execute(select(box.c.body).where(
            box.c.routing_key == "crm.campaigns.suspect_imported.v1")).scalars().all()
    assert (done.total_rows, done.accepted, done.duplicates, done.rejected) == (252, 250, 1, 1)
    assert (duplicate["row_number"], duplicate["reason"]) == (252, "matches row 9 of this file")
    assert participants == 250
    assert sorted(json.loads(b)["data"]["row_number"] for b in bodies) == list(range(2, 252))
    runtime.engine.dispose()
