"""One hostile value never halts or corrupts the site: times outside the election's window,
offsets beyond ±14 h, JSON that is not storable text, unknown export filters. Each is a 4xx
in the caller's language and writes nothing; the database refuses such times from any path.
"""

import json
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from reports.models import ExportJob, Report, TokenScope

from .api_helpers import client, report_send, token

pytestmark = pytest.mark.django_db

YEAR_ONE = "0001-01-01T00:00"
WIDE_OFFSET = "2026-01-01T00:00:00+20:00"


@pytest.fixture
def partner(stations, categories):
    return client(token(TokenScope.SUBMIT, name="Горячая линия"))


@pytest.fixture
def reader(stations, categories):
    return client(token(TokenScope.FULL_READ, name="Голос"))


def body(**changes) -> dict:
    data = {
        "uuid": str(uuid.uuid4()),
        "station_number": 101,
        "category": "V2",
        "occurred_at": timezone.now().isoformat(),
    }
    return {**data, **changes}


@pytest.mark.parametrize(
    ("code", "message"),
    [("ru", "Это время раньше выборов"), ("en", "This time is before the election")],
)
def test_a_citizen_cannot_send_a_time_from_year_one(
    report_form_data, remote_addr, language, code, message
):
    citizen = language(Client(REMOTE_ADDR=remote_addr), code)
    response = citizen.post("/citizen/", report_form_data(occurred_at=YEAR_ONE))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0001-01-01T00:00:00+14:00", "This time is before the election"),
        ("9999-12-31T23:59:00-14:00", "This time is in the future"),
        ("2026-01-01T00:00:00+20:00", "A time zone offset must lie between"),
        (False, "Enter a valid date/time"),
        (12345, "Enter a valid date/time"),
        ([2026, 1, 1], "Enter a valid date/time"),
        ({"year": 2026}, "Enter a valid date/time"),
    ],
)
def test_the_api_refuses_a_time_outside_the_elections_window(partner, value, message):
    response = partner.post(
        "/api/v1/reports/", body(occurred_at=value), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert any(message in text for text in response.json()["occurred_at"])
    assert not Report.objects.exists()


@pytest.mark.parametrize("parameter", ["before", "after", "changed_since"])
@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/reports/"])
def test_an_anonymous_list_refuses_a_time_with_an_impossible_offset(stations, path, parameter):
    response = client().get(path, {parameter: WIDE_OFFSET}, HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 400
    assert response.json()[parameter] == [
        "Смещение часового пояса должно быть от −14:00 до +14:00."
    ]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:00:00-14:00"])
def test_a_list_refuses_a_time_postgresql_cannot_read(reader, value):
    for path in ("/api/v1/reports/", "/api/v1/tallies/", "/api/v1/alerts/"):
        response = reader.get(path, {"after": value}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, path
        assert "between the years 2000 and 2099" in response.json()["after"][0]


@pytest.mark.parametrize("value", [str(10**25), "-1"])
def test_a_list_refuses_an_id_no_database_stores(stations, value):
    response = client().get("/api/v1/incidents/", {"okrug": value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "okrug" in response.json()


def test_a_sync_cursor_with_an_impossible_time_is_refused(reader):
    response = reader.get("/api/v1/incidents/", {"changed_since": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400 and "changed_since" in response.json()


def test_an_export_with_an_impossible_time_is_refused_before_it_starts(reader):
    request = {"shape": "incidents", "format": "csv", "filters": {"before": WIDE_OFFSET}}
    response = reader.post("/api/v1/exports/", request, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "A time zone offset" in json.dumps(response.json()["filters"])
    assert not ExportJob.objects.exists()


def test_an_export_with_an_unknown_filter_is_refused(reader):
    request = {"shape": "reports", "format": "csv", "filters": {"statsu": "new"}}
    response = reader.post("/api/v1/exports/", request, format="json", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 400
    assert response.json()["filters"]["statsu"][0]["message"] == "Такого фильтра нет."
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"description": "\\ud800"}', "not valid Unicode"),
        ('{"description": "a\\u0000b"}', "NUL character"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("[" * 200 + "]" * 200, "nested too deeply"),
    ],
)
def test_api_bodies_that_are_not_storable_text_are_refused(partner, raw, message):
    response = partner.post(
        "/api/v1/reports/", raw, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Report.objects.exists()


def test_a_surrogate_inside_a_report_is_refused_in_russian(partner):
    raw = json.dumps(body(description="\ud800"))
    response = partner.post(
        "/api/v1/reports/", raw, content_type="application/json", HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert response.status_code == 400
    assert "одиночный суррогат" in response.json()["detail"]


def test_export_filters_with_a_nul_in_a_key_are_refused(reader):
    raw = '{"shape": "reports", "format": "csv", "filters": {"x\\u0000": "1"}}'
    response = reader.post("/api/v1/exports/", raw, content_type="application/json")

    assert response.status_code == 400
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("occurred_at", "0001-01-01 00:00:00+00"),
        ("received_at", "2999-01-01 00:00:00+00"),
        ("count", 100_001),
    ],
)
def test_the_database_refuses_an_unreadable_time_or_count_from_any_path(stations, column, value):
    report = report_send(stations[101], "V1")
    table = Report._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, report.pk])  # noqa: S608
