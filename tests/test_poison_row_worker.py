"""A poison row, written straight into the reports table past every validator, with a real
Celery worker, Redis and PostgreSQL: the worker quarantines it and goes on, later reports are
aggregated, the pages that list reports render and an export of every report finishes.

Run by `.ci/run` (PostgreSQL + Redis); skipped with a reason otherwise.
"""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from observer.celery import app as celery_app
from reports.models import Alert, Category, ExportJob, Report, TokenScope
from reports.services.exports import export_start
from reports.services.submission import ReportInput, report_submit

from .api_helpers import client, token
from .services import celery_worker, require_real_services, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def worker_environment(monkeypatch):
    require_real_services()
    celery_app.control.purge()
    monkeypatch.setenv("AGGREGATION_SWEEP_SECONDS", "1")


def poison_row_insert(station) -> int:
    """A citizen's report whose trust is no trust level at all, by raw SQL."""
    columns = (
        "uuid, election_id, station_id, category_id, reporter_role, trust, channel, "
        "received_at, description, complaint_filed, police_called, violation_stopped, "
        "needs_mobile_group, needs_lawyer, status, content_hash, aggregation_error, updated_at"
    )
    values = [uuid.uuid4(), station.election_id, station.pk, "V1", "citizen", 7, "citizen"]
    values += [timezone.now(), "", False, False, False, False, False, "new", "x", ""]
    values += [timezone.now()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO reports_report ({columns}) VALUES ({', '.join(['%s'] * len(values))})"  # noqa: S608
            " RETURNING id",
            values,
        )
        return cursor.fetchone()[0]


def submit(station, observer=None) -> Report:
    data = ReportInput(uuid=uuid.uuid4(), station=station, category=Category.objects.get(code="V1"))
    return report_submit(data=data, observer=observer, channel="web")[0]


def test_a_poison_row_is_quarantined_while_the_site_goes_on(stations, observer, observer_client):
    poison_id = poison_row_insert(stations[101])
    with celery_worker(beat=True):
        good = [submit(stations[101], observer), submit(stations[201]), submit(stations[101])]
        wait_until(lambda: Report.objects.filter(pk=poison_id, quarantined_at__isnull=False))
        good_ids = [report.pk for report in good]
        wait_until(lambda: not Report.objects.filter(pk__in=good_ids, aggregated_at=None))
        later = submit(stations[102], observer)
        wait_until(lambda: Report.objects.filter(pk=later.pk, aggregated_at__isnull=False))
        job = export_start(shape="reports", fmt="csv", scope="full", filters={})
        wait_until(lambda: ExportJob.objects.get(pk=job.pk).status != ExportJob.Status.PENDING)
        wait_until(lambda: ExportJob.objects.get(pk=job.pk).status != ExportJob.Status.RUNNING)

    assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.DONE
    assert ExportJob.objects.get(pk=job.pk).rows_done == 5
    assert Alert.objects.filter(rule=Alert.Rule.REPORT_QUARANTINED, station=stations[101])
    assert observer_client.get("/my/").status_code == 200
    admin = get_user_model().objects.create_superuser(username="admin", password=None)
    staff = Client()
    staff.force_login(admin)
    listing = staff.get("/admin/reports/report/?aggregation=quarantined")
    assert listing.status_code == 200
    assert f"/admin/reports/report/{poison_id}/change/" in listing.content.decode()
    api = client(token(TokenScope.FULL_READ)).get("/api/v1/reports/", {"page_size": 10})
    assert api.status_code == 200
    assert poison_id in [record["id"] for record in api.json()["results"]]
