"""Every POST of campaigns honours Idempotency-Key, so that the next endpoint cannot forget it; the one
exception is named with its reason."""
from crm_shared.config import Settings
from crm_shared.web.idempotency import unguarded_posts

from crm_campaigns.bootstrap import build_runtime

ALLOWED = {
    # Public: there is no principal to scope a key by (every caller would share one key space), and the signed
    # token already makes the request repeatable: unsubscribing twice changes nothing.
    "/api/campaigns/unsubscribe/<token>": "public one-click unsubscribe, repeatable by design",
}


def test_every_post_is_idempotent_or_allowed_with_a_reason():
    app = build_runtime(Settings.from_env("campaigns", database_url="sqlite://")).create_app()
    posts = [r.rule for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 17 and set(ALLOWED) <= set(posts)
    assert unguarded_posts(app, ALLOWED) == []
