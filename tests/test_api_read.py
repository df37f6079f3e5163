"""Reading the API: what each kind of caller sees, filters, ordering, pagination."""

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from reports.models import Alert, ExportJob, TokenScope

from .api_helpers import client, report_send, token, verify
from .moderation_fixtures import staff_user

IDENTITY_FIELDS = {"pseudonym", "observer", "uuid", "trust", "channel", "full_name", "phone"}


@pytest.fixture
def verified_report(stations, observer, moderator):
    report = report_send(stations[101], "V1", observer, description="Вброс пачки")
    verify(report, moderator)
    report.refresh_from_db()
    return report


@pytest.fixture
def unverified_report(stations, other_observer):
    return report_send(stations[201], "V3", other_observer, description="Списки")


@pytest.fixture
def staff_with_view_report(moderator):
    moderator.user_permissions.add(Permission.objects.get(codename="view_report"))
    return moderator


def test_anonymous_caller_reads_verified_reports_with_role_only(verified_report, unverified_report):
    response = client().get("/api/v1/reports/")

    assert response.status_code == 200
    (record,) = response.json()["results"]
    assert record["id"] == verified_report.pk
    assert record["reporter_role"] == "observer"
    assert not IDENTITY_FIELDS & set(record)
    assert "Сова" not in response.content.decode()


def test_public_token_sees_no_reporter_identity(verified_report):
    response = client(token(TokenScope.PUBLIC_READ)).get(f"/api/v1/reports/{verified_report.pk}/")

    assert response.status_code == 200
    assert not IDENTITY_FIELDS & set(response.json())
    assert "Сова" not in response.content.decode()
    assert "+7 900" not in response.content.decode()


def test_full_token_sees_pseudonym_and_unverified_reports_but_never_contacts(
    verified_report, unverified_report
):
    response = client(token(TokenScope.FULL_READ)).get("/api/v1/reports/")

    records = {record["id"]: record for record in response.json()["results"]}
    assert set(records) == {verified_report.pk, unverified_report.pk}
    assert records[verified_report.pk]["pseudonym"] == "Сова"
    assert records[unverified_report.pk]["pseudonym"] == "Ёж"
    body = response.content.decode()
    assert "Иванова" not in body and "+7 900" not in body


def test_staff_with_view_report_permission_reads_the_full_shape(
    verified_report, staff_with_view_report
):
    api = client()
    api.force_login(staff_with_view_report)

    record = api.get(f"/api/v1/reports/{verified_report.pk}/").json()

    assert record["pseudonym"] == "Сова"


def test_public_incidents_are_verified_only(verified_report, unverified_report):
    response = client().get("/api/v1/incidents/")

    assert [record["id"] for record in response.json()["results"]] == [verified_report.incident_id]


def test_unverified_incident_is_not_found_for_the_public(unverified_report):
    response = client().get(f"/api/v1/incidents/{unverified_report.incident_id}/")

    assert response.status_code == 404


def test_tallies_and_alerts_need_full_read(verified_report):
    public = client(token(TokenScope.PUBLIC_READ))
    full = client(token(TokenScope.FULL_READ))

    assert public.get("/api/v1/tallies/").status_code == 403
    assert public.get("/api/v1/alerts/").status_code == 403
    tallies = full.get("/api/v1/tallies/?dimension=category&key=V1").json()["results"]
    assert sum(row["count"] for row in tallies) == 1
    assert full.get("/api/v1/alerts/").status_code == 200


def test_bad_filter_values_are_400_with_field_errors(verified_report):
    response = client().get("/api/v1/reports/?station=abc&after=yesterday&category=ZZ")

    assert response.status_code == 400
    assert set(response.json()) == {"station", "after", "category"}


def test_filters_select_rows(stations, categories, observer, moderator):
    verify(report_send(stations[101], "V1", observer), moderator)
    verify(report_send(stations[102], "O1", observer), moderator)

    by_station = client().get("/api/v1/incidents/?station=102").json()["results"]
    by_phase = client().get("/api/v1/incidents/?phase=voting").json()["results"]

    assert [record["station_number"] for record in by_station] == [102]
    assert [record["category"] for record in by_phase] == ["V1"]


