"""Tallies: every report counts once per dimension, changes move counts, duplicate runs add
nothing, and after the queue drains the incremental tallies equal a count from scratch."""

import contextlib
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from reports.domain.clustering import tallies_compute, tallies_read, tallies_totals
from reports.models import (
    Category,
    Election,
    Incident,
    Okrug,
    Report,
    ReviewStatus,
    Station,
    Tally,
    Tik,
    Trust,
)
from reports.services.aggregation import (
    report_mark_changed,
    reports_aggregate,
    tallies_recount,
)
from reports.services.incidents import (
    DecisionRefused,
    incident_merge,
    incident_reject,
    incident_split,
    incident_verify,
)

from .aggregation_helpers import MINUTE, assert_tallies_exact, observer_make, report_make


@pytest.fixture
def noon(election_day_noon):
    return election_day_noon


def hour_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def status_counts(election) -> dict[str, int]:
    return tallies_totals(election_id=election.pk, dimension=Tally.Dimension.STATUS)


@pytest.mark.django_db
def test_a_report_counts_once_in_every_dimension_in_its_hour(stations, categories, noon):
    station = stations[201]
    report = report_make(station=station, category=categories["H1"], at=noon + 5 * MINUTE)
    reports_aggregate(report_ids=[report.pk])
    rows = {(t.dimension, t.key): (t.hour, t.count) for t in Tally.objects.all()}
    expected_keys = {
        ("all", ""),
        ("station", str(station.pk)),
        ("tik", str(station.tik_id)),
        ("okrug", str(station.okrug_id)),
        ("category", "H1"),
        ("phase", "home_voting"),
        ("severity", "C"),
        ("status", "new"),
        ("okrug_category", f"{station.okrug_id}:H1"),
    }
    assert set(rows) == expected_keys
    assert set(rows.values()) == {(hour_utc(noon), 1)}


@pytest.mark.django_db
def test_a_pending_report_is_not_counted_until_claimed(stations, categories, noon):
    report_make(station=stations[101], category=categories["V1"], at=noon)
    assert tallies_read() == tallies_compute() == {}


@pytest.mark.django_db
def test_running_the_same_report_twice_counts_it_once(election, stations, categories, noon):
    report = report_make(station=stations[101], category=categories["V1"], at=noon)
    reports_aggregate(report_ids=[report.pk])
    reports_aggregate(report_ids=[report.pk])
    reports_aggregate(report_ids=[report.pk], batch=10)
    assert tallies_totals(election_id=election.pk, dimension="all") == {"": 1}
    assert_tallies_exact()


@pytest.mark.django_db
def test_a_moderators_status_change_moves_the_count(election, stations, categories, noon):
    report = report_make(station=stations[101], category=categories["V1"], at=noon)
    reports_aggregate(report_ids=[report.pk])
    Report.objects.filter(pk=report.pk).update(status=ReviewStatus.VERIFIED)
    report_mark_changed(report_ids=[report.pk])
    reports_aggregate(report_ids=[report.pk])
    assert status_counts(election) == {"verified": 1}
    assert_tallies_exact()


@pytest.mark.django_db
def test_an_edit_of_station_moves_the_count_between_okrugs(election, stations, categories, noon):
    report = report_make(station=stations[101], category=categories["V1"], at=noon)
    reports_aggregate(report_ids=[report.pk])
    Report.objects.filter(pk=report.pk).update(station=stations[201])
    report_mark_changed(report_ids=[report.pk])
    reports_aggregate(report_ids=[report.pk])
    okrugs = tallies_totals(election_id=election.pk, dimension="okrug")
    assert okrugs == {str(stations[201].okrug_id): 1}


@pytest.mark.django_db
def test_recount_repairs_drifted_tallies_and_later_changes_stay_exact(
    election, stations, categories, noon
):
    reports = [
        report_make(station=stations[n], category=categories["V3"], at=noon) for n in (101, 201)
    ]
    reports_aggregate(batch=10)
    Tally.objects.filter(dimension="all").update(count=99)
    Report.objects.filter(pk=reports[0].pk).update(status=ReviewStatus.REJECTED)
    tallies_recount()
    assert_tallies_exact()
    Report.objects.filter(pk=reports[1].pk).update(status=ReviewStatus.VERIFIED)
    report_mark_changed(report_ids=[reports[1].pk])
    reports_aggregate(batch=10)
    assert status_counts(election) == {"rejected": 1, "verified": 1}
    assert_tallies_exact()


