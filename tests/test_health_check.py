"""A persistent PostgreSQL connection is checked before each request without a round trip
(observer/postgresql): one that PostgreSQL ended is replaced, one it still serves is kept
and asked nothing."""

import time

import psycopg
import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the health check is PostgreSQL's backend's; this run is on SQLite",
    ),
]


def server_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"] or None,
        port=settings["PORT"] or None, password=settings["PASSWORD"] or None, autocommit=True,
    )  # fmt: skip


def last_statement(backend_pid: int) -> str:
    with server_connection() as other:
        row = other.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s", [backend_pid]
        ).fetchone()
    return row[0]


def request_starts() -> None:
    """What Django does before a request's first query."""
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def test_a_live_connection_is_kept_and_asked_nothing():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'before the check'")
    backend = connection.connection.info.backend_pid
    request_starts()
    assert connection.connection is not None
    assert connection.connection.info.backend_pid == backend
    assert last_statement(backend) == "SELECT 'before the check'"


def test_a_connection_the_server_ended_is_replaced():
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    with server_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])
    deadline = time.monotonic() + 10
    while last_statement_exists(backend) and time.monotonic() < deadline:
        time.sleep(0.05)
    request_starts()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (now_serving,) = cursor.fetchone()
    assert now_serving != backend


def last_statement_exists(backend_pid: int) -> bool:
    with server_connection() as other:
        row = other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend_pid])
        return row.fetchone() is not None
