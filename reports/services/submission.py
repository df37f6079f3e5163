"""Accepting reports exactly once."""

import functools
import hashlib
import json
import logging
import uuid as uuid_module
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.models import (
    Category,
    Channel,
    Observer,
    Report,
    ReporterRole,
    Station,
    Trust,
)
from reports.prepared import prepared_cursor
from reports.services.aggregation import enqueue_aggregation
from reports.services.signin import SendKey, send_key_holds_sql

log = logging.getLogger(__name__)


class ReportConflict(Exception):
    """The same client UUID arrived again with different content."""

    message = _(
        "A different report with this identifier was already received. "
        "It was not changed; send a new report instead."
    )


@dataclass(frozen=True)
class ReportInput:
    """The content of a report as a volunteer, a citizen or a partner sent it."""

    uuid: uuid_module.UUID
    station: Station
    category: Category
    occurred_at: datetime | None = None
    description: str = ""
    count: int | None = None
    complaint_filed: bool = False
    police_called: bool = False
    violation_stopped: bool = False
    needs_mobile_group: bool = False
    needs_lawyer: bool = False

    def content_hash(self, observer: Observer | None) -> str:
        content = {
            "station": self.station.pk,
            "category": self.category.pk,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "description": self.description.strip(),
            "count": self.count,
            "complaint_filed": self.complaint_filed,
            "police_called": self.police_called,
            "violation_stopped": self.violation_stopped,
            "needs_mobile_group": self.needs_mobile_group,
            "needs_lawyer": self.needs_lawyer,
            "observer": observer.pk if observer else None,
        }
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class SenderGone(Exception):
    """The send key's session no longer holds: signed out, link revoked, user deactivated."""


def report_submit(
    *,
    data: ReportInput,
    observer: Observer | None,
    channel: str,
    send_key: SendKey | None = None,
) -> tuple[Report, bool]:
    """Store a report exactly once per client UUID; return (report, created).

    The row is committed before this returns, so the caller may say "received". The same
    UUID with the same content returns the stored report; with other content it raises
    ReportConflict. Aggregation is enqueued after commit; if the broker is down the periodic
    sweep picks the report up later, so submitting never fails because of the broker.

    With a `send_key` (views.report_send), the statement that stores the report also checks
    that the key's session still holds, and takes the reporter's role and trust from the
    observer's row; it raises SenderGone when the session does not hold. `observer` then
    needs only its id.
    """
    content_hash = data.content_hash(observer)
    role, trust = (
        ("", 0) if send_key else reporter_role_and_trust(observer=observer, channel=channel)
    )
    # In autocommit one INSERT is its own transaction: BEGIN and COMMIT would only add two
    # round trips. Inside a caller's transaction a savepoint keeps it usable after a
    # duplicate UUID.
    outer = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if outer else nullcontext():
            report = Report(
                uuid=data.uuid,
                election_id=data.station.election_id,
                station=data.station,
                category=data.category,
                observer=observer,
                reporter_role=role,
                trust=trust,
                channel=channel,
                occurred_at=data.occurred_at,
                received_at=timezone.now(),
                description=data.description.strip(),
                count=data.count,
                complaint_filed=data.complaint_filed,
                police_called=data.police_called,
                violation_stopped=data.violation_stopped,
                needs_mobile_group=data.needs_mobile_group,
                needs_lawyer=data.needs_lawyer,
                content_hash=content_hash,
            )
            report_insert(report, send_key=send_key)
    except IntegrityError:
        existing = Report.objects.filter(uuid=data.uuid).first()
        if existing is None:
            raise
        if existing.content_hash != content_hash:
            raise ReportConflict(str(data.uuid)) from None
        return existing, False
    transaction.on_commit(enqueue_aggregation)
    return report, True


def report_insert(report: Report, *, send_key: SendKey | None = None) -> None:
    """report.save() of a new report (the model has no save() of its own and no signal
    receivers): the ORM's INSERT, its columns and values, with the statement built once per
    process and prepared once per connection (reports.prepared), since every report runs it.

    With a send key, INSERT … SELECT: the row is stored only while the key's session holds,
    with the role and trust of the observer's row (report_submit); SenderGone otherwise."""
    statement, fields, returning = _report_insert_statement(guarded=send_key is not None)
    values = [field.get_db_prep_save(field.pre_save(report, True), connection) for field in fields]
    if send_key is not None:
        values += [send_key.session_id, send_key.observer_id]
    with prepared_cursor() as cursor:
        cursor.execute(statement, values)
        if returning:
            # The id and the columns with a database default, as the ORM reads them back.
            row = cursor.fetchone()
            if row is None:
                raise SenderGone
            for field, value in zip(returning, row, strict=True):
                setattr(report, field.attname, value)
        else:
            report.pk = connection.ops.last_insert_id(cursor, Report._meta.db_table, "id")
    report._state.adding = False
    report._state.db = connection.alias


# The report's columns that a guarded INSERT takes from the observer's row, and from which.
OBSERVER_COLUMNS = {"reporter_role": "o.legal_status", "trust": "o.trust"}


@functools.cache
def _report_insert_statement(*, guarded: bool = False) -> tuple[str, list, list]:
    """The SQL the ORM writes for Report.objects.create(), the fields whose values are its
    parameters, in order, and the fields it returns (none where the database cannot).

    Guarded: the same columns, given by SELECT from the send key's session and observer
    (services.signin.send_key_holds_sql) instead of VALUES, the role and trust from the
    observer's row, and those two returned as well. On PostgreSQL each parameter is cast to
    its column's type, as VALUES would infer it."""
    meta = Report._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    returning = []
    if connection.features.can_return_columns_from_insert:
        returning = list(meta.db_returning_fields)
        if guarded:
            returning += [meta.get_field(name) for name in OBSERVER_COLUMNS]
    query = InsertQuery(Report)
    query.insert_values(fields, [Report()])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = returning or None
    [(statement, _values)] = compiler.as_sql()
    if not guarded:
        return statement, fields, returning
    into, _values_clause = statement.split(" VALUES (", 1)
    returning_clause = statement[statement.index(" RETURNING ") :]
    cast = connection.vendor == "postgresql"
    given = [
        OBSERVER_COLUMNS.get(f.attname) or (f"%s::{f.cast_db_type(connection)}" if cast else "%s")
        for f in fields
    ]
    tables, holds = send_key_holds_sql()
    # Names and casts come from the models; values only from parameters.
    select = f"SELECT {', '.join(given)} FROM {tables} WHERE {holds}"  # noqa: S608
    parameters = [f for f in fields if f.attname not in OBSERVER_COLUMNS]
    return f"{into} {select}{returning_clause}", parameters, returning


def reporter_role_and_trust(*, observer: Observer | None, channel: str) -> tuple[str, int]:
    """An observer's role is their legal status; without one it is the system or a citizen."""
    if observer is not None:
        return observer.legal_status, observer.trust
    if channel == Channel.SYSTEM:
        return ReporterRole.SYSTEM, Trust.TRUSTED
    return ReporterRole.CITIZEN, Trust.CITIZEN
