"""Sending reports through the API: the web form's validation, stored exactly once."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from reports.forms.reports import ReportForm
from reports.models import Channel, Report, ReporterRole, TokenScope

from .api_helpers import client, token


@pytest.fixture
def partner(stations, categories):
    return client(token(TokenScope.SUBMIT, name="Горячая линия"))


def payload(**changes) -> dict:
    body = {
        "uuid": str(uuid.uuid4()),
        "station_number": 101,
        "category": "V2",
        "occurred_at": timezone.now().isoformat(),
        "description": "Карусель: автобус с одними и теми же людьми",
        "count": 12,
        "police_called": True,
    }
    return {**body, **changes}


def test_a_submit_token_stores_a_report(partner, election):
    body = payload()

    response = partner.post("/api/v1/reports/", body, format="json")

    assert response.status_code == 201
    report = Report.objects.get(uuid=body["uuid"])
    assert response.json()["id"] == report.pk
    assert (report.station.number, report.category_id, report.count) == (101, "V2", 12)
    assert report.police_called and report.channel == Channel.API
    assert report.reporter_role == ReporterRole.CITIZEN and report.observer is None


def test_sending_the_same_report_twice_stores_it_once(partner):
    body = payload()

    first = partner.post("/api/v1/reports/", body, format="json")
    second = partner.post("/api/v1/reports/", body, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert Report.objects.filter(uuid=body["uuid"]).count() == 1


def test_the_same_uuid_with_other_content_is_a_conflict(partner):
    body = payload()
    partner.post("/api/v1/reports/", body, format="json")

    response = partner.post("/api/v1/reports/", {**body, "count": 13}, format="json")

    assert response.status_code == 409
    assert Report.objects.get(uuid=body["uuid"]).count == 12


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"station_number": 999}, "station_number"),
        ({"category": "T2"}, "category"),  # raised by the system only
        ({"category": "X1", "description": ""}, "description"),
        ({"occurred_at": (timezone.now() + dt.timedelta(days=1)).isoformat()}, "occurred_at"),
        ({"count": -1}, "count"),
        ({"uuid": "not-a-uuid"}, "uuid"),
    ],
)
def test_the_api_refuses_what_the_web_form_refuses(partner, election, changes, field):
    body = payload(**changes)
    form = ReportForm(data=body, election=election)

    response = partner.post("/api/v1/reports/", body, format="json")

    assert not form.is_valid() and field in form.errors
    assert response.status_code == 400
    assert response.json()[field] == form.errors[field]
    assert not Report.objects.exists()


def test_an_observer_signed_in_on_the_site_reports_as_themself(observer_client, observer):
    api = client()
    api.cookies = observer_client.cookies

    response = api.post("/api/v1/reports/", payload(), format="json")

    assert response.status_code == 201
    report = Report.objects.get(pk=response.json()["id"])
    assert report.observer == observer
    assert report.reporter_role == ReporterRole.OBSERVER


def test_an_anonymous_caller_cannot_submit(stations, categories):
    response = client().post("/api/v1/reports/", payload(), format="json")

    assert response.status_code in (401, 403)
    assert not Report.objects.exists()


def test_reports_are_accepted_while_the_cache_is_down(partner, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    body = payload()

    response = partner.post("/api/v1/reports/", body, format="json")

    assert response.status_code == 201
    assert Report.objects.filter(uuid=body["uuid"]).exists()
    assert "rate limit address not checked: the cache is down" in caplog.text
