"""The skeleton migrates a fresh PostgreSQL database and answers with a token."""
from crm_shared.auth import mint_token
from crm_shared.config import Settings

from crm_service_desk.bootstrap import build_runtime


def test_migrates_and_serves_status(fresh_database, amqp_url):
    settings = Settings.from_env("service-desk", database_url=fresh_database("crm_service_desk"), amqp_url=amqp_url)
    runtime = build_runtime(settings)
    runtime.migrate()
    client = runtime.create_app().test_client()
    try:
        assert client.get("/health/live").status_code == 200
        assert client.get("/health/ready").status_code == 200
        unauthenticated = client.get("/api/service-desk/status")
        assert unauthenticated.status_code == 401 and unauthenticated.mimetype == "application/problem+json"
        token = mint_token(runtime.settings.jwt, "tester", ["agent"], ["*"])
        response = client.get("/api/service-desk/status", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.get_json() == {"service": "service-desk", "status": "skeleton"}
        assert runtime.build_consumer() is None
    finally:
        runtime.engine.dispose()
