"""Concurrent changes of one party on PostgreSQL: a PATCH without If-Match is unconditional and never answers 412
because someone else changed the party meanwhile; a PATCH with a stale If-Match still answers 412."""
import threading
import time

from sqlalchemy import text


def waiting_for_a_lock(engine, timeout=10.0) -> bool:
    """Whether some other backend is blocked on a row lock (the request under test, behind our transaction)."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            blocked = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND datname = current_database()")).scalar()
            if blocked:
                return True
            time.sleep(0.02)
    return False


def in_thread(call):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("response", call()))
    thread.start()
    return thread, result


def test_a_patch_without_if_match_waits_for_a_concurrent_change_and_applies_after_it(runtime, admin, create):
    party = create(company_name="Before")
    url = f"/api/customers/parties/{party['party_id']}"
    client = runtime.create_app().test_client()
    with runtime.engine.connect() as other:  # another writer, half-way through its change of the party
        other.execute(text("UPDATE parties SET version = version + 1, company_name = 'Concurrent' WHERE id = :id"),
                      {"id": party["party_id"]})
        thread, result = in_thread(lambda: client.patch(url, json={"addresses": [
            {"street": "Main St 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}]}, headers=admin))
        assert waiting_for_a_lock(runtime.engine)
        other.commit()
    thread.join(30)

    response = result["response"]
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["version"] == 3 and response.headers["ETag"] == '"3"'
    assert (response.json["company_name"], response.json["addresses"][0]["city"]) == ("Concurrent", "Berlin")


def test_a_patch_with_a_stale_if_match_after_a_concurrent_change_is_refused(runtime, admin, create):
    party = create(company_name="Before")
    url = f"/api/customers/parties/{party['party_id']}"
    client = runtime.create_app().test_client()
    with runtime.engine.connect() as other:
        other.execute(text("UPDATE parties SET version = version + 1, company_name = 'Concurrent' WHERE id = :id"),
                      {"id": party["party_id"]})
        thread, result = in_thread(lambda: client.patch(url, json={"company_name": "Mine"},
                                                        headers={**admin, "If-Match": '"1"'}))
        assert waiting_for_a_lock(runtime.engine)
        other.commit()
    thread.join(30)

    assert result["response"].status_code == 412, result["response"].get_data(as_text=True)
    current = client.get(url, headers=admin)
    assert (current.json["version"], current.json["company_name"]) == (2, "Concurrent")


def test_many_concurrent_unconditional_changes_all_apply(runtime, admin, create):
    party = create(company_name="Start")
    url = f"/api/customers/parties/{party['party_id']}"
    app = runtime.create_app()
    writers = 8
    start = threading.Barrier(writers)
    answers = []

    def change(i):
        client = app.test_client()
        start.wait()
        answers.append(client.patch(url, json={"company_name": f"Name {i}"}, headers=admin).status_code)

    threads = [threading.Thread(target=change, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert answers == [200] * writers
    assert app.test_client().get(url, headers=admin).json["version"] == 1 + writers
