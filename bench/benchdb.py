"""What the benchmarks that keep their own PostgreSQL database share: creating that database
and starting Django on it, with Celery tasks run in-process."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def database_create(url: str, *, fresh: bool = False) -> None:
    """Create the benchmark's database unless it exists; with `fresh`, drop it first."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as connection:
        if fresh:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not exists.fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_start(url: str) -> None:
    """Django on the database at `url`, Celery tasks in-process (nothing is enqueued: the
    benchmark stays self-contained)."""
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="observer.settings", ALLOWED_HOSTS="testserver"
    )
    os.environ.setdefault("SECRET_KEY", "bench-only-key")
    os.environ["REDIS_URL"] = ""
    os.environ["TASKS_IN_PROCESS"] = "1"  # on purpose: the benchmark sends nothing anywhere
    import django

    django.setup()
