"""Real services for integration tests: a Celery worker process against the test database.

Tests using these need `transaction=True` database access so the worker sees committed rows.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def require_real_services() -> None:
    """Skip, saying why, unless PostgreSQL and Redis are configured (as `.ci/run` does)."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (a real Redis); .ci/run sets it")
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL; .ci/run sets it")


def worker_database_url() -> str:
    """DATABASE_URL of the database pytest-django is using right now (the test database)."""
    db = settings.DATABASES["default"]
    auth = db["USER"] or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(
    *, redis_url: str | None = None, concurrency: int = 1, beat: bool = False
) -> Iterator[subprocess.Popen]:
    """Run `celery worker` in a child process until the block ends; wait until it is ready."""
    env = dict(
        os.environ,
        DATABASE_URL=worker_database_url(),
        REDIS_URL=redis_url or settings.REDIS_URL,
        SECRET_KEY=settings.SECRET_KEY,
    )
    command = [
        sys.executable, "-m", "celery", "-A", "observer", "worker",
        "--pool=prefork", f"--concurrency={concurrency}", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    if beat:
        command.append("--beat")
        command.append(f"--schedule={ROOT / 'var' / f'celerybeat-{os.getpid()}'}")
    (ROOT / "var").mkdir(exist_ok=True)
    log_path = ROOT / "var" / f"celery-worker-{os.getpid()}-{time.monotonic_ns()}.log"
    log_file = log_path.open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=log_file)
    process.log_path = log_path
    try:
        wait_until(
            lambda: "ready" in log_path.read_text() or process.poll() is not None, timeout=60
        )
        if process.poll() is not None:
            raise AssertionError(f"worker exited:\n{log_path.read_text()[-4000:]}")
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


def wait_until(predicate, *, timeout: float = 30, interval: float = 0.1):
    """Poll until predicate() is truthy; return its value or fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def children_of(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def worker_kill(worker: subprocess.Popen) -> None:
    """SIGKILL a worker and its pool processes, as a machine losing power would."""
    for pid in [*children_of(worker.pid), worker.pid]:
        os.kill(pid, signal.SIGKILL)


def database_connection(*, autocommit: bool = False) -> psycopg.Connection:
    """A connection of the test's own, beside Django's, e.g. to hold a lock a worker needs."""
    url = worker_database_url().replace("postgres://", "postgresql://", 1)
    return psycopg.connect(url, autocommit=autocommit)


def lock_waiters(watcher: psycopg.Connection) -> int:
    """How many sessions of the test database are waiting for a lock."""
    waiting = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock'"
    )
    return watcher.execute(waiting).fetchone()[0]


def site_process_run(script: str, *args: str, redis_url: str) -> str:
    """Run `script` in a fresh process of the site against the test database with this
    REDIS_URL; return what it printed."""
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="observer.settings",
        DATABASE_URL=worker_database_url(),
        REDIS_URL=redis_url,
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="testserver",
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def site_with_redis_down(script: str, *args: str) -> dict:
    """site_process_run with REDIS_URL pointing where nothing listens; the JSON of the
    script's last printed line."""
    output = site_process_run(script, *args, redis_url="redis://127.0.0.1:1/0")
    return json.loads(output.splitlines()[-1])
