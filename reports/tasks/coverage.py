"""Coverage tasks: thin wrappers around `reports.services.coverage.coverage_refresh`.

Both are safe to run twice: rows and tallies are recomputed from the data, and alerts are
raised once per key. Policy as in `reports.tasks.aggregation`.
"""

from collections import defaultdict

from celery import shared_task
from django.utils import timezone

from reports.models import Election, Station
from reports.services.coverage import coverage_refresh
from reports.tasks.policy import RETRY


@shared_task(
    name="reports.coverage_sweep",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=50,
    time_limit=60,
)
def coverage_sweep() -> int:
    """Every station of every active election, and the alerts due now. Beat runs it again
    in COVERAGE_SWEEP_SECONDS, so no retries."""
    changed = 0
    for election in Election.objects.filter(is_active=True):
        changed += coverage_refresh(election=election, now=timezone.now())
    return changed


@shared_task(
    name="reports.coverage_stations_refresh",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=30,
    time_limit=40,
    **RETRY,
)
def coverage_stations_refresh(station_ids: list[int]) -> int:
    """Some stations just changed (a check-in, a status): refresh them now."""
    by_election = defaultdict(list)
    stations = Station.objects.filter(pk__in=station_ids).values_list("election_id", "pk")
    for election_id, station_id in stations:
        by_election[election_id].append(station_id)
    return sum(
        coverage_refresh(election=election, station_ids=by_election[election.pk])
        for election in Election.objects.filter(pk__in=by_election)
    )
