"""Silence alerts over a simulated morning: who did not check in, which station went quiet,
which turnout count is missing, who was removed. Each alert fires once, at its time, for the
coordinators of its okrug only.

The stations (conftest): 101 and 102 in ЦАО, 201 and 3601 in САО. Сова is assigned to 101,
Лис to 102, Ёж to 201; nobody to 3601. Default rules: check in by 08:30, silence of 120 min,
turnout counts due 30 min after 10:00, 12:00, 15:00 and 18:00.
"""

import datetime as dt

import pytest

from reports.models import Alert, AlertDelivery, Assignment, CoverageRules
from reports.services.alerts import alert_subscription_create
from reports.services.coverage import assignment_set_status, observer_check_in

from .aggregation_helpers import observer_make, report_make
from .coverage_helpers import alerts_seen, at, sweep, turnout_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def fox(stations):
    return observer_make(stations[102], "Лис")


@pytest.fixture
def day(election, stations, categories, observer, other_observer, fox):
    """The morning up to 08:00: Сова and Ёж checked in, Сова reported the opening."""
    alert_subscription_create(okrug=stations[101].okrug, email="cao@hq.example")
    alert_subscription_create(okrug=stations[201].okrug, email="sao@hq.example")
    observer_check_in(observer=observer, station=stations[101], now=at(election, "07:20"))
    observer_check_in(observer=other_observer, station=stations[201], now=at(election, "07:40"))
    report_make(
        station=stations[101], category=categories["O3"], observer=observer,
        at=at(election, "07:50"),
    )  # fmt: skip
    return election


def test_nothing_fires_before_the_check_in_deadline(day):
    for time in ("07:00", "08:00", "08:29"):
        sweep(day, at(day, time))
    assert alerts_seen() == []


def test_an_observer_not_checked_in_by_the_deadline_raises_one_alert(day):
    sweep(day, at(day, "08:30"))
    sweep(day, at(day, "08:45"))
    assert alerts_seen() == [("not_checked_in", 102, "08:30")]


def test_the_alert_goes_to_the_coordinators_of_that_okrug_only(day):
    sweep(day, at(day, "08:30"))
    deliveries = AlertDelivery.objects.select_related("subscription")
    assert [d.subscription.email for d in deliveries] == ["cao@hq.example"]


def test_the_message_names_the_station_and_the_deadline(day):
    sweep(day, at(day, "08:30"))
    alert = Alert.objects.get()
    assert alert.message() == "Наблюдатель участка 102 не отметился через 30 мин после открытия"


def test_an_observer_checked_in_late_still_had_their_alert_once(day, fox, stations):
    sweep(day, at(day, "08:30"))
    observer_check_in(observer=fox, station=stations[102], now=at(day, "09:10"))
    sweep(day, at(day, "09:15"))
    assert alerts_seen() == [("not_checked_in", 102, "08:30")]


def test_a_station_quiet_for_two_hours_of_voting_raises_one_alert(day):
    for time in ("09:59", "10:00", "10:20"):
        sweep(day, at(day, time))
    # Ёж checked in at 07:40 and said nothing since; silence counts from opening at 08:00.
    # Сова's last word was at 07:50: both stations are silent at 10:00.
    silent = [seen for seen in alerts_seen() if seen[0] == "station_silent"]
    assert silent == [("station_silent", 101, "10:00"), ("station_silent", 201, "10:00")]


def test_a_message_ends_the_silence_and_a_new_silence_alerts_again(
    day, fox, stations, categories, observer
):
    observer_check_in(observer=fox, station=stations[102], now=at(day, "07:30"))
    report_make(station=stations[102], category=categories["V3"], observer=fox, at=at(day, "09:00"))
    sweep(day, at(day, "10:00"))
    assert ("station_silent", 102, "10:00") not in alerts_seen()
    sweep(day, at(day, "11:00"))
    report_make(station=stations[102], category=categories["V3"], observer=fox, at=at(day, "11:30"))
    sweep(day, at(day, "13:30"))
    quiet_102 = [seen for seen in alerts_seen() if seen[:2] == ("station_silent", 102)]
    assert quiet_102 == [("station_silent", 102, "11:00"), ("station_silent", 102, "13:30")]


def test_a_missed_turnout_checkpoint_raises_one_alert_when_due(day, stations, observer):
    turnout_make(
        observer=observer, station=stations[101], checkpoint="10", received_at=at(day, "10:05")
    )
    sweep(day, at(day, "10:29"))
    assert [seen for seen in alerts_seen() if seen[0] == "checkpoint_missed"] == []
    sweep(day, at(day, "10:30"))
    sweep(day, at(day, "10:45"))
    assert [seen for seen in alerts_seen() if seen[0] == "checkpoint_missed"] == [
        ("checkpoint_missed", 201, "10:30")
    ]


