"""Housekeeping on beat's schedule: expired sign-in sessions and export files, lost runs."""

from celery import shared_task

from reports.services.exports import exports_housekeep
from reports.services.protocols import statistics_runs_reclaim
from reports.services.signin import signin_sessions_expire
from reports.tasks.policy import RETRY


@shared_task(
    name="reports.sessions_housekeeping",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
    **RETRY,
)
def sessions_housekeeping() -> int:
    return signin_sessions_expire()


@shared_task(name="reports.exports_housekeeping")
def exports_housekeeping() -> list[int]:
    """Beat: delete expired export files, re-enqueue jobs the broker never received."""
    return list(exports_housekeep())


@shared_task(name="reports.statistics_runs_reclaim", acks_late=True, ignore_result=True, **RETRY)
def statistics_runs_reclaim_task() -> int:
    """Beat: statistics runs whose message was lost or whose worker was killed, again."""
    return statistics_runs_reclaim()
