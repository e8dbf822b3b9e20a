"""Every POST of reporting (none yet: a skeleton) must honour Idempotency-Key; the first one that forgets it
fails here."""
from crm_shared.config import Settings
from crm_shared.web.idempotency import unguarded_posts

from crm_reporting.bootstrap import build_runtime

ALLOWED: dict[str, str] = {}  # rule -> why it may be repeated without a key


def test_every_post_is_idempotent_or_allowed_with_a_reason():
    app = build_runtime(Settings.from_env("reporting", database_url="sqlite://")).create_app()
    assert unguarded_posts(app, ALLOWED) == []
