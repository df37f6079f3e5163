"""A report that aggregation fails on is quarantined, not fatal: the batch goes on without
it, the report is marked with its error, coordinators get an alert, the admin shows it and
`recount --check` says so. A failing aggregation never reaches the person who sent a report.

The integration test with a real worker is in test_poison_row_worker.py.
"""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.test import Client

from observer.celery import app as celery_app
from reports.models import Alert, AuditEntry, Category, Report
from reports.services import aggregation
from reports.services.aggregation import (
    pending_count,
    report_mark_changed,
    reports_aggregate_pending,
)
from reports.services.submission import ReportInput, report_submit

from .test_send_key import OWN_STATION, SEND, script, send_key

pytestmark = pytest.mark.django_db


def submit(station, code: str = "V3") -> Report:
    data = ReportInput(uuid=uuid.uuid4(), station=station, category=Category.objects.get(code=code))
    return report_submit(data=data, observer=None, channel="citizen")[0]


def poison(report: Report, column: str = "trust", value=7) -> None:
    """Write a value straight into the table, past every form, serializer and service."""
    table = Report._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, report.pk])  # noqa: S608


@pytest.fixture
def poisoned(stations, categories) -> tuple[Report, list[Report]]:
    """A report no trust level matches, between good reports at its station and another."""
    before = submit(stations[101])
    bad = submit(stations[101])
    poison(bad)
    after = [submit(stations[101]), submit(stations[201], "R4")]
    return bad, [before, *after]


def test_a_poison_report_is_quarantined_and_the_others_are_aggregated(poisoned):
    bad, good = poisoned

    reports_aggregate_pending(seconds=30)

    assert not Report.objects.filter(pk__in=[r.pk for r in good], aggregated_at=None).exists()
    bad.refresh_from_db()
    assert bad.aggregated_at is None and bad.quarantined_at is not None
    assert bad.aggregation_error.startswith("KeyError")
    assert pending_count() == 0


def test_coordinators_are_alerted_to_a_quarantined_report(poisoned, stations):
    reports_aggregate_pending(seconds=30)

    alert = Alert.objects.get(rule=Alert.Rule.REPORT_QUARANTINED)
    assert alert.station == stations[101] and alert.okrug == stations[101].okrug
    assert "could not be aggregated" in str(alert) or "не удалось обработать" in str(alert)


def test_a_later_run_skips_the_quarantined_report(poisoned, stations):
    reports_aggregate_pending(seconds=30)
    later = submit(stations[102])

    assert reports_aggregate_pending(seconds=30) == 1
    later.refresh_from_db()
    assert later.aggregated_at is not None
    assert Alert.objects.filter(rule=Alert.Rule.REPORT_QUARANTINED).count() == 1


def test_the_admin_lists_quarantined_reports_with_their_error(poisoned):
    bad, _good = poisoned
    reports_aggregate_pending(seconds=30)
    admin = get_user_model().objects.create_superuser(username="admin", password=None)
    browser = Client()
    browser.force_login(admin)
    browser.cookies["django_language"] = "en"

    page = browser.get("/admin/reports/report/?aggregation=quarantined").content.decode()

    assert f"/admin/reports/report/{bad.pk}/change/" in page
    assert "quarantined: KeyError" in page
    detail = browser.get(f"/admin/reports/report/{bad.pk}/change/").content.decode()
    assert "KeyError" in detail


def test_a_moderator_sends_a_quarantined_report_to_aggregation_again(poisoned, moderator):
    bad, _good = poisoned
    reports_aggregate_pending(seconds=30)
    poison(bad, "trust", 1)  # the cause, fixed
    moderator.user_permissions.add(Permission.objects.get(codename="change_report"))
    browser = Client()
    browser.force_login(moderator)
    browser.cookies["django_language"] = "en"

    response = browser.post(
        "/admin/reports/report/",
        {"action": "aggregate_again", "_selected_action": [bad.pk]},
        follow=True,
    )
    reports_aggregate_pending(seconds=30)

    assert "1 report sent to aggregation again." in response.content.decode()
    bad.refresh_from_db()
    assert bad.quarantined_at is None and bad.aggregated_at is not None
    assert AuditEntry.objects.filter(action="report_quarantine_release", object_id=str(bad.pk))


def test_recount_check_fails_while_a_report_is_quarantined(poisoned):
    reports_aggregate_pending(seconds=30)

    with pytest.raises(CommandError, match="quarantine"):
        call_command("recount", "--check")


def test_changing_a_quarantined_report_sends_it_to_aggregation_again(poisoned):
    bad, _good = poisoned
    reports_aggregate_pending(seconds=30)
    poison(bad, "trust", 1)

    report_mark_changed(report_ids=[bad.pk])
    reports_aggregate_pending(seconds=30)

    bad.refresh_from_db()
    assert bad.quarantined_at is None and bad.aggregation_error == ""
    assert bad.aggregated_at is not None and bad.incident_id is not None


def test_a_time_postgresql_cannot_read_back_is_quarantined_too(stations, categories):
    """The poison of issue 14: a BC timestamp psycopg cannot read. The CHECK constraint now
    refuses it, so this test lifts the constraint inside its own transaction first."""
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's reading of BC timestamps is PostgreSQL's; .ci/run sets it")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE reports_report DROP CONSTRAINT report_occurred_at_in_range")
    good = submit(stations[101])
    bad = submit(stations[101])
    poison(bad, "occurred_at", "0001-01-01 00:00:00+02:30:17")  # year 1 read in Moscow's zone
    later = submit(stations[201])

    reports_aggregate_pending(seconds=30)

    assert Report.objects.filter(pk__in=[good.pk, later.pk], aggregated_at=None).count() == 0
    error = Report.objects.filter(pk=bad.pk).values_list("aggregation_error", flat=True).get()
    assert error.startswith("DataError")


@pytest.fixture
def tasks_in_process():
    """make run's mode: no broker, tasks run inside the request (and their errors with it)."""
    eager = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    cache.delete(aggregation.AGGREGATION_KICK_KEY)
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = eager


@pytest.mark.django_db(transaction=True)  # the kick runs after commit, inside the request
def test_a_failing_aggregation_in_process_never_reaches_the_volunteer(
    tasks_in_process, observer_client, report_form_data, monkeypatch
):
    def database_restarting(*args, **kwargs):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(aggregation, "_broker_paused_until", 0.0)
    monkeypatch.setattr(aggregation, "_kick_held_until", 0.0)
    monkeypatch.setattr(aggregation, "_reports_aggregate", database_restarting)
    key = send_key(observer_client)
    data = report_form_data(**OWN_STATION)

    response = observer_client.post(SEND, data, **script(key))

    assert response.status_code == 201
    report = Report.objects.get(uuid=data["uuid"])
    assert report.aggregated_at is None and report.quarantined_at is None  # the sweep's
