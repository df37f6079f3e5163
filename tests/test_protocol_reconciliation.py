"""Several copies of one station reconciled field by field; a copy differing from the official
result by more than the tolerance raises a T2 report, once."""

import datetime as dt
import uuid

import pytest

from reports.domain.protocol_checks import template_load
from reports.models import Channel, OfficialResult, Report, StationReconciliation
from reports.services.protocols import (
    ProtocolCopyInput,
    protocol_copy_submit,
    results_aggregate,
    station_reconcile,
)

from .coverage_helpers import tasks_in_process  # noqa: F401 (a fixture)

KEYS = ["voters", "received", "early", "inside", "outside", "cancelled", "portable",
        "stationary", "invalid", "valid", "lost", "unaccounted", "c1", "c2"]  # fmt: skip
LINES = dict(zip(KEYS, [1000, 600, 0, 480, 20, 100, 20, 480, 10, 490, 0, 0, 300, 190], strict=True))


@pytest.fixture
def protocol_form(election, categories):
    election.protocol_template = template_load("federal-12", ["Иванов", "Петров"])
    election.save()
    return election


def send_copy(station, observer=None, minutes: int = 0, **changes):
    copy, _created = protocol_copy_submit(
        data=ProtocolCopyInput(uuid=uuid.uuid4(), station=station, lines=LINES | changes),
        observer=observer,
    )
    copy.received_at += dt.timedelta(minutes=minutes)
    copy.save(update_fields=["received_at"])
    return copy


def official(station, **changes) -> OfficialResult:
    return OfficialResult.objects.create(
        election=station.election, region="Город N", tik=station.tik.name, uik=station.number,
        station=station, lines=LINES | changes,
    )  # fmt: skip


def test_agreeing_copies_are_not_flagged(protocol_form, stations, observer, other_observer):
    send_copy(stations[101], observer)
    send_copy(stations[101], other_observer)
    item = station_reconcile(station=stations[101])
    assert (item.copies, item.has_disagreement, item.disagreements) == (2, False, {})


def test_copies_that_disagree_are_flagged_line_by_line(
    protocol_form, stations, observer, other_observer
):
    send_copy(stations[101], observer)
    send_copy(stations[101], other_observer, minutes=1, c1=310, c2=180)
    item = station_reconcile(station=stations[101])
    assert item.has_disagreement
    assert item.disagreements == {"c1": [300, 310], "c2": [180, 190]}


def test_the_consensus_is_the_value_most_copies_agree_on(protocol_form, stations, observer):
    send_copy(stations[101], observer, minutes=0, c1=310, c2=180)
    send_copy(stations[101], observer, minutes=1)
    send_copy(stations[101], observer, minutes=2)
    assert station_reconcile(station=stations[101]).lines["c1"] == 300


def test_a_copy_failing_control_relations_does_not_outvote_a_correct_one(
    protocol_form, stations, observer
):
    send_copy(stations[101], observer, minutes=0)
    send_copy(stations[101], observer, minutes=1, c1=900)  # the sum no longer matches line 10
    assert station_reconcile(station=stations[101]).lines["c1"] == 300


def test_a_difference_above_the_tolerance_raises_a_t2_report(protocol_form, stations, observer):
    send_copy(stations[101], observer)
    official(stations[101], c1=340, c2=150)
    item = station_reconcile(station=stations[101])
    assert item.differs_from_official
    assert item.official_differences == {"c1": [300, 340], "c2": [190, 150]}
    report = Report.objects.get(category_id="T2")
    assert (report.station, report.channel, report.observer) == (
        stations[101],
        Channel.SYSTEM,
        None,
    )
    assert report.count == 40
    assert "13" in report.description and "340" in report.description


def test_reconciling_again_raises_no_second_report(protocol_form, stations, observer):
    send_copy(stations[101], observer)
    official(stations[101], c1=340, c2=150)
    station_reconcile(station=stations[101])
    station_reconcile(station=stations[101])
    assert Report.objects.filter(category_id="T2").count() == 1


def test_a_difference_within_the_tolerance_raises_nothing(
    protocol_form, stations, observer, settings
):
    settings.PROTOCOL_DIFF_TOLERANCE = 10
    send_copy(stations[101], observer)
    official(stations[101], c1=310, c2=180)
    assert not station_reconcile(station=stations[101]).differs_from_official
    assert not Report.objects.filter(category_id="T2").exists()


def test_the_tolerance_is_a_setting(protocol_form, stations, observer, settings):
    settings.PROTOCOL_DIFF_TOLERANCE = 5
    send_copy(stations[101], observer)
    official(stations[101], c1=310, c2=180)
    assert station_reconcile(station=stations[101]).differs_from_official


@pytest.mark.usefixtures("tasks_in_process")
def test_a_new_copy_is_reconciled_after_commit(
    protocol_form, stations, observer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_copy(stations[101], observer)
    assert StationReconciliation.objects.get(station=stations[101]).copies == 1


def test_totals_put_observers_and_official_side_by_side(protocol_form, stations, observer):
    send_copy(stations[101], observer)
    official(stations[101], c1=340, c2=150)
    official(stations[201])
    station_reconcile(station=stations[101])
    results_aggregate(election=protocol_form)
    from reports.models import ResultTotal

    totals = {
        (t.source, t.level, t.name): t for t in ResultTotal.objects.filter(election=protocol_form)
    }
    assert totals[("official", "election", protocol_form.name)].lines["c1"] == 640
    assert totals[("observers", "election", protocol_form.name)].lines["c1"] == 300
    assert totals[("official_matched", "election", protocol_form.name)].lines["c1"] == 340
    assert totals[("official", "okrug", "САО")].stations == 1
    assert totals[("observers", "tik", "Арбат")].lines["c2"] == 190


@pytest.mark.usefixtures("tasks_in_process")
def test_copies_after_the_first_reach_the_totals_at_the_next_due_run(
    protocol_form, stations, observer, other_observer, django_capture_on_commit_callbacks
):
    """The first copy is counted at once; the next ones within AGGREGATE_DELAY wait for
    beat's due run, which counts them, and finds nothing due after that."""
    from django.core.cache import cache

    from reports.models import ResultTotal
    from reports.tasks.protocols import results_aggregate_due_task

    cache.clear()

    def observers_c1() -> int:
        total = ResultTotal.objects.get(
            election=protocol_form, source="observers", level="election"
        )
        return total.lines["c1"]

    with django_capture_on_commit_callbacks(execute=True):
        send_copy(stations[101], observer)
    assert observers_c1() == 300
    with django_capture_on_commit_callbacks(execute=True):
        send_copy(stations[201], other_observer, c1=200)
    assert observers_c1() == 300

    assert results_aggregate_due_task() == 1
    assert observers_c1() == 500
    assert results_aggregate_due_task() == 0


def test_the_results_page_leads_with_a_chart_and_marks_a_differing_copy(
    protocol_form, stations, observer, admin_client
):
    send_copy(stations[101], observer, inside=280)  # turnout 30 % on the copy
    official(stations[101])  # 50 % officially
    send_copy(stations[201], observer)
    official(stations[201])
    station_reconcile(station=stations[101])
    station_reconcile(station=stations[201])
    results_aggregate(election=protocol_form)

    page = admin_client.get(f"/protocols/results/?election={protocol_form.pk}").content.decode()

    assert page.index('class="chart comparison"') < page.index("<table")
    marked = page.split('<tr class="differs" data-station="101">')[1].split("</tr>")[0]
    assert "30.00 / 50.00" in marked
    assert "/admin/reports/stationreconciliation/" in marked
    assert 'data-station="201"' not in page
