"""Aggregation with real Celery workers, Redis and PostgreSQL: reports reach incidents,
tallies and alerts; nothing is lost while Redis is down; a worker killed mid-task or two
workers on the same reports never count twice.

Run by `.ci/run` (PostgreSQL + Redis); skipped with a reason otherwise.
"""

import socket
import subprocess
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum

from observer.celery import app as celery_app
from reports.models import Alert, Category, Incident, Report, Tally
from reports.services.aggregation import AGGREGATION_KICK_KEY
from reports.services.alerts import alert_subscription_create
from reports.services.submission import ReportInput, report_submit
from reports.tasks.aggregation import aggregate_report

from .aggregation_helpers import assert_tallies_exact, webhook_receiving
from .services import (
    celery_worker,
    database_connection,
    lock_waiters,
    require_real_services,
    site_process_run,
    wait_until,
    worker_kill,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def worker_environment(monkeypatch):
    """Real services only; workers sweep every second and print emails to their log."""
    require_real_services()
    celery_app.control.purge()  # messages an earlier test left must not delay this one
    monkeypatch.setenv("AGGREGATION_SWEEP_SECONDS", "1")
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")


def submit(station, code: str) -> Report:
    report, created = report_submit(
        data=ReportInput(
            uuid=uuid.uuid4(), station=station, category=Category.objects.get(code=code)
        ),
        observer=None,
        channel="citizen",
    )
    assert created
    return report


def all_aggregated(count: int) -> bool:
    reports = Report.objects.all()
    return reports.count() == count and not reports.filter(aggregated_at__isnull=True).exists()


def reports_counted(election) -> int:
    rows = Tally.objects.filter(election=election, dimension=Tally.Dimension.ALL)
    return rows.aggregate(n=Sum("count"))["n"] or 0


def test_reports_flow_to_incidents_tallies_and_alerts(election, stations):
    with webhook_receiving() as webhook, celery_worker(concurrency=2):
        url = f"http://127.0.0.1:{webhook.server_port}/alerts"
        alert_subscription_create(okrug=stations[101].okrug, webhook_url=url)
        for code in ("V1", "V1", "V1"):
            submit(stations[101], code)
        submit(stations[102], "R4")
        wait_until(lambda: all_aggregated(4))
        wait_until(lambda: sum(len(p["alerts"]) for p in webhook.received) >= 2)
    stuffing = Incident.objects.get(station=stations[101])
    assert (stuffing.report_count, stuffing.reporter_count, stuffing.severity) == (3, 3, "C")
    assert Incident.objects.get(station=stations[102]).category_id == "R4"
    assert reports_counted(election) == 4
    assert_tallies_exact()
    rules = sorted(a["rule"] for p in webhook.received for a in p["alerts"])
    assert rules == ["critical_burst", "immediate"]
    assert Alert.objects.count() == 2


def free_port() -> int:
    for port in range(6391, 6450):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError("no free port for a private Redis")


def redis_start(port: int) -> subprocess.Popen:
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)

    def answers() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    wait_until(answers, timeout=10)
    return process


def redis_stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


SUBMIT_SCRIPT = """
import sys, uuid, django
django.setup()
from reports.models import Category, Station
from reports.services.aggregation import AGGREGATION_KICK_KEY
from reports.services.submission import ReportInput, report_submit
station = Station.objects.get(pk=int(sys.argv[1]))
category = Category.objects.get(code="V3")
created = 0
for _ in range(int(sys.argv[2])):
    data = ReportInput(uuid=uuid.uuid4(), station=station, category=category)
    created += report_submit(data=data, observer=None, channel="citizen")[1]
print(created)
"""


def submit_elsewhere(station, count: int, redis_url: str) -> str:
    """Submit reports from another process whose broker is `redis_url`; return its output."""
    return site_process_run(SUBMIT_SCRIPT, str(station.pk), str(count), redis_url=redis_url)


