"""The headquarters dashboard: figures from the tallies, refreshed by the page itself."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports.models import Alert, ReviewStatus, Tally

from .moderation_fixtures import (
    anna_fixture,
    claim_by,
    client_for,
    english_fixture,
    incident_make,
    report_make,
    staff_user,
)

USED_FIXTURES = (anna_fixture, english_fixture)  # pytest finds them among the module's names

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DATA = reverse("admin:reports_dashboard_data")
PAGE = reverse("admin:reports_dashboard")


def tally(election, dimension: str, key: str, count: int, hour: dt.datetime) -> None:
    Tally.objects.create(election=election, dimension=dimension, key=key, hour=hour, count=count)


@pytest.fixture
def tallies(election, stations, election_day_noon):
    """What the aggregation job would have counted: 7 reports, 5 of them V1, 2 of them C4."""
    ten, noon = election_day_noon - dt.timedelta(hours=2), election_day_noon
    central, north = stations[101].okrug_id, stations[201].okrug_id
    for dimension, key, count, hour in [
        ("all", "", 3, ten),
        ("all", "", 4, noon),
        ("phase", "voting", 3, ten),
        ("phase", "voting", 2, noon),
        ("phase", "counting", 2, noon),
        ("category", "V1", 5, ten),
        ("category", "C4", 2, noon),
        ("status", "new", 6, noon),
        ("status", "verified", 1, noon),
        ("severity", "C", 7, noon),
        ("okrug_category", f"{central}:V1", 4, ten),
        ("okrug_category", f"{north}:V1", 1, ten),
        ("okrug_category", f"{north}:C4", 2, noon),
    ]:
        tally(election, dimension, key, count, hour)


def figures(client) -> dict:
    response = client.get(DATA)
    assert response.status_code == 200
    return response.json()


def test_the_figures_are_read_from_the_tallies(anna, tallies):
    data = figures(client_for(anna))

    assert data["totals"]["reports"] == 7
    status = {row["key"]: row["count"] for row in data["totals"]["status"]}
    assert status == {"new": 6, "verified": 1, "rejected": 0, "escalated": 0}
    assert [(c["code"], c["count"]) for c in data["top_categories"]] == [("V1", 5), ("C4", 2)]
    assert [(h["label"], h["counts"]) for h in data["hours"]] == [
        ("10:00", {"voting": 3}),
        ("12:00", {"voting": 2, "counting": 2}),
    ]


def test_reports_are_never_counted_in_the_request(anna, stations, categories, election):
    for _ in range(3):
        report_make(stations[101], categories["V1"])

    with CaptureQueriesContext(connection) as queries:
        data = figures(client_for(anna))

    assert data["totals"]["reports"] == 0  # nothing aggregated yet
    assert not [q for q in queries.captured_queries if '"reports_report"' in q["sql"]]


def test_the_okrug_by_category_table(anna, tallies, stations):
    table = figures(client_for(anna))["okrug_category"]

    central, north = str(stations[101].okrug_id), str(stations[201].okrug_id)
    assert [category["code"] for category in table["categories"]] == ["V1", "C4"]
    assert table["cells"] == {central: {"V1": 4}, north: {"V1": 1, "C4": 2}}


def test_a_limited_moderator_sees_only_their_okrugs_in_the_table(tallies, stations):
    limited = staff_user("moderator", "limited", okrugs=(stations[201].okrug,))

    table = figures(client_for(limited))["okrug_category"]

    assert [okrug["name"] for okrug in table["okrugs"]] == ["САО"]
    assert list(table["cells"]) == [str(stations[201].okrug_id)]


def test_incidents_waiting_longest_come_first_with_their_holder(anna, stations, categories):
    recent = incident_make(stations[101], categories["V1"], minutes_ago=2)
    oldest = incident_make(stations[102], categories["V2"], minutes_ago=90)
    incident_make(stations[101], categories["V1"], minutes_ago=300, status=ReviewStatus.VERIFIED)
    claim_by(oldest, anna)

    waiting = figures(client_for(anna))["waiting"]

    assert [row["id"] for row in waiting] == [oldest.pk, recent.pk]
    assert waiting[0]["holder"] == "Anna"
    assert waiting[0]["minutes"] >= 90


def test_alerts_of_other_okrugs_are_not_shown_to_a_limited_moderator(election, stations):
    for station in (stations[101], stations[201]):
        Alert.objects.create(
            election=election,
            rule=Alert.Rule.IMMEDIATE,
            key=f"immediate:{station.pk}",
            okrug=station.okrug,
            station=station,
            count=1,
            at=timezone.now(),
        )
    limited = staff_user("moderator", "limited", okrugs=(stations[101].okrug,))

    alerts = figures(client_for(limited))["alerts"]

    assert [alert["okrug"] for alert in alerts] == ["ЦАО"]
    assert "station 101" in alerts[0]["message"]


def test_the_page_embeds_the_figures_and_loads_only_local_scripts(anna, tallies):
    page = client_for(anna).get(PAGE).content.decode()

    assert '<script id="dashboard-figures" type="application/json">' in page
    assert 'src="/static/reports/admin/dashboard.js"' in page
    scripts = re.findall(r"<script([^>]*)>", page)
    assert all("src=" in attrs or "application/json" in attrs for attrs in scripts), scripts
    assert "http://" not in " ".join(scripts) and "https://" not in " ".join(scripts)
