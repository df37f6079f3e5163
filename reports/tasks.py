"""Celery tasks: thin wrappers that load by id, call one service, and own retry and logging.

Policy: tasks take ids, are safe to run twice, use JSON, have time limits (settings), and
use acks_late only where running twice is harmless.
"""

from celery import shared_task
from django.utils import timezone

from .models import Report


@shared_task(acks_late=True)
def aggregate_report(report_id: int) -> bool:
    """Take one report into the aggregates. Safe to run twice: it claims by conditional UPDATE."""
    claimed = Report.objects.filter(pk=report_id, aggregated_at__isnull=True).update(
        aggregated_at=timezone.now()
    )
    return bool(claimed)
