"""Aggregation tasks: the kicked run, the sweep, one report, recounts and alert delivery.

Thin wrappers that load by id and call one service; policy in `reports.tasks.policy`.
"""

import logging

from celery import shared_task
from django.conf import settings

from reports.models import Report
from reports.services.aggregation import (
    reports_aggregate,
    reports_aggregate_kicked,
    reports_aggregate_pending,
    tallies_recount,
)
from reports.services.alerts import alerts_deliver
from reports.tasks.policy import RETRY

log = logging.getLogger(__name__)

# Seconds after which a waiting aggregate_report message is discarded (a backlog after an
# outage is cleared by the sweep's batches, not one message at a time).
AGGREGATE_EXPIRES = 60


@shared_task(
    name="reports.aggregate_report",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
    expires=AGGREGATE_EXPIRES,
    **RETRY,
)
def aggregate_report(report_id: int) -> int:
    """Aggregate one report, and under load a batch of other pending ones with it.

    Under load most of these find their report already taken by an earlier task's batch;
    they return after one indexed read instead of opening a transaction. A message older
    than AGGREGATE_EXPIRES is dropped unread: by then the sweep has taken its report.
    """
    pending = Report.objects.filter(pk=report_id, aggregated_at__isnull=True)
    if not pending.filter(quarantined_at__isnull=True).exists():
        return 0
    return reports_aggregate(report_ids=[report_id], batch=settings.AGGREGATION_BATCH_SIZE)


@shared_task(
    name="reports.aggregate_kicked",
    bind=True,
    acks_late=False,
    ignore_result=True,
    soft_time_limit=50,
    time_limit=60,
    expires=AGGREGATE_EXPIRES,
)
def aggregate_kicked(self) -> int:
    """A run started by a submission's kick; see services.aggregation.reports_aggregate_kicked.

    Acknowledged when it starts, not when it ends, and never retried (a retry would wait
    in the worker as a message with a countdown): it runs for up to a sweep interval, and a
    lost or failed run costs nothing but time, since its reports stay pending for the next
    kick or the sweep. In-process (eager) it reads once, without pausing.
    """
    pause = 0 if self.request.is_eager else settings.AGGREGATION_KICK_DELAY_MS / 1000
    return reports_aggregate_kicked(pause=pause, seconds=settings.AGGREGATION_SWEEP_SECONDS)


@shared_task(
    name="reports.aggregate_pending",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=50,
    time_limit=60,
)
def aggregate_pending() -> int:
    """The sweep: aggregate pending reports in batches for at most one beat interval.

    No retries: beat runs it again in AGGREGATION_SWEEP_SECONDS.
    """
    total = reports_aggregate_pending(seconds=settings.AGGREGATION_SWEEP_SECONDS)
    if total:
        log.info("sweep aggregated %s pending reports", total)
    return total


@shared_task(
    name="reports.deliver_alerts",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=120,
    time_limit=150,
    **RETRY,
)
def deliver_alerts() -> int:
    return alerts_deliver()


@shared_task(
    name="reports.recount_tallies",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=1800,
    time_limit=1900,
    **RETRY,
)
def recount_tallies(election_id: int | None = None) -> int:
    return tallies_recount(election_id=election_id)
