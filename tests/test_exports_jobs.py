"""Bulk export jobs, start to expiry: a partner or a staff member starts one, follows its
progress, downloads the file while it lasts, and the file is deleted when it expires."""

import datetime as dt
import gzip
import json
from unittest.mock import Mock

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import DataError
from django.utils import timezone

from reports.domain import records
from reports.models import ExportJob, Report, TokenScope
from reports.services.exports import (
    ExportFiltersInvalid,
    export_file,
    export_run,
    exports_housekeep,
    progress_key,
)
from reports.tasks.exports import run_export

from .api_helpers import client, report_send, token, verify
from .services import celery_worker, require_real_services, site_with_redis_down, wait_until


@pytest.fixture(autouse=True, params=[False, True], ids=["debug-off", "debug-on"])
def _debug(request, settings):
    """Every export test runs with DEBUG off and on (make run's default): with it on, Django
    wraps cursors in its query-logging wrapper, whose copy() once refused parameters."""
    settings.DEBUG = request.param


@pytest.fixture
def dataset(stations, observer, moderator):
    verify(report_send(stations[101], "V1", observer, description="Вброс"), moderator)
    report_send(stations[201], "V4", observer, description="Подвоз")
    return Report.objects.all()


def start(api, **body):
    """Start an export through the API, then run its task as a worker would."""
    response = api.post("/api/v1/exports/", body, format="json")
    assert response.status_code == 202, response.content
    assert run_export(response.json()["id"]) is True
    return response


def test_a_partners_export_runs_to_a_downloadable_file(dataset):
    partner = client(token(TokenScope.FULL_READ))

    started = start(
        partner,
        shape="reports",
        format="ndjson.gz",
        scope="full",
    )
    status = partner.get(f"/api/v1/exports/{started.json()['id']}/").json()
    download = partner.get(status["download_url"])

    assert started.status_code == 202
    assert (status["status"], status["progress"], status["rows_done"]) == ("done", 100, 2)
    assert download["Content-Type"] == "application/gzip"
    lines = gzip.decompress(b"".join(download.streaming_content)).splitlines()
    assert sorted(json.loads(line)["pseudonym"] for line in lines) == ["Сова", "Сова"]


def test_another_partner_cannot_see_or_download_the_export(dataset):
    job_id = start(
        client(token(TokenScope.PUBLIC_READ)),
        shape="incidents",
        format="csv",
    ).json()["id"]
    stranger = client(token(TokenScope.PUBLIC_READ))

    assert stranger.get(f"/api/v1/exports/{job_id}/").status_code == 404
    assert stranger.get(f"/api/v1/exports/{job_id}/download/").status_code == 404


def test_an_export_with_bad_filters_is_refused_with_field_errors(db):
    response = client(token(TokenScope.PUBLIC_READ)).post(
        "/api/v1/exports/",
        {"shape": "reports", "format": "json", "filters": {"station": "abc"}},
        format="json",
    )

    assert response.status_code == 400
    assert "station" in response.json()["filters"]
    assert not ExportJob.objects.exists()


def test_an_export_job_delivered_twice_is_written_once(dataset):
    job_id = start(
        client(token(TokenScope.PUBLIC_READ)),
        shape="reports",
        format="json",
    ).json()["id"]
    job = ExportJob.objects.get(pk=job_id)
    written = export_file(job).stat().st_mtime_ns

    assert export_run(job_id=job_id) is False
    assert export_file(job).stat().st_mtime_ns == written


def test_expired_files_are_deleted_and_no_longer_served(dataset):
    partner = client(token(TokenScope.PUBLIC_READ))
    job_id = start(partner, shape="incidents", format="json").json()["id"]
    job = ExportJob.objects.get(pk=job_id)

    assert exports_housekeep(now=job.expires_at - dt.timedelta(seconds=1)) == (0, 0)
    expired, _requeued = exports_housekeep(now=job.expires_at)

    job.refresh_from_db()
    assert (expired, job.status) == (1, "expired")
    assert not export_file(job).exists()
    assert partner.get(f"/api/v1/exports/{job_id}/download/").status_code == 404


def test_staff_start_an_export_on_the_page_and_watch_it(dataset, moderator_client, moderator):
    moderator.user_permissions.add(Permission.objects.get(codename="view_report"))

    response = moderator_client.post(
        "/exports/", {"shape": "reports", "format": "csv", "scope": "full", "election": ""}
    )
    job = ExportJob.objects.get()
    run_export(str(job.pk))
    page = moderator_client.get(response["Location"])
    status = moderator_client.get(f"/api/v1/exports/{job.pk}/").json()

    assert response.status_code == 302
    assert 'id="export-progress"' in page.content.decode()
    assert "reports/exports.js" in page.content.decode()
    assert (status["status"], status["rows_done"]) == ("done", 2)


