"""What people notice first: the site's icon, and the API documentation saying how to get in."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_site_has_an_icon(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    icon = client.get(answer["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)


def test_the_api_schema_explains_tokens_and_scopes(client):
    schema = client.get("/api/schema/?format=json").json()
    text = schema["info"]["description"]
    assert "Bearer" in text
    assert all(scope in text for scope in ("public_read", "submit", "full_read"))