def test_ordering_and_cursor_pages_cover_every_row_once(stations):
    api = client()
    numbers = []
    url = "/api/v1/stations/?ordering=-number&page_size=3"
    while url:
        page = api.get(url).json()
        numbers += [record["number"] for record in page["results"]]
        url = page["next"]

    assert numbers == sorted(stations, reverse=True)


def test_categories_are_public_reference_data(categories):
    record = client().get("/api/v1/categories/V1/").json()

    assert record["name_ru"] == "Вброс бюллетеней"
    assert record["severity"] == "C"


def test_openapi_schema_is_served(db):
    response = client().get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/reports/", "/api/v1/incidents/", "/api/v1/exports/"} <= set(paths)


def test_openapi_schema_generates_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))

    assert "/api/v1/reports/" in (tmp_path / "s.yml").read_text()


@pytest.fixture
def limited_moderator(stations):
    """A staff member with full read who works on САО only (station 201)."""
    user = staff_user(None, "sao", okrugs=(stations[201].okrug,))
    user.user_permissions.add(Permission.objects.get(codename="view_report"))
    return user


def alert_at(station, incident) -> Alert:
    return Alert.objects.create(
        election=incident.election,
        rule=Alert.Rule.IMMEDIATE,
        key=f"immediate:{incident.pk}",
        okrug=station.okrug,
        station=station,
        incident=incident,
        at=incident.last_at,
    )


def listed(api, path: str) -> list[int]:
    response = api.get(path)
    assert response.status_code == 200
    return [record["id"] for record in response.json()["results"]]


def test_okrug_limited_staff_read_only_their_okrugs(
    verified_report, unverified_report, limited_moderator
):
    alert_at(verified_report.station, verified_report.incident)
    own_alert = alert_at(unverified_report.station, unverified_report.incident)
    api = client()
    api.force_login(limited_moderator)

    assert listed(api, "/api/v1/reports/") == [unverified_report.pk]
    assert listed(api, "/api/v1/incidents/") == [unverified_report.incident_id]
    assert listed(api, "/api/v1/alerts/") == [own_alert.pk]
    assert api.get(f"/api/v1/reports/{verified_report.pk}/").status_code == 404
    assert api.get(f"/api/v1/incidents/{verified_report.incident_id}/").status_code == 404


def test_okrug_limited_staff_read_only_their_places_tallies(
    verified_report, unverified_report, limited_moderator
):
    north = unverified_report.station
    api = client()
    api.force_login(limited_moderator)

    rows = api.get("/api/v1/tallies/?page_size=1000").json()["results"]

    assert {(row["dimension"], row["key"]) for row in rows} == {
        ("okrug", str(north.okrug_id)),
        ("tik", str(north.tik_id)),
        ("station", str(north.pk)),
        ("okrug_category", f"{north.okrug_id}:V3"),
    }
    assert all(row["count"] == 1 for row in rows)


def test_partner_tokens_are_not_limited_to_okrugs(
    verified_report, unverified_report, limited_moderator
):
    full = client(token(TokenScope.FULL_READ))

    assert sorted(listed(full, "/api/v1/reports/")) == sorted(
        [verified_report.pk, unverified_report.pk]
    )


def test_okrug_limited_staff_may_not_export_the_full_dataset(limited_moderator):
    api = client()
    api.force_login(limited_moderator)
    body = {"shape": "reports", "format": "csv", "scope": "full", "filters": {}}

    response = api.post("/api/v1/exports/", body, format="json")

    assert response.status_code == 403
    assert not ExportJob.objects.exists()


def test_okrug_limited_staff_may_not_export_the_full_dataset_from_the_page(limited_moderator):
    page = Client()
    page.force_login(limited_moderator)
    form = {"shape": "reports", "format": "csv", "scope": "full"}

    response = page.post("/exports/", form, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "limited to some okrugs" in response.content.decode()
    assert not ExportJob.objects.exists()
