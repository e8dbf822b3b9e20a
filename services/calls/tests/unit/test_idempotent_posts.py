"""Every POST of calls honours Idempotency-Key, so that the next endpoint cannot forget it."""
from crm_shared.config import Settings
from crm_shared.web.idempotency import unguarded_posts

from crm_calls.bootstrap import build_runtime

ALLOWED: dict[str, str] = {}  # rule -> why it may be repeated without a key; none today


def test_every_post_is_idempotent_or_allowed_with_a_reason():
    app = build_runtime(Settings.from_env("calls", database_url="sqlite://")).create_app()
    posts = [r.rule for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 8 and set(ALLOWED) <= set(posts)
    assert unguarded_posts(app, ALLOWED) == []
