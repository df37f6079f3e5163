"""Celery tasks of the bulk exports: thin, by id, safe to run twice (see services.exports)."""

from celery import shared_task
from django.conf import settings

from reports.services.exports import export_run


@shared_task(
    name="reports.run_export",
    acks_late=True,
    time_limit=settings.EXPORT_TIME_LIMIT,
    soft_time_limit=settings.EXPORT_TIME_LIMIT - 30,
)
def run_export(job_id: str) -> bool:
    """Write one export job's file. A second delivery finds the job claimed and does nothing."""
    return export_run(job_id=job_id)
