"""Celery tasks of counts and protocols: thin wrappers that load by id and call one service.

Each rewrites its own rows from stored data (or claims a run by conditional UPDATE), so
running one twice is harmless and acks_late is safe. Transient database errors are retried.
"""

from celery import shared_task

from reports.models import Election, Station
from reports.services.protocols import (
    results_aggregate,
    results_aggregate_due,
    results_aggregate_marked,
    results_aggregate_soon,
    station_reconcile,
    stations_reconcile,
    statistics_run_execute,
)
from reports.services.quickcount import quickcount_refresh_election, quickcount_refresh_soon
from reports.tasks.policy import RETRY


@shared_task(
    name="reports.station_reconcile_task",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
    **RETRY,
)
def station_reconcile_task(station_id: int) -> None:
    """Reconcile one station's copies after a new one arrived; totals follow shortly."""
    station = Station.objects.select_related("election").filter(pk=station_id).first()
    if station is not None:
        station_reconcile(station=station)
        results_aggregate_soon(election_id=station.election_id)
        quickcount_refresh_soon(station=station)


@shared_task(
    name="reports.results_aggregate_task",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=300,
    time_limit=360,
    **RETRY,
)
def results_aggregate_task(election_id: int) -> None:
    election = Election.objects.filter(pk=election_id).first()
    if election is not None:
        results_aggregate_marked(election=election)


@shared_task(
    name="reports.results_aggregate_due_task",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=300,
    time_limit=360,
)
def results_aggregate_due_task() -> int:
    """Beat, every AGGREGATE_DELAY seconds: the totals copies marked due since the last run.
    No retries: beat runs it again."""
    return results_aggregate_due()


@shared_task(
    name="reports.election_results_refresh_task",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
    **RETRY,
)
def election_results_refresh_task(election_id: int) -> None:
    """After an import: compare every station's copies with official, then the totals."""
    election = Election.objects.filter(pk=election_id).first()
    if election is not None:
        stations_reconcile(election=election)
        results_aggregate(election=election)
        quickcount_refresh_election(election=election)


@shared_task(
    name="reports.statistics_run_task",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
def statistics_run_task(run_id: int) -> bool:
    """Compute one statistics run; a run already claimed by another worker is skipped."""
    return statistics_run_execute(run_id=run_id)
