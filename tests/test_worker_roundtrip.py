"""A report submitted through the service is aggregated by a real Celery worker via Redis."""

import datetime as dt
import uuid

import pytest

from reports.models import Category, Election, Okrug, Report, Station, Tik
from reports.services.submission import ReportInput, report_submit

from .services import celery_worker, require_real_services, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def make_station() -> Station:
    election = Election.objects.create(name="Roundtrip", date=dt.date(2026, 9, 13))
    okrug = Okrug.objects.create(election=election, name="ЦАО")
    tik = Tik.objects.create(okrug=okrug, name="Арбат")
    return Station.objects.create(election=election, okrug=okrug, tik=tik, number=1)


def test_real_worker_picks_up_a_report_through_redis():
    require_real_services()
    station = make_station()
    with celery_worker():
        report, created = report_submit(
            data=ReportInput(
                uuid=uuid.uuid4(), station=station, category=Category.objects.get(code="V1")
            ),
            observer=None,
            channel="citizen",
        )
        assert created
        wait_until(
            lambda: Report.objects.filter(pk=report.pk, aggregated_at__isnull=False).exists()
        )
