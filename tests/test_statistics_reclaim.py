"""A statistics run is never stuck: one whose worker was killed, or whose message the broker
lost, is computed again; the admin shows how long a run has waited and when it is stuck."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from reports.models import StationFlag, StatisticsRun
from reports.services.protocols import (
    STATISTICS_RUN_STALE,
    statistics_run_request,
    statistics_runs_reclaim,
)

from .coverage_helpers import tasks_in_process  # noqa: F401 (a fixture)
from .services import (
    celery_worker,
    database_connection,
    lock_waiters,
    require_real_services,
    wait_until,
    worker_kill,
)
from .statistics_helpers import official_results_with_full_turnout


def run_in(election, status: str, *, started: timedelta | None = None, requested: timedelta) -> int:
    """A run in `status`, asked for `requested` ago and started `started` ago."""
    now = timezone.now()
    run = StatisticsRun.objects.create(
        election=election,
        status=status,
        requested_at=now - requested,
        started_at=now - started if started is not None else None,
    )
    return run.pk


@pytest.mark.django_db
@pytest.mark.usefixtures("tasks_in_process")
def test_stale_and_forgotten_runs_are_computed_again_and_live_ones_are_left(election, stations):
    official_results_with_full_turnout(election)
    stale = run_in(
        election,
        "running",
        started=STATISTICS_RUN_STALE + timedelta(minutes=1),
        requested=timedelta(hours=1),
    )
    forgotten = run_in(election, "pending", requested=timedelta(minutes=5))
    live = run_in(election, "running", started=timedelta(minutes=2), requested=timedelta(minutes=2))
    just_asked = run_in(election, "pending", requested=timedelta(seconds=5))

    assert statistics_runs_reclaim() == 2

    status = dict(StatisticsRun.objects.values_list("pk", "status"))
    assert (status[stale], status[forgotten]) == ("done", "done")
    assert (status[live], status[just_asked]) == ("running", "pending")


@pytest.mark.django_db
def test_the_admin_shows_a_stuck_run_as_stuck(election, admin_client):
    run_in(
        election,
        "running",
        started=STATISTICS_RUN_STALE + timedelta(minutes=5),
        requested=timedelta(hours=1),
    )
    page = admin_client.get("/admin/reports/statisticsrun/").content.decode()
    assert "will be computed again" in page or "будет вычислен заново" in page


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_was_killed_is_computed_again_by_another(election, stations):
    require_real_services()
    official_results_with_full_turnout(election)
    with celery_worker() as worker, database_connection() as blocker:
        # The run's last step writes the stations' flags: hold that table, so the worker
        # has claimed the run and computed it when it is killed, mid-write.
        blocker.execute("LOCK TABLE reports_stationflag IN EXCLUSIVE MODE")
        run = statistics_run_request(election=election)
        with database_connection(autocommit=True) as watcher:
            wait_until(lambda: lock_waiters(watcher) >= 1)
        worker_kill(worker)
        blocker.rollback()
    run.refresh_from_db()
    assert run.status == StatisticsRun.Status.RUNNING
    assert statistics_runs_reclaim() == 0  # a worker might still be computing it

    # Time passes beyond any run's time limit.
    StatisticsRun.objects.filter(pk=run.pk).update(
        started_at=F("started_at") - STATISTICS_RUN_STALE
    )
    with celery_worker():
        assert statistics_runs_reclaim() == 1
        wait_until(lambda: StatisticsRun.objects.get(pk=run.pk).status == "done", timeout=60)
    assert list(StationFlag.objects.filter(kind="full_turnout").values_list("uik", flat=True)) == [
        31
    ]
