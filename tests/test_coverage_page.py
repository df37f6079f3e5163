"""The coordinators' coverage page and its JSON: what the worker stored, by okrug and TIK,
limited to the coordinator's okrugs, with the stations that have nobody."""

import json

import pytest

from reports.services.coverage import observer_check_in

from .coverage_helpers import at, sweep
from .moderation_fixtures import client_for, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(stations):
    return staff_user("coordinator", "coordinator")


@pytest.fixture
def morning(election, stations, observer, other_observer):
    observer_check_in(observer=observer, station=stations[101], now=at(election, "07:20"))
    sweep(election, at(election, "07:30"))
    return election


def data(client, query: str = "") -> dict:
    response = client.get(f"/coverage/data.json{query}")
    assert response.status_code == 200
    return response.json()


def test_the_page_embeds_the_stored_figures(morning, coordinator):
    page = client_for(coordinator).get("/coverage/").content.decode()
    embedded = page.split('<script id="coverage-figures" type="application/json">')[1]
    figures = json.loads(embedded.split("</script>")[0])
    assert {key: figures["total"][key] for key in ("stations", "assigned", "present")} == {
        "stations": 4,
        "assigned": 2,
        "present": 1,
    }


def test_figures_are_shown_by_okrug(morning, coordinator):
    areas = {area["name"]: area["figures"] for area in data(client_for(coordinator))["areas"]}
    assert (areas["ЦАО"]["present"], areas["САО"]["present"], areas["САО"]["nobody"]) == (1, 0, 1)


def test_choosing_an_okrug_shows_its_tiks(morning, coordinator, stations):
    figures = data(client_for(coordinator), f"?okrug={stations[201].okrug_id}")
    assert [area["name"] for area in figures["areas"]] == ["Аэропорт"]
    assert [row["number"] for row in figures["stations"]] == [201, 3601]


def test_each_station_shows_its_state(morning, coordinator):
    stations = {row["number"]: row for row in data(client_for(coordinator))["stations"]}
    assert (stations[101]["state_label"], stations[101]["checked_in"]) == (
        "наблюдатель на месте",
        "07:20",
    )
    assert stations[201]["state_label"] == "нет наблюдателя"


def test_the_stations_that_need_a_call_come_first(morning, coordinator):
    order = [row["state"] for row in data(client_for(coordinator))["stations"]]
    assert order == ["absent", "nobody", "nobody", "present"]


def test_stations_are_shown_a_page_at_a_time(morning, coordinator, monkeypatch):
    monkeypatch.setattr("reports.views.coverage.STATIONS_SHOWN", 3)
    first = data(client_for(coordinator))
    second = data(client_for(coordinator), "?page=2")
    assert (first["stations_page"], first["stations_pages"], len(first["stations"])) == (1, 2, 3)
    assert [row["number"] for row in second["stations"]] == [101]
    page = client_for(coordinator).get("/coverage/").content.decode()
    assert "page=2" in page


def test_the_stations_with_nobody_are_listed(morning, coordinator):
    assert data(client_for(coordinator))["nobody"] == [102, 3601]


def test_a_state_filter_lists_only_those_stations(morning, coordinator):
    figures = data(client_for(coordinator), "?state=absent")
    assert ([row["number"] for row in figures["stations"]], figures["stations_total"]) == ([201], 1)


def test_a_coordinator_limited_to_an_okrug_sees_only_it(morning, stations):
    central = staff_user("coordinator", "central", okrugs=(stations[101].okrug,))
    figures = data(client_for(central))
    assert [area["name"] for area in figures["areas"]] == ["ЦАО"]
    assert sorted(row["number"] for row in figures["stations"]) == [101, 102]
    assert figures["total"]["stations"] == 2


def test_nothing_is_counted_by_the_page_before_the_worker_ran(election, stations, coordinator):
    assert data(client_for(coordinator))["total"]["stations"] == 0


def test_the_figures_are_fetched_again_by_the_page_script(morning, coordinator, settings):
    settings.COVERAGE_PAGE_SECONDS = 7
    page = client_for(coordinator).get("/coverage/").content.decode()
    assert "/static/reports/coverage/coverage.js" in page
    assert 'data-source="/coverage/data.json?' in page
    assert data(client_for(coordinator))["refresh_seconds"] == 7


def test_a_moderator_without_the_assignments_permission_is_refused(morning):
    moderator = staff_user("moderator", "moderator")
    assert client_for(moderator).get("/coverage/").status_code == 403
    assert client_for(moderator).get("/coverage/data.json").status_code == 403


def test_a_visitor_is_sent_to_sign_in(client, morning):
    response = client.get("/coverage/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
