"""Accepting reports exactly once, and the audit log every other service writes to."""

import functools
import hashlib
import json
import logging
import time
import uuid as uuid_module
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from ..models import (
    AuditEntry,
    Category,
    Channel,
    Observer,
    Report,
    ReporterRole,
    Station,
    Trust,
)
from ..prepared import prepared_cursor

log = logging.getLogger(__name__)


class ReportConflict(Exception):
    """The same client UUID arrived again with different content."""

    message = _(
        "A different report with this identifier was already received. "
        "It was not changed; send a new report instead."
    )


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    obj,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> AuditEntry:
    """Append one entry to the audit log. Call inside the transaction that made the change."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        before=before,
        after=after,
        note=note,
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


def report_submit(
    *, data: ReportInput, observer: Observer | None, channel: str
) -> tuple[Report, bool]:
    """Store a report exactly once per client UUID; return (report, created).

    The row is committed before this returns, so the caller may say "received". The same
    UUID with the same content returns the stored report; with other content it raises
    ReportConflict. Aggregation is enqueued after commit; if the broker is down the periodic
    sweep picks the report up later, so submitting never fails because of the broker.
    """
    content_hash = data.content_hash(observer)
    role, trust = reporter_role_and_trust(observer=observer, channel=channel)
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
            report_insert(report)
    except IntegrityError:
        existing = Report.objects.filter(uuid=data.uuid).first()
        if existing is None:
            raise
        if existing.content_hash != content_hash:
            raise ReportConflict(str(data.uuid)) from None
        return existing, False
    transaction.on_commit(enqueue_aggregation)
    return report, True


def report_insert(report: Report) -> None:
    """report.save() of a new report (the model has no save() of its own and no signal
    receivers): the ORM's INSERT, its columns and values, with the statement built once per
    process and prepared once per connection (reports.prepared), since every report runs it."""
    statement, fields = _report_insert_statement()
    values = [field.get_db_prep_save(field.pre_save(report, True), connection) for field in fields]
    with prepared_cursor() as cursor:
        cursor.execute(statement, values)
        if connection.features.can_return_columns_from_insert:
            report.pk = cursor.fetchone()[0]
        else:
            report.pk = connection.ops.last_insert_id(cursor, Report._meta.db_table, "id")
    report._state.adding = False
    report._state.db = connection.alias


@functools.cache
def _report_insert_statement() -> tuple[str, list]:
    """The SQL the ORM writes for Report.objects.create(), and its fields in order."""
    meta = Report._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    query = InsertQuery(Report)
    query.insert_values(fields, [Report()])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = (
        [meta.pk] if connection.features.can_return_columns_from_insert else None
    )
    [(statement, _values)] = compiler.as_sql()
    return statement, fields


def reporter_role_and_trust(*, observer: Observer | None, channel: str) -> tuple[str, int]:
    """An observer's role is their legal status; without one it is the system or a citizen."""
    if observer is not None:
        return observer.legal_status, observer.trust
    if channel == Channel.SYSTEM:
        return ReporterRole.SYSTEM, Trust.TRUSTED
    return ReporterRole.CITIZEN, Trust.CITIZEN


# The kick: a short-lived key in the cache saying "an aggregation run will read the pending
# reports". A submission publishes a run only when it sets the key. The run deletes the key
# before each read and sets it again while it pauses between reads
# (services.aggregation.reports_aggregate_kicked), so a report committed while the key
# exists is read by that run: at 200 reports a second the workers get one message and a
# batch every AGGREGATION_KICK_DELAY_MS instead of one message and one transaction per
# report. No message waits for a countdown: Celery's worker exits when Redis goes away while
# it holds an unacknowledged message (kombu 5.7), so the run itself pauses.
AGGREGATION_KICK_KEY = "aggregation:kick"
AGGREGATION_KICK_SECONDS = 5
# After a broker or cache failure, kicks are skipped for this long (the sweep aggregates),
# so that an outage does not cost every submission a failed connection.
BROKER_PAUSE_SECONDS = 5
_broker_paused_until = 0.0
# After this process found the kick held, its next reports skip the check for this long.
# A held kick means a run will clear it and then read: a report committed in the next
# 100 ms is read by that run, or, if the run already read, by its next round (it read this
# process's earlier report, so it goes on), 500 ms later. A run that stops at its time
# limit in between leaves it to the sweep, which is the guarantee in any case.
KICK_HELD_SKIP_SECONDS = 0.1
_kick_held_until = 0.0


def enqueue_aggregation() -> None:
    """Make sure an aggregation run starts after this commit; never raises for the broker.

    Reports are committed and marked not-yet-aggregated before this is called, so a kick
    that is lost (broker down, message dropped, worker killed) only delays them until the
    next kick or the periodic sweep.
    """
    from django.core.cache import cache

    from ..tasks import aggregate_kicked

    global _broker_paused_until, _kick_held_until
    now = time.monotonic()
    if now < _broker_paused_until or now < _kick_held_until:
        return
    try:
        if not cache.add(AGGREGATION_KICK_KEY, 1, timeout=AGGREGATION_KICK_SECONDS):
            _kick_held_until = now + KICK_HELD_SKIP_SECONDS
            return
        aggregate_kicked.delay()
    except (OperationalError, RedisError, OSError):
        _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        log.warning("could not kick the aggregation; the sweep will take the reports")
        with suppress(RedisError, OSError):
            cache.delete(AGGREGATION_KICK_KEY)


def aggregation_kick_clear() -> None:
    """The run clears the kick before it reads the pending reports."""
    from django.core.cache import cache

    try:
        cache.delete(AGGREGATION_KICK_KEY)
    except (RedisError, OSError):
        # The kick stays until it expires: at worst a report waits that long for a new run.
        log.warning("could not clear the aggregation kick; it expires by itself")


def aggregation_kick_hold() -> None:
    """The run sets the kick while it pauses: reports committed meanwhile are its to read."""
    from django.core.cache import cache

    try:
        cache.set(AGGREGATION_KICK_KEY, 1, timeout=AGGREGATION_KICK_SECONDS)
    except (RedisError, OSError):
        # Submissions then start runs of their own, or leave their reports to the sweep.
        log.warning("could not hold the aggregation kick")
