"""Bulk export jobs: started by a person or a partner, written by a worker, then expired.

A job is claimed by a conditional UPDATE, so a task delivered twice writes once; a job
whose worker died (running past the task's hard time limit) may be claimed again. The
file is written beside its final name and renamed when complete, so a download never sees
half a file. While a job runs, its progress lives in the cache (one write per 10,000
records, none to the database); the row gets the final count.
"""

import gzip
import json
import logging
import os
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from redis.exceptions import RedisError

from reports.domain import records
from reports.filters import IncidentFilter, ReportFilter
from reports.models import ExportFormat, ExportJob, ExportScope, ExportShape, PartnerToken
from reports.services.audit import audit_record
from reports.services.queue import task_enqueue

log = logging.getLogger(__name__)


class ExportLimitReached(Exception):
    """The caller already has settings.EXPORT_MAX_RUNNING jobs waiting or running."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} exports already running")
        self.limit = limit


def export_limit_message(limit: int) -> str:
    return ngettext(
        "You already have %(count)d export waiting or running: wait until it is done.",
        "You already have %(count)d exports waiting or running: wait until one is done.",
        limit,
    ) % {"count": limit}


class ExportFiltersInvalid(ValueError):
    def __init__(self, errors: dict) -> None:
        super().__init__("invalid export filters")
        self.errors = errors


def export_dataset(
    *, shape: str, scope: str, filters: dict
) -> tuple[type[records.Record], QuerySet]:
    """The record shape and rows of an export, filtered as the API filters its lists.

    Raises ExportFiltersInvalid with field errors when a filter is unknown or does not validate.
    """
    if shape == ExportShape.INCIDENTS:
        record, rows, filterset_class = (
            records.IncidentRecord,
            records.incident_rows(scope),
            IncidentFilter,
        )
    else:
        record, rows, filterset_class = (
            records.report_record(scope),
            records.report_rows(scope),
            ReportFilter,
        )
    unknown = sorted(set(filters) - set(filterset_class.base_filters))
    if unknown:
        message = str(_("No such filter."))
        raise ExportFiltersInvalid(
            {name: [{"message": message, "code": "unknown"}] for name in unknown}
        )
    filterset = filterset_class(data=filters, queryset=rows)
    if not filterset.is_valid():
        raise ExportFiltersInvalid(filterset.errors.get_json_data())
    rows = filterset.qs
    if scope == ExportScope.PUBLIC:
        rows = records.embargo_annotate(rows, record)
    return record, rows


@transaction.atomic
def export_start(
    *,
    shape: str,
    fmt: str,
    scope: str,
    filters: dict,
    requested_by: AbstractBaseUser | None = None,
    token: PartnerToken | None = None,
) -> ExportJob:
    """Record an export job and hand it to a worker after commit. Filters are checked now.

    The same request while the caller's identical job still waits or runs answers that job
    (a client retrying after a lost answer makes no second one); a caller with
    settings.EXPORT_MAX_RUNNING jobs waiting or running gets ExportLimitReached.
    """
    export_dataset(shape=shape, scope=scope, filters=filters)
    requested_by = requested_by if requested_by and requested_by.is_authenticated else None
    active = list(export_jobs_active(requested_by=requested_by, token=token))
    for job in active:
        if (job.shape, job.format, job.scope, job.filters) == (shape, fmt, scope, filters):
            return job
    if len(active) >= settings.EXPORT_MAX_RUNNING:
        raise ExportLimitReached(settings.EXPORT_MAX_RUNNING)
    job = ExportJob.objects.create(
        shape=shape,
        format=fmt,
        scope=scope,
        filters=filters,
        requested_by=requested_by,
        token=token,
    )
    audit_record(
        actor=requested_by,
        action="export_start",
        obj=job,
        after={"shape": shape, "format": fmt, "scope": scope, "filters": filters},
        note=f"partner token {token.pk}" if token else "",
    )
    transaction.on_commit(lambda: export_enqueue(job.pk))
    return job


def export_jobs_active(
    *, requested_by: AbstractBaseUser | None, token: PartnerToken | None
) -> QuerySet[ExportJob]:
    """The caller's jobs still waiting or running (not those whose worker died), locked
    until the transaction ends, so that two requests of one caller are counted in turn."""
    if token is not None:
        PartnerToken.objects.select_for_update().filter(pk=token.pk).first()
        jobs = ExportJob.objects.filter(token=token)
    elif requested_by is not None:
        get_user_model().objects.select_for_update().filter(pk=requested_by.pk).first()
        jobs = ExportJob.objects.filter(requested_by=requested_by, token=None)
    else:
        jobs = ExportJob.objects.filter(requested_by=None, token=None)
    stale = timezone.now() - timedelta(seconds=settings.EXPORT_TIME_LIMIT)
    return jobs.filter(
        Q(status=ExportJob.Status.PENDING)
        | Q(status=ExportJob.Status.RUNNING, started_at__gte=stale)
    )


def export_enqueue(job_id) -> None:
    """Hand a job to the workers; if the broker is down, the housekeeping task will."""
    task_enqueue("reports.run_export", str(job_id))


def export_run(*, job_id) -> bool:
    """Write one job's file. Returns False when another worker has it or it is finished."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EXPORT_TIME_LIMIT)
    claimed = (
        ExportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=ExportJob.Status.PENDING)
            | Q(status=ExportJob.Status.RUNNING, started_at__lt=stale)
        )
        .update(status=ExportJob.Status.RUNNING, started_at=now, rows_done=0, error="")
    )
    if not claimed:
        return False
    job = ExportJob.objects.get(pk=job_id)
    try:
        _export_write(job)
    except Exception as error:
        log.exception("export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            error=export_error_text(error),
            finished_at=timezone.now(),
        )
        raise
    return True


