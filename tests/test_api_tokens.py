"""Partner tokens: issued by administrators, stored hashed, scoped, revocable, rate-limited."""

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from reports.models import PartnerToken, TokenScope
from reports.services.partners import partner_token_create, partner_token_revoke

from .api_helpers import client, token


@pytest.fixture
def admin_client(db) -> Client:
    admin = get_user_model().objects.create_superuser(username="admin", password=None)
    browser = Client()
    browser.force_login(admin)
    return browser


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    cache.clear()


def test_admin_creates_a_token_and_sees_it_once(admin_client):
    response = admin_client.post(
        "/admin/reports/partnertoken/add/", {"name": "Голос", "scope": TokenScope.FULL_READ}
    )

    stored = PartnerToken.objects.get(name="Голос")
    raw = response.context["raw_token"]
    assert response.status_code == 200
    assert raw.startswith(stored.prefix)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert (
        raw
        not in admin_client.get(f"/admin/reports/partnertoken/{stored.pk}/change/").content.decode()
    )


def test_saving_a_tokens_page_issues_no_new_token(admin_client):
    partner, _raw = partner_token_create(name="Карта", scope=TokenScope.PUBLIC_READ)

    admin_client.post(f"/admin/reports/partnertoken/{partner.pk}/change/", {"name": "Другое"})

    assert list(PartnerToken.objects.values_list("name", flat=True)) == ["Карта"]


def test_admin_revokes_selected_tokens(admin_client):
    partner, _raw = partner_token_create(name="Карта", scope=TokenScope.PUBLIC_READ)

    admin_client.post(
        "/admin/reports/partnertoken/",
        {"action": "revoke", "_selected_action": [partner.pk]},
    )

    partner.refresh_from_db()
    assert partner.revoked_at is not None


def test_only_the_hash_of_a_token_is_stored(db):
    partner, raw = partner_token_create(name="Газета", scope=TokenScope.PUBLIC_READ)

    assert raw not in {partner.token_hash, partner.prefix, partner.name}
    assert len(partner.token_hash) == 64


def test_a_request_records_the_tokens_last_use(db):
    partner, raw = partner_token_create(name="Газета", scope=TokenScope.PUBLIC_READ)

    client(raw).get("/api/v1/categories/")

    partner.refresh_from_db()
    assert partner.last_used_at is not None


def test_an_unknown_token_is_refused_not_ignored(db):
    response = client("obs_not-a-real-token").get("/api/v1/categories/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused(db):
    partner, raw = partner_token_create(name="Газета", scope=TokenScope.FULL_READ)
    partner_token_revoke(token=partner)

    assert client(raw).get("/api/v1/tallies/").status_code == 401


def test_a_public_token_cannot_submit_reports(stations, categories):
    response = client(token(TokenScope.PUBLIC_READ)).post("/api/v1/reports/", {}, format="json")

    assert response.status_code == 403


def test_a_public_token_cannot_start_a_full_export(db):
    response = client(token(TokenScope.PUBLIC_READ)).post(
        "/api/v1/exports/", {"shape": "reports", "format": "csv", "scope": "full"}, format="json"
    )

    assert response.status_code == 403


def test_requests_past_the_token_rate_are_throttled(db, settings):
    settings.API_THROTTLE_RATES = {"address": "1000/min", "token": "3/min"}
    raw = token(TokenScope.PUBLIC_READ)

    statuses = [client(raw).get("/api/v1/categories/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_requests_past_the_address_rate_are_throttled(db, settings):
    settings.API_THROTTLE_RATES = {"address": "2/min", "token": "1000/min"}
    anonymous = client()

    statuses = [anonymous.get("/api/v1/categories/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert client().get("/api/v1/categories/").status_code == 200  # another address
