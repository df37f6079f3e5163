"""Accepting reports exactly once, and the audit log every other service writes to."""

import hashlib
import json
import logging
import uuid as uuid_module
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
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
    try:
        with transaction.atomic():
            report = Report.objects.create(
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
            transaction.on_commit(lambda: enqueue_aggregation(report.pk))
    except IntegrityError:
        existing = Report.objects.filter(uuid=data.uuid).first()
        if existing is None:
            raise
        if existing.content_hash != content_hash:
            raise ReportConflict(str(data.uuid)) from None
        return existing, False
    return report, True


def reporter_role_and_trust(*, observer: Observer | None, channel: str) -> tuple[str, int]:
    """An observer's role is their legal status; without one it is the system or a citizen."""
    if observer is not None:
        return observer.legal_status, observer.trust
    if channel == Channel.SYSTEM:
        return ReporterRole.SYSTEM, Trust.TRUSTED
    return ReporterRole.CITIZEN, Trust.CITIZEN


def enqueue_aggregation(report_id: int) -> None:
    """Hand a report to the aggregation workers; a broker failure is logged, not raised.

    The report is already committed and marked not-yet-aggregated, so the periodic sweep
    will take it up once the broker is back.
    """
    from ..tasks import aggregate_report

    try:
        aggregate_report.delay(report_id)
    except (OperationalError, RedisError, OSError):
        log.warning("could not enqueue aggregation of report %s; the sweep will", report_id)
