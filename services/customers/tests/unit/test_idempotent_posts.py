"""Every POST of customers that creates something honours Idempotency-Key; the lifecycle moves are named with
their reason, so that the next endpoint cannot forget it."""
from crm_shared.config import Settings
from crm_shared.web.idempotency import unguarded_posts

from crm_customers.bootstrap import build_runtime

ALLOWED = {
    # A move to a state: sending it again asks for the state the party is already in (409 for an illegal
    # move, never a second effect), so a retry cannot do anything twice.
    "/api/customers/parties/<uuid:party_id>/lifecycle": "moves to a named state; repeating it changes nothing",
    "/api/customers/parties/<uuid:party_id>/deactivate": "moves to inactive; repeating it changes nothing",
}


def test_every_post_is_idempotent_or_allowed_with_a_reason():
    app = build_runtime(Settings.from_env("customers", database_url="sqlite://")).create_app()
    posts = [r.rule for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 6 and set(ALLOWED) <= set(posts)
    assert unguarded_posts(app, ALLOWED) == []
