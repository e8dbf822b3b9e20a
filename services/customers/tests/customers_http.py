"""Assertions on HTTP answers shared by the integration tests."""
def assert_problem(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    if field is not None:
        fields = [e.get("field") for e in response.json.get("errors", [])]
        assert field in fields, response.json
    return response.json
