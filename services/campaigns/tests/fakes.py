"""In-memory repositories and unit of work for service-layer tests."""
from __future__ import annotations

from types import SimpleNamespace

from crm_campaigns.domain.participants import OPEN_STATUSES, Position


class FakeCampaigns:
    def __init__(self):
        self.rows: dict[str, SimpleNamespace] = {}
        self.graph_of: dict = {}
        self.chain_rows: dict[tuple[str, str], str] = {}

    def add_campaign(self, campaign_id: str, graph, status: str = "active"):
        self.rows[campaign_id] = SimpleNamespace(campaign_id=campaign_id, status=status)
        self.graph_of[campaign_id] = graph

    def get(self, campaign_id, lock=False):
        return self.rows.get(campaign_id)

    def graph(self, campaign_id):
        return self.graph_of.get(campaign_id)

    def graphs(self, ids):
        return {i: self.graph_of[i] for i in ids if i in self.graph_of}

    def chain_map(self, ids):
        return {k: v for k, v in self.chain_rows.items() if k[0] in ids}


class FakeParticipations:
    def __init__(self):
        self.rows: dict[str, dict] = {}
        self.history: list[dict] = []

    def insert_new(self, rows):
        taken = {(r["campaign_id"], r["party_id"]) for r in self.rows.values()}
        new = [r for r in rows if (r["campaign_id"], r["party_id"]) not in taken]
        self.rows.update({r["participation_id"]: dict(r) for r in new})
        return new

    def _position(self, row) -> Position:
        return Position(row["participation_id"], row["campaign_id"], row["party_id"], row["stage_key"],
                        row["status"], row["request_id"])

    def positions(self, ids, lock=True):
        return [self._position(self.rows[i]) for i in sorted(set(ids)) if i in self.rows]

    def positions_by_request(self, request_ids, lock=True):
        wanted = set(request_ids)
        return [self._position(r) for r in self.rows.values() if r["request_id"] in wanted]

    def open_positions(self, campaign_id, status=None):
        statuses = (status,) if status else OPEN_STATUSES
        return [self._position(r) for r in self.rows.values()
                if r["campaign_id"] == campaign_id and r["status"] in statuses]

    def open_positions_of_party(self, party_id):
        return [self._position(r) for r in self.rows.values() if r["party_id"] == party_id
                and r["status"] in OPEN_STATUSES]

    def write_positions(self, changes):
        for change in changes:
            self.rows[change["participation_id"]].update(change)

    def add_history(self, rows):
        self.history.extend(rows)

    def by_party(self, campaign_id: str, party_id: str) -> dict:
        return next(r for r in self.rows.values() if r["campaign_id"] == campaign_id and r["party_id"] == party_id)


class FakeUnitOfWork:
    def __init__(self):
        self.campaigns = FakeCampaigns()
        self.participations = FakeParticipations()
        self.published = []
        self.committed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def publish(self, *events):
        self.published.extend(events)

    def commit(self):
        self.committed = True

    def types(self) -> list[str]:
        return [e.type for e in self.published]
