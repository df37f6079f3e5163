"""The incident and report lists: queues, filters, search, and staying cheap on big tables."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports.admin.base import CappedPaginator
from reports.models import Channel, ReviewStatus, Trust

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

INCIDENTS = reverse("admin:reports_incident_changelist")
REPORTS = reverse("admin:reports_report_changelist")


def listed(client, url: str = INCIDENTS, query: str = "") -> list[int]:
    response = client.get(url + query)
    assert response.status_code == 200
    return [row.pk for row in response.context["cl"].result_list]


def test_the_default_queue_is_new_unclaimed_most_critical_first(anna, stations, categories):
    procedural = incident_make(stations[101], categories["O3"], minutes_ago=1)
    serious = incident_make(stations[101], categories["V3"], minutes_ago=2)
    old_critical = incident_make(stations[101], categories["V1"], minutes_ago=30)
    new_critical = incident_make(stations[102], categories["V2"], minutes_ago=3)
    held = incident_make(stations[201], categories["V1"])
    claim_by(held, staff_user("moderator", "boris"))
    incident_make(stations[201], categories["V1"], status=ReviewStatus.VERIFIED)

    assert listed(client_for(anna)) == [new_critical.pk, old_critical.pk, serious.pk, procedural.pk]


def test_an_incident_with_a_lapsed_claim_is_back_in_the_default_queue(anna, stations, categories):
    lapsed = incident_make(stations[101], categories["V1"])
    claim_by(lapsed, staff_user("moderator", "boris"), minutes=-1)

    assert listed(client_for(anna)) == [lapsed.pk]


@pytest.fixture
def assorted(stations, categories, anna):
    """One incident per queue, keyed by what makes it special."""
    incidents = {
        "help": incident_make(stations[101], categories["V4"], needs_mobile_group=True),
        "escalated": incident_make(stations[101], categories["V1"], status="escalated"),
        "verified": incident_make(stations[102], categories["V1"], status="verified"),
        "protocol": incident_make(stations[201], categories["T2"]),
        "mine": incident_make(stations[201], categories["R1"]),
    }
    claim_by(incidents["mine"], anna)
    return incidents


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("unclaimed", {"help", "escalated", "protocol"}),
        ("help", {"help"}),
        ("verification", {"help", "protocol", "mine"}),
        ("protocols", {"protocol"}),
        ("mine", {"mine"}),
        ("all", {"help", "escalated", "verified", "protocol", "mine"}),
    ],
)
def test_queues(queue, expected, anna, assorted):
    shown = set(listed(client_for(anna), query=f"?queue={queue}"))

    assert shown == {assorted[name].pk for name in expected}


@pytest.fixture
def spread(stations, categories):
    """Incidents that differ in one way each from a plain one at station 101."""
    plain = incident_make(stations[101], categories["V1"])
    return {
        "plain": plain,
        "north": incident_make(stations[201], categories["V1"]),
        "other_station": incident_make(stations[102], categories["V1"]),
        "counting": incident_make(stations[101], categories["C4"]),
        "serious": incident_make(stations[101], categories["V3"]),
        "phone": incident_make(stations[101], categories["R4"], channel=Channel.PHONE),
        "trusted": incident_make(stations[101], categories["V2"], trust=Trust.TRUSTED),
        "old": incident_make(stations[101], categories["H1"], minutes_ago=300),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("okrug={north}", {"north"}),
        ("tik={arbat}", "all but north"),
        ("station=102", {"other_station"}),
        ("category__code__exact=C4", {"counting"}),
        ("phase=counting", {"counting"}),
        ("severity__exact=S", {"serious"}),
        ("channel=phone", {"phone"}),
        ("trust=3", {"trusted"}),
        ("within=1h", "all but old"),
        ("q=102", {"other_station"}),
    ],
)
def test_filters(query, expected, anna, spread, stations):
    query = query.format(north=stations[201].okrug_id, arbat=stations[101].tik_id)
    if isinstance(expected, str):
        expected = set(spread) - {expected.removeprefix("all but ")}

    shown = set(listed(client_for(anna), query=f"?queue=all&{query}"))

    assert shown == {spread[name].pk for name in expected}


def test_status_filter(anna, stations, categories):
    verified = incident_make(stations[101], categories["V1"], status=ReviewStatus.VERIFIED)
    incident_make(stations[101], categories["V1"])

    assert listed(client_for(anna), query="?queue=all&status__exact=verified") == [verified.pk]


def test_search_finds_words_in_the_reports(anna, stations, categories):
    bus = incident_make(stations[101], categories["V4"], description="Два автобуса у входа")
    incident_make(stations[101], categories["V1"], description="Вброс")

    assert listed(client_for(anna), query="?queue=all&q=автобус") == [bus.pk]


def test_the_station_filter_is_a_box_keeping_the_other_filters(anna, stations):
    page = client_for(anna).get(INCIDENTS + "?queue=all&severity__exact=C").content.decode()

    assert '<input type="search" name="station"' in page
    assert '<input type="hidden" name="severity__exact" value="C">' in page


def many_incidents(stations, categories, count: int) -> None:
    codes = ["V1", "V2", "V3", "R4", "C4"]
    numbers = list(stations)
    for number in range(count):
        incident_make(stations[numbers[number % 4]], categories[codes[number % 5]], reports=1)


def test_the_list_costs_the_same_queries_for_many_rows(
    anna, stations, categories, django_assert_max_num_queries
):
    client = client_for(anna)
    many_incidents(stations, categories, 5)
    client.get(INCIDENTS)
    with CaptureQueriesContext(connection) as few:
        client.get(INCIDENTS + "?queue=all")
    many_incidents(stations, categories, 40)

    assert len(few.captured_queries) > 5  # the capture sees the page's queries
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(INCIDENTS + "?queue=all")
    assert len(response.context["cl"].result_list) == 45


def test_no_list_counts_the_whole_table(anna, stations, categories):
    many_incidents(stations, categories, 3)
    report_make(stations[101], categories["V1"])

    with CaptureQueriesContext(connection) as queries:
        client_for(anna).get(INCIDENTS + "?queue=all")
        client_for(anna).get(REPORTS)

    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the lists count their rows (capped)"
    assert all("LIMIT" in sql.upper() for sql in counts), counts


def test_beyond_the_cap_the_list_says_more_than(anna, stations, categories, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 5)
    many_incidents(stations, categories, 7)

    page = client_for(anna).get(INCIDENTS + "?queue=all").content.decode()

    assert "more than 5 incidents" in page


def test_the_report_list_shows_pseudonym_and_role_not_contacts(
    anna, stations, categories, observer
):
    report_make(stations[101], categories["V1"], observer=observer)

    page = client_for(anna).get(REPORTS).content.decode()

    assert "Сова (observer" in page
    assert observer.contact.phone not in page


def test_the_report_list_filters_by_time_received(anna, stations, categories):
    recent = report_make(stations[101], categories["V1"])
    report_make(stations[101], categories["V1"], received_at=timezone.now() - timedelta(hours=5))

    assert listed(client_for(anna), REPORTS, "?within=1h") == [recent.pk]


def test_the_report_list_costs_the_same_queries_for_many_rows(
    anna, stations, categories, observer, django_assert_max_num_queries
):
    client = client_for(anna)
    report_make(stations[101], categories["V1"], observer=observer)
    with CaptureQueriesContext(connection) as few:
        client.get(REPORTS)
    for number in range(30):
        report_make(stations[[101, 102, 201][number % 3]], categories["V2"], observer=observer)

    assert len(few.captured_queries) > 5  # the capture sees the page's queries
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(REPORTS)


def test_the_tik_filter_lists_the_tiks_of_the_chosen_okrug(anna, stations):
    client = client_for(anna)
    north = stations[201].okrug_id

    before = client.get(INCIDENTS).content.decode()
    after = client.get(f"{INCIDENTS}?okrug={north}").content.decode()

    assert "tik=" not in before
    assert f"tik={stations[201].tik_id}" in after
    assert f"tik={stations[101].tik_id}" not in after
