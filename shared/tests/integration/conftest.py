import pytest

from crm_shared.testing.pipeline import build_pipeline, tear_down


@pytest.fixture
def pipeline(fresh_database, amqp_url):
    built = build_pipeline(fresh_database("producer"), fresh_database("consumer"), amqp_url)
    yield built
    tear_down(built)
