"""The report INSERT is built once from Django's own insert compiler (a private API), so a
Django upgrade that changes what the ORM writes must fail here, loudly, not in production."""

import uuid

import django
import pytest
from django.db import connection
from django.utils import timezone

from reports.models import Report
from reports.services.submission import _report_insert_statement, report_insert

pytestmark = pytest.mark.django_db


def statements_of(action) -> list[tuple[str, tuple]]:
    seen = []

    def record(execute, sql, params, many, context):
        seen.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        action()
    return seen


def a_report(stations, categories) -> Report:
    return Report(
        uuid=uuid.uuid4(),
        election_id=stations[101].election_id,
        station=stations[101],
        category=categories["V3"],
        received_at=timezone.now(),
        description="Очередь у входа",
        reporter_role="citizen",
        trust=0,
        channel="web",
        content_hash="0" * 64,
    )


def test_the_prepared_insert_is_what_the_orm_itself_writes(stations, categories):
    statement, _fields, _returning = _report_insert_statement()
    [(orm_sql, orm_params)] = statements_of(lambda: a_report(stations, categories).save())
    ours = a_report(stations, categories)
    [(our_sql, our_params)] = statements_of(lambda: report_insert(ours))
    assert our_sql == orm_sql == statement
    assert len(our_params) == len(orm_params)
    stored = Report.objects.get(pk=ours.pk)
    assert (stored.uuid, stored.description) == (ours.uuid, "Очередь у входа")


def test_the_insert_was_checked_on_this_django_series():
    """Moving to another Django series: re-read InsertQuery and SQLInsertCompiler, then
    update this pin."""
    assert django.VERSION[:2] == (5, 2)