def test_a_checkpoint_before_the_observer_arrived_is_not_missed(day, fox, stations):
    observer_check_in(observer=fox, station=stations[102], now=at(day, "10:10"))
    sweep(day, at(day, "10:45"))
    missed = [seen[1] for seen in alerts_seen() if seen[0] == "checkpoint_missed"]
    assert 102 not in missed


def test_an_observer_reported_removed_and_then_marked_removed_raises_one_alert(
    day, stations, categories, observer, moderator
):
    report_make(
        station=stations[101], category=categories["R1"], observer=observer,
        at=at(day, "09:15"),
    )  # fmt: skip
    sweep(day, at(day, "09:16"))
    assignment = Assignment.objects.get(observer=observer, station=stations[101])
    assignment_set_status(
        assignment=assignment, status=Assignment.Status.REMOVED, actor=moderator,
        now=at(day, "09:20"),
    )  # fmt: skip
    sweep(day, at(day, "09:21"))
    removed = [seen for seen in alerts_seen() if seen[0] == "observer_removed"]
    assert removed == [("observer_removed", 101, "09:15")]


def test_a_coordinator_marking_an_observer_removed_raises_an_alert(day, fox, moderator):
    assignment = Assignment.objects.get(observer=fox)
    assignment_set_status(assignment=assignment, status=Assignment.Status.REMOVED, actor=moderator)
    sweep(day, at(day, "08:10"))
    assert alerts_seen() == [("observer_removed", 102, "08:10")]


def test_a_flood_of_alerts_goes_out_over_several_runs_earliest_first(day, settings):
    settings.COVERAGE_ALERTS_PER_RUN = 1
    sweep(day, at(day, "10:00"))
    assert alerts_seen() == [("not_checked_in", 102, "08:30")]
    sweep(day, at(day, "10:00"))
    sweep(day, at(day, "10:00"))
    sweep(day, at(day, "10:00"))
    assert len(alerts_seen()) == 3


def test_rules_are_settings_of_the_election(day):
    CoverageRules.objects.create(election=day, checkin_minutes=60, alerts_enabled=True)
    sweep(day, at(day, "08:30"))
    assert alerts_seen() == []
    sweep(day, at(day, "09:00"))
    assert alerts_seen() == [("not_checked_in", 102, "09:00")]


def test_an_election_can_turn_silence_alerts_off(day):
    CoverageRules.objects.create(election=day, alerts_enabled=False)
    sweep(day, at(day, "12:00"))
    assert alerts_seen() == []


def test_no_alert_is_raised_after_election_day(day):
    next_day = at(day, "12:00") + dt.timedelta(days=1)
    sweep(day, next_day)
    assert alerts_seen() == []


def test_the_whole_morning_raises_exactly_these_alerts_once_each(
    day, fox, stations, categories, observer, other_observer, moderator
):
    """The worker runs every five minutes from 07:00 to 12:45 while the morning unfolds."""

    def report(number, reporter, code):
        return lambda time: report_make(
            station=stations[number], category=categories[code], observer=reporter,
            at=at(day, time),
        )  # fmt: skip

    def turnout(time):
        turnout_make(
            observer=observer, station=stations[101], checkpoint="10", received_at=at(day, time)
        )

    def fox_arrives(time):
        observer_check_in(observer=fox, station=stations[102], now=at(day, time))

    def coordinator_marks_removed(time):
        assignment = Assignment.objects.get(observer=observer)
        assignment_set_status(
            assignment=assignment, status="removed", actor=moderator, now=at(day, time)
        )

    events = {
        "09:30": report(101, observer, "V3"),
        "10:05": turnout,
        "11:00": fox_arrives,
        "11:10": report(201, other_observer, "V4"),
        "11:15": report(101, observer, "R1"),
        "11:20": coordinator_marks_removed,
    }
    for minute in range(7 * 60, 12 * 60 + 50, 5):
        time = f"{minute // 60:02d}:{minute % 60:02d}"
        if time in events:
            events[time](time)
        sweep(day, at(day, time))
    assert alerts_seen() == [
        ("checkpoint_missed", 102, "12:30"),
        ("checkpoint_missed", 201, "10:30"),
        ("checkpoint_missed", 201, "12:30"),
        ("not_checked_in", 102, "08:30"),
        ("observer_removed", 101, "11:15"),
        ("station_silent", 201, "10:00"),
    ]
    assert Alert.objects.count() == len(set(Alert.objects.values_list("key", flat=True))) == 6
