"""The import's `mapping` form field is JSON text: too deep, malformed or NUL-holding text is a 422 naming the
field, and nothing is stored (it was a 500 when the parser's RecursionError reached the catch-all)."""
from __future__ import annotations

import io
import json

import pytest
from campaigns_fixtures import auth, create_campaign
from sqlalchemy import func, select

from crm_campaigns.adapters.import_tables import address_imports

CSV = b"Firma;PLZ\nAcme;10115\n"


def post(client, headers, campaign_id, mapping: str):
    data = {"file": (io.BytesIO(CSV), "liste.csv", "text/csv"), "mapping": mapping}
    return client.post(f"/api/campaigns/campaigns/{campaign_id}/imports", data=data, headers=headers,
                       content_type="multipart/form-data")


@pytest.mark.parametrize("mapping, says", [
    ("[" * 10_000 + "]" * 10_000, "nested"),
    ('{"Firma": ' * 70 + '"x"' + "}" * 70, "nested"),
    ("{not json", "not valid JSON"),
    ('["company_name"]', "JSON object"),
    (json.dumps({"Firma": "company_name\u0000"}), "NUL"),
    (json.dumps({"Fir\u0000ma": "company_name"}), "NUL"),
])
def test_a_mapping_that_is_not_a_usable_json_object_is_a_422_naming_it(runtime, client, mapping, says):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    response = post(client, headers, campaign_id, mapping)
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.get_json()
    [error] = [e for e in response.get_json()["errors"] if e["field"] == "mapping"]
    assert error["location"] in ("form", "files") and says in error["message"]
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(address_imports)).scalar() == 0