def export_error_text(error: Exception) -> str:
    """What a failed job tells its requester: the filters' errors as they are, any other
    failure by its kind only (a database's message can quote SQL); the log has the rest."""
    if isinstance(error, ExportFiltersInvalid):
        return json.dumps(error.errors, ensure_ascii=False)[:500]
    return _("The export failed (%(kind)s). Headquarters can read the details in the log.") % {
        "kind": type(error).__name__
    }


def _export_write(job: ExportJob) -> None:
    record, rows = export_dataset(shape=job.shape, scope=job.scope, filters=job.filters)
    ExportJob.objects.filter(pk=job.pk).update(rows_total=rows.count())
    relative = Path("exports") / f"{job.pk}.{job.format}"
    path = Path(settings.PRIVATE_MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        with open(partial, "wb") as raw, _compressed(raw, job.format) as out:
            count = records.records_write(
                record, rows, job.format, out, on_progress=lambda n: _progress(job.pk, n)
            )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
        cache.delete(progress_key(job.pk))
    finished = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE,
        rows_done=count,
        file_path=str(relative),
        file_size=path.stat().st_size,
        finished_at=finished,
        expires_at=finished + timedelta(hours=settings.EXPORT_TTL_HOURS),
    )


def _compressed(raw: BinaryIO, fmt: str) -> AbstractContextManager[BinaryIO]:
    if fmt != ExportFormat.NDJSON_GZ:
        return nullcontext(raw)
    return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=settings.EXPORT_GZIP_LEVEL)


def progress_key(job_id) -> str:
    return f"export-progress:{job_id}"


def _progress(job_id, count: int) -> None:
    """Publish a running job's count for its status page; the export goes on without it."""
    try:
        cache.set(progress_key(job_id), count, 3600)
    except RedisError:
        log.warning("progress of export %s not published: the cache is down", job_id)


def export_rows_done(job: ExportJob) -> int:
    """Records written so far: from the cache while running, from the row afterwards."""
    if job.status != ExportJob.Status.RUNNING:
        return job.rows_done
    try:
        return cache.get(progress_key(job.pk), 0)
    except RedisError:
        return 0


def export_file(job: ExportJob) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / job.file_path


def exports_housekeep(*, now: datetime | None = None) -> tuple[int, int]:
    """Delete files whose time is up; re-enqueue jobs the broker never got.

    Returns (expired, re-enqueued).
    """
    now = now or timezone.now()
    expired = 0
    due = ExportJob.objects.filter(status=ExportJob.Status.DONE, expires_at__lte=now)
    for job in due.only("pk", "file_path"):
        if ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.DONE).update(
            status=ExportJob.Status.EXPIRED
        ):
            export_file(job).unlink(missing_ok=True)
            expired += 1
    forgotten = list(
        ExportJob.objects.filter(
            status=ExportJob.Status.PENDING, created_at__lt=now - timedelta(minutes=1)
        ).values_list("pk", flat=True)
    )
    for job_id in forgotten:
        export_enqueue(job_id)
    return expired, len(forgotten)