def test_staff_without_report_permission_export_the_public_dataset_only(dataset, moderator_client):
    response = moderator_client.post(
        "/exports/", {"shape": "reports", "format": "csv", "scope": "full"}
    )

    assert response.status_code == 400
    assert not ExportJob.objects.exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_the_export(stations, observer, moderator, settings, monkeypatch):
    require_real_services()
    monkeypatch.setenv("PRIVATE_MEDIA_ROOT", str(settings.PRIVATE_MEDIA_ROOT))
    verify(report_send(stations[101], "V1", observer), moderator)
    partner = client(token(TokenScope.PUBLIC_READ))

    with celery_worker():
        job_id = partner.post(
            "/api/v1/exports/", {"shape": "incidents", "format": "csv"}, format="json"
        ).json()["id"]
        wait_until(lambda: ExportJob.objects.get(pk=job_id).status == "done", timeout=60)

    content = b"".join(partner.get(f"/api/v1/exports/{job_id}/download/").streaming_content)
    assert content.decode().splitlines()[0].startswith("id,election,station_number")
    assert len(content.decode().splitlines()) == 2
    assert ExportJob.objects.get(pk=job_id).finished_at <= timezone.now()


def test_a_running_jobs_status_shows_its_progress(db):
    partner_token = token(TokenScope.PUBLIC_READ)
    partner = client(partner_token)
    job_id = partner.post(
        "/api/v1/exports/", {"shape": "incidents", "format": "csv"}, format="json"
    ).json()["id"]
    ExportJob.objects.filter(pk=job_id).update(status="running", rows_total=200_000)
    cache.set(progress_key(job_id), 50_000)

    status = partner.get(f"/api/v1/exports/{job_id}/").json()

    assert (status["status"], status["rows_done"], status["progress"]) == ("running", 50_000, 25)
    assert status["download_url"] is None


def test_a_failed_job_says_so_and_leaves_no_file(db, settings):
    job = ExportJob.objects.create(
        shape="reports", format="json", scope="public", filters={"station": "abc"}
    )

    with pytest.raises(ExportFiltersInvalid):
        export_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == "failed" and "station" in job.error
    assert not list((settings.PRIVATE_MEDIA_ROOT / "exports").glob("*"))


def test_the_same_export_asked_again_while_it_waits_is_the_same_job(db):
    """A client that retries after a lost answer gets the job it already started."""
    partner = client(token(TokenScope.PUBLIC_READ))
    body = {"shape": "reports", "format": "csv", "filters": {"category": "V1"}}

    first = partner.post("/api/v1/exports/", body, format="json")
    again = partner.post("/api/v1/exports/", body, format="json")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert ExportJob.objects.count() == 1


def test_a_finished_export_asked_again_is_written_anew(dataset):
    partner = client(token(TokenScope.PUBLIC_READ))
    first = start(partner, shape="incidents", format="csv")
    again = start(partner, shape="incidents", format="csv")

    assert again.json()["id"] != first.json()["id"]


def test_a_partner_cannot_keep_more_exports_running_than_the_limit(dataset, settings, language):
    settings.EXPORT_MAX_RUNNING = 2
    partner = client(token(TokenScope.PUBLIC_READ))
    language(partner, "en")
    started = [
        partner.post("/api/v1/exports/", {"shape": "reports", "format": fmt}, format="json")
        for fmt in ("csv", "json", "ndjson.gz")
    ]
    other_partner = client(token(TokenScope.PUBLIC_READ))

    assert [response.status_code for response in started] == [202, 202, 429]
    assert "2 exports waiting or running" in started[2].json()["detail"]
    assert ExportJob.objects.count() == 2
    assert run_export(started[0].json()["id"]) is True
    retried = partner.post("/api/v1/exports/", {"shape": "reports", "format": "ndjson.gz"})
    assert retried.status_code == 202
    other = other_partner.post("/api/v1/exports/", {"shape": "reports", "format": "csv"})
    assert other.status_code == 202


def test_staff_over_the_limit_are_told_on_the_page(dataset, moderator_client, settings):
    settings.EXPORT_MAX_RUNNING = 1
    moderator_client.post("/exports/", {"shape": "reports", "format": "csv", "scope": "public"})

    response = moderator_client.post(
        "/exports/", {"shape": "incidents", "format": "csv", "scope": "public"}
    )

    assert response.status_code == 400
    assert "1 выгрузка ожидает или выполняется" in response.content.decode()
    assert ExportJob.objects.count() == 1


REDIS_DOWN_SCRIPT = """
import json, sys, django
django.setup()
from rest_framework.test import APIClient
api = APIClient()
api.credentials(HTTP_AUTHORIZATION=f"Bearer {sys.argv[1]}")
response = api.post("/api/v1/exports/", {"shape": "incidents", "format": "csv"}, format="json")
print(json.dumps({"status": response.status_code, "body": response.content.decode()}))
"""


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_export_started_while_redis_is_down_is_accepted_and_kept(db, settings):
    """The site runs in its own process with REDIS_URL pointing where nothing listens: the
    job is committed, so the partner is told so; the housekeeping task sends it later."""
    require_real_services()
    answer = site_with_redis_down(REDIS_DOWN_SCRIPT, token(TokenScope.PUBLIC_READ))

    assert answer["status"] == 202, answer
    job = ExportJob.objects.get()
    assert (str(job.pk), job.status) == (json.loads(answer["body"])["id"], "pending")


def test_a_failed_job_shows_no_sql(db, monkeypatch):
    job = ExportJob.objects.create(shape="reports", format="csv", scope="public", filters={})
    failure = DataError('time zone displacement out of range\nLINE 1: SELECT "reports_report"')
    monkeypatch.setattr(records, "records_write", Mock(side_effect=failure))

    with pytest.raises(DataError):
        export_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == "failed" and "DataError" in job.error
    assert "SELECT" not in job.error and "reports_report" not in job.error