@pytest.mark.django_db
def test_recount_check_fails_on_drift_and_recount_fixes_it(stations, categories, noon):
    report_make(station=stations[101], category=categories["V1"], at=noon)
    reports_aggregate(batch=10)
    Tally.objects.filter(dimension="category").update(count=5)
    drift = io.StringIO()
    with pytest.raises(CommandError):
        call_command("recount", "--check", stdout=drift)
    assert "category=V1" in drift.getvalue()
    call_command("recount", stdout=io.StringIO())
    call_command("recount", "--check", stdout=io.StringIO())
    assert tallies_totals(election_id=stations[101].election_id, dimension="category") == {"V1": 1}


# --- Property: any sequence of submissions, edits, moderators' merges, splits and
# decisions (through their services), duplicate task runs and recounts leaves the tallies
# equal to a recount once the queue is drained.

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("submit"),
            st.integers(0, 2),  # station
            st.sampled_from(["V1", "O3", "R4"]),
            st.integers(-1, 1),  # reporter: -1 citizen, else an observer
            st.integers(0, 180),  # minutes after 10:00
        ),
        st.tuples(st.just("aggregate"), st.integers(1, 4)),
        st.tuples(st.just("duplicate"), st.integers(0, 30)),
        st.tuples(st.just("verify"), st.integers(0, 30)),
        st.tuples(st.just("reject"), st.integers(0, 30)),
        st.tuples(st.just("merge"), st.integers(0, 30), st.integers(0, 30)),
        st.tuples(st.just("split"), st.integers(0, 30)),
        st.tuples(
            st.just("edit"), st.integers(0, 30), st.integers(0, 2), st.sampled_from(["V1", "V2"])
        ),
        st.tuples(st.just("recount")),
    ),
    max_size=25,
)


class TalliesEqualARecount(HypothesisTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.election = Election.objects.create(name="Свойство", date=dt.date(2026, 9, 13))
        okrugs = [Okrug.objects.create(election=cls.election, name=n) for n in ("A", "B")]
        tiks = [Tik.objects.create(okrug=o, name=o.name) for o in okrugs]
        cls.stations = [
            Station.objects.create(election=cls.election, okrug=t.okrug, tik=t, number=n)
            for n, t in ((1, tiks[0]), (2, tiks[0]), (3, tiks[1]))
        ]
        cls.observers = [
            observer_make(cls.stations[0], "Сыч", Trust.TRUSTED),
            observer_make(cls.stations[1], "Чиж", Trust.NEW),
        ]
        cls.moderator = get_user_model().objects.create_user(username="mod", is_staff=True)
        cls.start = dt.datetime(2026, 9, 13, 10, 0, tzinfo=dt.UTC)

    def nth(self, rows, index: int):
        rows = list(rows.order_by("pk"))
        return rows[index % len(rows)] if rows else None

    def apply(self, operation: tuple) -> None:
        name, *args = operation
        incident = self.nth(Incident.objects.all(), args[0]) if args else None
        report = self.nth(Report.objects.all(), args[0]) if args else None
        actor = self.moderator
        if name == "submit":
            station, code, reporter, minutes = args
            report_make(
                station=self.stations[station],
                category=Category.objects.get(code=code),
                observer=self.observers[reporter] if reporter >= 0 else None,
                at=self.start + minutes * MINUTE,
            )
        elif name == "aggregate":
            reports_aggregate(batch=args[0])
        elif name == "recount":
            tallies_recount()
        elif name == "duplicate" and report:
            reports_aggregate(report_ids=[report.pk])
        elif name == "verify" and incident:
            incident_verify(incident=incident, actor=actor)
        elif name == "reject" and incident:
            incident_reject(incident=incident, actor=actor, reason="не подтвердилось")
        elif name == "merge" and incident:
            other = self.nth(Incident.objects.filter(station_id=incident.station_id), args[1])
            incident_merge(target=incident, others=[other], actor=actor)
        elif name == "split" and incident:
            incident_split(
                incident=incident,
                report_ids=list(incident.reports.values_list("pk", flat=True)[:1]),
                actor=actor,
            )
        elif name == "edit" and report:
            # What an editing service must do: change the report, then mark it changed.
            Report.objects.filter(pk=report.pk).update(
                station=self.stations[args[1]], category=Category.objects.get(code=args[2])
            )
            report_mark_changed(report_ids=[report.pk])

    @hypothesis_settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(OPERATIONS)
    def test_incremental_tallies_equal_a_recount_after_the_queue_drains(self, operations):
        for operation in operations:
            with contextlib.suppress(DecisionRefused):
                self.apply(operation)
                event(operation[0])
        while reports_aggregate(batch=50):
            pass
        assert tallies_read() == tallies_compute()
        for incident in Incident.objects.all():
            assert incident.report_count == incident.reports.count()
