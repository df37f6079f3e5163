"""Reports become incidents: the clustering window, corroboration, severity, confidence,
moderators' decisions left alone, and claims that make a second run a no-op."""

import pytest

from reports.models import Incident, Report, ReviewStatus, Severity, Trust
from reports.services.aggregation import (
    incident_recompute,
    report_mark_changed,
    reports_aggregate,
)
from reports.tasks.aggregation import aggregate_pending, aggregate_report

from .aggregation_helpers import MINUTE, observer_make, report_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def noon(election_day_noon):
    return election_day_noon


@pytest.fixture
def station(stations):
    return stations[101]


def aggregate(*reports: Report) -> int:
    return reports_aggregate(report_ids=[r.pk for r in reports])


def incident_of(report: Report) -> Incident:
    report.refresh_from_db()
    return report.incident


def test_reports_of_one_category_at_one_station_within_the_window_make_one_incident(
    station, categories, noon
):
    first = report_make(station=station, category=categories["V1"], at=noon)
    second = report_make(station=station, category=categories["V1"], at=noon + 20 * MINUTE)
    aggregate(first, second)
    incident = incident_of(first)
    assert incident == incident_of(second)
    assert (incident.report_count, incident.first_at, incident.last_at) == (
        2,
        first.received_at,
        second.received_at,
    )


def test_a_report_exactly_one_window_later_joins_the_incident(station, categories, noon):
    first = report_make(station=station, category=categories["V1"], at=noon)
    aggregate(first)
    edge = report_make(station=station, category=categories["V1"], at=noon + 45 * MINUTE)
    aggregate(edge)
    assert incident_of(edge) == incident_of(first)


def test_a_report_a_second_past_the_window_starts_a_new_incident(station, categories, noon):
    first = report_make(station=station, category=categories["V1"], at=noon)
    aggregate(first)
    late = report_make(
        station=station, category=categories["V1"], at=noon + 45 * MINUTE + MINUTE / 60
    )
    aggregate(late)
    assert incident_of(late) != incident_of(first)
    assert Incident.objects.count() == 2


def test_the_window_bounds_the_whole_incident_not_each_step(station, categories, noon):
    times = [noon, noon + 30 * MINUTE, noon + 60 * MINUTE]
    reports = [report_make(station=station, category=categories["V2"], at=t) for t in times]
    aggregate(*reports)
    first, second, third = (incident_of(r) for r in reports)
    assert first == second
    assert third != first


def test_another_category_or_station_makes_another_incident(stations, categories, noon):
    here = report_make(station=stations[101], category=categories["V1"], at=noon)
    other_category = report_make(station=stations[101], category=categories["V2"], at=noon)
    other_station = report_make(station=stations[102], category=categories["V1"], at=noon)
    aggregate(here, other_category, other_station)
    assert len({incident_of(r).pk for r in (here, other_category, other_station)}) == 3


def test_the_same_observer_reporting_twice_is_one_reporter(station, categories, observer, noon):
    reports = [
        report_make(station=station, category=categories["V1"], at=noon, observer=observer),
        report_make(
            station=station, category=categories["V1"], at=noon + MINUTE, observer=observer
        ),
    ]
    aggregate(*reports)
    incident = incident_of(reports[0])
    assert (incident.report_count, incident.reporter_count) == (2, 1)


def test_each_citizen_report_counts_as_a_reporter(station, categories, noon):
    reports = [report_make(station=station, category=categories["V1"], at=noon) for _ in "ab"]
    aggregate(*reports)
    assert incident_of(reports[0]).reporter_count == 2


def test_confidence_follows_the_reporters_trust(stations, categories, noon):
    trusted = observer_make(stations[101], "Филин", Trust.TRUSTED)
    new = observer_make(stations[102], "Галка", Trust.NEW)
    by_trusted = report_make(
        station=stations[101], category=categories["V1"], at=noon, observer=trusted
    )
    by_new = report_make(station=stations[102], category=categories["V1"], at=noon, observer=new)
    by_citizen = report_make(station=stations[201], category=categories["V1"], at=noon)
    aggregate(by_trusted, by_new, by_citizen)
    confidence = [incident_of(r).confidence for r in (by_trusted, by_new, by_citizen)]
    assert confidence == [0.8, 0.4, 0.2]


def test_corroboration_raises_confidence(station, categories, noon):
    one = report_make(station=station, category=categories["V1"], at=noon)
    aggregate(one)
    alone = incident_of(one).confidence
    aggregate(report_make(station=station, category=categories["V1"], at=noon + MINUTE))
    assert incident_of(one).confidence == pytest.approx(1 - 0.8 * 0.8)
    assert incident_of(one).confidence > alone


