"""Statements PostgreSQL prepares once per connection, for the two that every report runs.

Django's cursors bind parameters on the client and prepare nothing, so PostgreSQL parses
and plans each statement again; for the observer's five-table lookup (services.signin) that
planning cost more than running it. A prepared cursor binds on the server and psycopg
prepares what it executes, once per connection (its own per-connection cache). It is
wrapped as Django wraps its cursors: database errors become django.db errors, and
execute_wrapper() sees its statements. Elsewhere than on PostgreSQL, with
DB_PREPARED_STATEMENTS off (settings), or while Django logs queries (DEBUG, or a test that
counts them: the log could not show a prepared statement's text), it is Django's own cursor.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper


class PreparingCursor(psycopg.Cursor):
    """Binds parameters on the server and asks psycopg to prepare every statement."""

    def execute(self, query, params=None, *, prepare: bool | None = True, binary=None):
        return super().execute(query, params, prepare=prepare, binary=binary)


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    with connection.cursor() as cursor:  # Django's health check and connection handling
        if (
            connection.vendor != "postgresql"
            or connection.connection.prepare_threshold is None
            or connection.queries_logged
        ):
            yield cursor
            return
        with PreparingCursor(connection.connection) as server:
            yield connection.make_cursor(server)