def test_reports_sent_while_redis_is_down_are_aggregated_once_it_is_back(election, stations):
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = redis_start(port)
    try:
        with celery_worker(redis_url=redis_url, beat=True):
            redis_stop(redis)
            assert submit_elsewhere(stations[201], 10, redis_url) == "10"
            assert Report.objects.filter(aggregated_at__isnull=True).count() == 10
            redis = redis_start(port)
            wait_until(lambda: all_aggregated(10), timeout=45)
    finally:
        redis_stop(redis)
    assert reports_counted(election) == 10
    assert_tallies_exact()


def test_a_worker_killed_mid_task_loses_nothing_and_counts_nothing_twice(election, stations):
    with celery_worker() as worker:
        submit(stations[101], "V3")
        wait_until(lambda: all_aggregated(1))
        with database_connection() as blocker:
            # Hold the tally row every aggregation updates: the worker claims the next
            # reports, clusters them, then waits here, mid-transaction, until killed.
            blocker.execute(
                "SELECT 1 FROM reports_tally WHERE dimension = 'all' FOR UPDATE"
            ).fetchall()
            for _ in range(5):
                submit(stations[101], "V3")
            with database_connection(autocommit=True) as watcher:
                wait_until(lambda: lock_waiters(watcher) >= 1)
            worker_kill(worker)
            blocker.rollback()
    wait_until(lambda: Report.objects.filter(aggregated_at__isnull=True).count() == 5)
    assert Incident.objects.get().report_count == 1
    with celery_worker(beat=True):
        wait_until(lambda: all_aggregated(6))
    assert Incident.objects.get().report_count == 6
    assert reports_counted(election) == 6
    assert_tallies_exact()


def test_two_workers_on_the_same_reports_count_each_once(election, stations):
    with celery_worker(), celery_worker():
        reports = [submit(stations[n], "V4") for n in (101, 102, 201, 3601) for _ in range(10)]
        for report in reports:
            aggregate_report.delay(report.pk)
            aggregate_report.delay(report.pk)
        wait_until(lambda: all_aggregated(40))
    assert reports_counted(election) == 40
    assert sorted(Incident.objects.values_list("report_count", flat=True)) == [10, 10, 10, 10]
    assert_tallies_exact()


def test_a_burst_of_reports_starts_one_run_that_aggregates_them_all(election, stations):
    """The kick: 30 reports in a burst publish one message, not 30; the run it starts takes
    every one of them (no beat here, so nothing else could), and clears the kick when it
    ends, so that the next report starts a run of its own."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    cache.delete(AGGREGATION_KICK_KEY)
    for _ in range(30):
        submit(stations[101], "V3")
    assert broker.llen("celery") == 1
    with celery_worker():
        wait_until(lambda: all_aggregated(30))
        wait_until(lambda: cache.get(AGGREGATION_KICK_KEY) is None)  # the run has ended
        submit(stations[102], "V3")
        wait_until(lambda: all_aggregated(31))
    assert reports_counted(election) == 31
    assert_tallies_exact()


def test_the_worker_outlives_redis_going_away_during_a_kicked_run(election, stations, monkeypatch):
    """A kicked run starts at once and pauses between its reads: no message waits in the
    worker for a countdown, which would make Celery's worker exit when Redis goes away."""
    monkeypatch.setenv("AGGREGATION_SWEEP_SECONDS", "30")
    monkeypatch.setenv("AGGREGATION_KICK_DELAY_MS", "3000")
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = redis_start(port)
    try:
        with celery_worker(redis_url=redis_url, beat=True) as worker:
            assert submit_elsewhere(stations[101], 20, redis_url) == "20"
            redis_stop(redis)  # while the run the burst kicked pauses or reads
            time.sleep(5)
            assert worker.poll() is None, worker.log_path.read_text()[-3000:]
            redis = redis_start(port)
            assert submit_elsewhere(stations[102], 5, redis_url) == "5"
            wait_until(lambda: all_aggregated(25), timeout=60)
    finally:
        redis_stop(redis)
    assert reports_counted(election) == 25
    assert_tallies_exact()