def test_three_reporters_raise_severity_one_step(station, categories, noon):
    reports = [
        report_make(station=station, category=categories["O3"], at=noon + i * MINUTE)
        for i in range(3)
    ]
    aggregate(*reports[:2])
    assert incident_of(reports[0]).severity == Severity.PROCEDURAL
    aggregate(reports[2])
    assert incident_of(reports[0]).severity == Severity.SERIOUS


def test_a_call_for_a_mobile_group_makes_a_procedural_incident_serious(station, categories, noon):
    report = report_make(
        station=station, category=categories["O3"], at=noon, needs_mobile_group=True
    )
    aggregate(report)
    incident = incident_of(report)
    assert (incident.severity, incident.needs_mobile_group) == (Severity.SERIOUS, True)


def test_rejected_reports_are_no_witnesses(station, categories, noon):
    kept = report_make(station=station, category=categories["V1"], at=noon)
    rejected = report_make(
        station=station, category=categories["V1"], at=noon, status=ReviewStatus.REJECTED
    )
    aggregate(kept, rejected)
    incident = incident_of(kept)
    assert (incident.report_count, incident.confidence) == (2, 0.2)


def test_a_new_report_joins_a_verified_incident(station, categories, noon):
    first = report_make(station=station, category=categories["V1"], at=noon)
    aggregate(first)
    Incident.objects.filter(pk=incident_of(first).pk).update(status=ReviewStatus.VERIFIED)
    later = report_make(station=station, category=categories["V1"], at=noon + MINUTE)
    aggregate(later)
    assert incident_of(later) == incident_of(first)
    assert incident_of(first).status == ReviewStatus.VERIFIED


def test_a_new_report_does_not_join_a_rejected_incident(station, categories, noon):
    first = report_make(station=station, category=categories["V1"], at=noon)
    aggregate(first)
    Incident.objects.filter(pk=incident_of(first).pk).update(status=ReviewStatus.REJECTED)
    later = report_make(station=station, category=categories["V1"], at=noon + MINUTE)
    aggregate(later)
    assert incident_of(later) != incident_of(first)
    assert incident_of(first).status == ReviewStatus.REJECTED


def test_reaggregation_keeps_a_moderators_split(station, categories, noon):
    reports = [
        report_make(station=station, category=categories["V1"], at=noon + i * MINUTE)
        for i in range(2)
    ]
    aggregate(*reports)
    original = incident_of(reports[0])
    split_off = Incident.objects.create(
        election=station.election,
        station=station,
        category=categories["V1"],
        severity="C",
        first_at=noon,
        last_at=noon,
        pinned_by_moderator=True,
    )
    Report.objects.filter(pk=reports[1].pk).update(incident=split_off)
    incident_recompute(incident=original)
    incident_recompute(incident=split_off)
    report_mark_changed(report_ids=[r.pk for r in reports])
    aggregate(*reports)
    assert incident_of(reports[1]) == split_off
    assert incident_of(reports[0]).report_count == 1


def test_an_edited_category_moves_the_report_to_a_matching_incident(station, categories, noon):
    report = report_make(station=station, category=categories["V1"], at=noon)
    aggregate(report)
    old = incident_of(report)
    Report.objects.filter(pk=report.pk).update(category=categories["V2"])
    report_mark_changed(report_ids=[report.pk])
    aggregate(report)
    new = incident_of(report)
    old.refresh_from_db()
    assert (new.category_id, old.report_count) == ("V2", 0)


def test_incident_recompute_counts_the_reports_now_in_the_incident(station, categories, noon):
    reports = [
        report_make(station=station, category=categories["V1"], at=noon + i * MINUTE)
        for i in range(3)
    ]
    aggregate(*reports)
    incident = incident_of(reports[0])
    Report.objects.filter(pk=reports[2].pk).update(incident=None)
    incident = incident_recompute(incident=incident)
    assert (incident.report_count, incident.last_at) == (2, reports[1].received_at)


def test_a_second_run_for_the_same_report_claims_nothing(station, categories, noon):
    report = report_make(station=station, category=categories["V1"], at=noon)
    assert aggregate(report) == 1
    assert aggregate(report) == 0
    assert incident_of(report).report_count == 1
    assert Incident.objects.count() == 1


def test_the_task_takes_pending_reports_along(station, categories, noon):
    reports = [report_make(station=station, category=categories["V1"], at=noon) for _ in "abc"]
    assert aggregate_report(reports[0].pk) == 3
    assert not Report.objects.filter(aggregated_at__isnull=True).exists()


def test_the_sweep_aggregates_every_pending_report_in_batches(settings, stations, categories, noon):
    settings.AGGREGATION_BATCH_SIZE = 2
    for number in (101, 102, 201, 3601, 101):
        report_make(station=stations[number], category=categories["V3"], at=noon)
    assert aggregate_pending() == 5
    assert not Report.objects.filter(aggregated_at__isnull=True).exists()
    assert Incident.objects.count() == 4
