"""Coverage figures: what the worker stores per station and per TIK, okrug and election after
a simulated morning, and how a check-in moves them.

The stations (conftest): 101 and 102 in ЦАО (TIK Арбат), 201 and 3601 in САО (TIK Аэропорт).
"""

import pytest

from reports.models import CoverageTally, ProtocolCopy, StationCoverage
from reports.services.coverage import coverage_refresh, observer_check_in
from reports.tasks.coverage import coverage_sweep

from .aggregation_helpers import observer_make, report_make
from .coverage_helpers import at, sweep, tasks_in_process, turnout_make  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

NOTHING = {
    "stations": 0, "assigned": 0, "present": 0, "opening": 0, "turnout": {}, "protocol": 0,
    "nobody": 0, "removed": 0, "silent": 0,
}  # fmt: skip


def figures(election, level: str, key: str = "") -> dict:
    tally = CoverageTally.objects.get(election=election, level=level, key=key)
    return {name: getattr(tally, name) for name in NOTHING}


@pytest.fixture
def fox(stations):
    return observer_make(stations[102], "Лис")


@pytest.fixture
def morning(election, stations, categories, observer, other_observer, fox):
    """At 10:45: Сова at 101 reported the opening and the 10:00 count; Лис never came to 102;
    Ёж at 201 has been silent since opening; nobody is assigned to 3601."""
    observer_check_in(observer=observer, station=stations[101], now=at(election, "07:20"))
    observer_check_in(observer=other_observer, station=stations[201], now=at(election, "07:40"))
    report_make(
        station=stations[101], category=categories["O3"], observer=observer,
        at=at(election, "07:50"),
    )  # fmt: skip
    turnout_make(
        observer=observer, station=stations[101], checkpoint="10",
        received_at=at(election, "10:05"),
    )  # fmt: skip
    sweep(election, at(election, "10:45"))
    return election


def test_figures_of_a_tik_after_the_morning(morning, stations):
    central = figures(morning, "tik", str(stations[101].tik_id))
    assert central == NOTHING | {
        "stations": 2, "assigned": 2, "present": 1, "opening": 1, "turnout": {"10": 1},
    }  # fmt: skip


def test_figures_of_an_okrug_after_the_morning(morning, stations):
    north = figures(morning, "okrug", str(stations[201].okrug_id))
    assert north == NOTHING | {
        "stations": 2, "assigned": 1, "present": 1, "nobody": 1, "silent": 1,
    }  # fmt: skip


def test_figures_of_the_election_after_the_morning(morning):
    assert figures(morning, "election") == NOTHING | {
        "stations": 4, "assigned": 3, "present": 2, "opening": 1, "turnout": {"10": 1},
        "nobody": 1, "silent": 1,
    }  # fmt: skip


def test_each_station_has_its_state(morning):
    states = dict(StationCoverage.objects.values_list("number", "state"))
    assert states == {101: "present", 102: "absent", 201: "present", 3601: "nobody"}


def test_a_station_row_keeps_the_times_of_check_in_and_last_message(morning):
    row = StationCoverage.objects.get(number=101)
    assert (row.checked_in_at, row.last_message_at) == (
        at(morning, "07:20"),
        at(morning, "10:05"),
    )
    assert row.checkpoints == ["10"]


def test_a_check_in_refreshes_its_station_tik_okrug_and_total(morning, fox, stations):
    observer_check_in(observer=fox, station=stations[102], now=at(morning, "10:50"))
    coverage_refresh(election=morning, now=at(morning, "10:50"), station_ids=[stations[102].pk])
    assert StationCoverage.objects.get(number=102).state == "present"
    assert figures(morning, "tik", str(stations[102].tik_id))["present"] == 2
    assert figures(morning, "okrug", str(stations[102].okrug_id))["present"] == 2
    assert figures(morning, "election")["present"] == 3


def test_a_protocol_copy_counts_as_sent(morning, stations, observer):
    ProtocolCopy.objects.create(
        election=morning, station=stations[101], observer=observer, channel="web",
        lines={}, content_hash="0" * 64, received_at=at(morning, "23:40"),
    )  # fmt: skip
    sweep(morning, at(morning, "23:45"))
    assert figures(morning, "election")["protocol"] == 1
    assert StationCoverage.objects.get(number=101).last_message_at == at(morning, "23:40")


def test_a_second_run_at_the_same_time_changes_no_row(morning):
    assert sweep(morning, at(morning, "10:45")) == 0


@pytest.mark.usefixtures("tasks_in_process")
def test_the_check_in_is_taken_into_account_by_a_worker_after_commit(
    election, stations, observer, django_capture_on_commit_callbacks
):
    sweep(election, at(election, "07:00"))
    with django_capture_on_commit_callbacks(execute=True):
        observer_check_in(observer=observer, station=stations[101])
    assert StationCoverage.objects.get(number=101).state == "present"
    assert figures(election, "election")["present"] == 1


def test_the_periodic_task_covers_every_station_of_active_elections(election, stations):
    coverage_sweep()
    assert StationCoverage.objects.count() == 4
    assert figures(election, "election")["nobody"] == 4
