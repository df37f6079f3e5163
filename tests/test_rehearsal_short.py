"""A short election-day rehearsal in CI: the real stack, one fault, nothing lost.

The same machinery as `bench/rehearsal/run.py`, much smaller: gunicorn serving the test
database, a Celery worker and beat, a private redis-server, and Locust clients that retry
as the form's script does. The day (07:00–02:00) lasts 30 s; Redis is stopped for 5 s just
before the 12:00 checkpoint. Every item the server acknowledged must be stored once, and
the tallies must equal a recount.
"""

import socket
import time

import pytest

from bench.rehearsal import world
from bench.rehearsal.run import Fault, Processes, Redis, Stack, play_day, site_env

from .services import require_real_services, wait_until, worker_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_short_day_with_redis_stopped_loses_nothing_and_counts_each_report_once(tmp_path):
    from reports.models import Report

    require_real_services()
    procs = Processes(tmp_path)
    redis = Redis(free_port(), procs)
    env = site_env(
        database_url=worker_database_url(),
        redis_url=f"redis://127.0.0.1:{redis.port}/0",
        out=tmp_path,
    )
    env["AGGREGATION_SWEEP_SECONDS"] = "2"
    world.seed(observers=60, stations=30, out=tmp_path)
    stack = Stack(procs, env, free_port(), gunicorn_workers=2, worker_concurrency=1)

    def redis_outage() -> dict:
        redis.stop()
        time.sleep(5)
        redis.start()
        return {}

    try:
        redis.start()
        stack.start()
        outage = Fault(11.9, "Redis stopped for 5 s", redis_outage)
        play_day(stack, tmp_path, day_seconds=30, users=20, scale=1.0, faults=[outage], lead=5)
        wait_until(
            lambda: not Report.objects.filter(aggregated_at__isnull=True).exists(), timeout=60
        )
    finally:
        procs.stop_all()
    result = world.verify(tmp_path)
    total = result["total"]
    assert total["sent"] > 150
    assert total["acknowledged"] == total["sent"]
    assert (total["lost"], total["duplicated"], total["stored_not_sent"]) == (0, 0, 0)
    assert total["stored"] == total["sent"]
    assert result["tallies_equal_recount"]
