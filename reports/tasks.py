"""Celery tasks: thin wrappers that load by id, call one service, and own retry and logging.

Policy (docs/task-policy.md): tasks take ids, are safe to run twice, use JSON, have time
limits, use acks_late because running twice is harmless, and retry with backoff only on
transient database errors (connection lost, deadlock victim, serialization failure).
"""

import logging

from celery import shared_task
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from .models import Report
from .services.aggregation import (
    reports_aggregate,
    reports_aggregate_kicked,
    reports_aggregate_pending,
    tallies_recount,
)
from .services.alerts import alerts_deliver
from .services.signin import signin_sessions_expire

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)
# Seconds after which a waiting aggregate_report message is discarded (a backlog after an
# outage is cleared by the sweep's batches, not one message at a time).
AGGREGATE_EXPIRES = 60
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 5,
}


@task_prerun.connect
@task_postrun.connect
def database_connections_tidy(sender=None, **kwargs) -> None:
    """Keep a worker's database connection across tasks, as Django keeps it across requests.

    Celery's Django fix-up would close it after every task unless CELERY_DB_REUSE_MAX is
    set (settings), and a new PostgreSQL connection costs more than a small task. Django's
    own rule then applies: drop a connection that is broken or older than CONN_MAX_AGE.
    """
    if not getattr(sender.request, "is_eager", False):
        close_old_connections()


@shared_task(
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
    if not Report.objects.filter(pk=report_id, aggregated_at__isnull=True).exists():
        return 0
    return reports_aggregate(report_ids=[report_id], batch=settings.AGGREGATION_BATCH_SIZE)


@shared_task(
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


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=50, time_limit=60)
def aggregate_pending() -> int:
    """The sweep: aggregate pending reports in batches for at most one beat interval.

    No retries: beat runs it again in AGGREGATION_SWEEP_SECONDS.
    """
    total = reports_aggregate_pending(seconds=settings.AGGREGATION_SWEEP_SECONDS)
    if total:
        log.info("sweep aggregated %s pending reports", total)
    return total


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150, **RETRY)
def deliver_alerts() -> int:
    return alerts_deliver()


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=1800, time_limit=1900, **RETRY)
def recount_tallies(election_id: int | None = None) -> int:
    return tallies_recount(election_id=election_id)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660, **RETRY)
def sessions_housekeeping() -> int:
    return signin_sessions_expire()
