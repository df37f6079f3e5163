"""Reads reused by the moderation panel: what a staff member may see, queues, audit records.

A staff member may be limited to some okrugs (StaffScope rows); without rows they see every
okrug. Every list and every service of the panel goes through these functions so that the
limit holds everywhere.
"""

import operator
from datetime import datetime
from functools import reduce

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Case,
    CharField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from reports.models import (
    AuditEntry,
    Evidence,
    Incident,
    Okrug,
    Question,
    Report,
    ReviewStatus,
    Severity,
    StaffScope,
    Station,
    Tally,
    Tik,
)

_SCOPE_CACHE = "_moderation_okrug_ids"


def staff_okrug_ids(user: AbstractBaseUser) -> frozenset[int] | None:
    """The okrugs a staff member is limited to, or None when not limited.

    Cached on the user object, which lives for one request.
    """
    if user.is_superuser:
        return None
    if not hasattr(user, _SCOPE_CACHE):
        ids = frozenset(StaffScope.objects.filter(user=user).values_list("okrug_id", flat=True))
        setattr(user, _SCOPE_CACHE, ids or None)
    return getattr(user, _SCOPE_CACHE)


def in_scope(queryset: QuerySet, user: AbstractBaseUser, okrug_path: str) -> QuerySet:
    """Limit `queryset` to the user's okrugs, found through the lookup `okrug_path`."""
    okrug_ids = staff_okrug_ids(user)
    if okrug_ids is None:
        return queryset
    return queryset.filter(**{f"{okrug_path}__in": okrug_ids})


def okrugs_for(user: AbstractBaseUser) -> QuerySet[Okrug]:
    return in_scope(Okrug.objects.all(), user, "pk")


def tallies_for(user: AbstractBaseUser) -> QuerySet[Tally]:
    """Every tally, or for a staff member limited to some okrugs the tallies of their own
    places only: their okrugs, TIKs and stations, and their okrugs by category. The
    city-wide dimensions (all, category, phase, severity, status) count the other okrugs'
    reports too, so they are not theirs to read."""
    okrug_ids = staff_okrug_ids(user)
    if okrug_ids is None:
        return Tally.objects.all()
    places = {
        Tally.Dimension.OKRUG: okrug_ids,
        Tally.Dimension.TIK: Tik.objects.filter(okrug_id__in=okrug_ids).values_list(
            "pk", flat=True
        ),
        Tally.Dimension.STATION: Station.objects.filter(okrug_id__in=okrug_ids).values_list(
            "pk", flat=True
        ),
    }
    own = [
        Q(dimension=dimension, key__in=[str(pk) for pk in ids]) for dimension, ids in places.items()
    ]
    own += [
        Q(dimension=Tally.Dimension.OKRUG_CATEGORY, key__startswith=f"{okrug_id}:")
        for okrug_id in okrug_ids
    ]
    return Tally.objects.filter(reduce(operator.or_, own))


def incidents_for(user: AbstractBaseUser) -> QuerySet[Incident]:
    return in_scope(Incident.objects.all(), user, "station__okrug_id")


def reports_for(user: AbstractBaseUser) -> QuerySet[Report]:
    return in_scope(Report.objects.all(), user, "station__okrug_id")


def evidence_for(user: AbstractBaseUser) -> QuerySet[Evidence]:
    return in_scope(Evidence.objects.all(), user, "report__station__okrug_id")


def audit_entries_for(user: AbstractBaseUser) -> QuerySet[AuditEntry]:
    """The whole log for unlimited staff; for limited staff, entries on their incidents."""
    entries = AuditEntry.objects.all()
    if staff_okrug_ids(user) is None:
        return entries
    visible_ids = incidents_for(user).annotate(key=Cast("pk", CharField())).values("key")
    return entries.filter(object_type="incident", object_id__in=visible_ids)


def okrug_in_scope(user: AbstractBaseUser, okrug_id: int) -> bool:
    okrug_ids = staff_okrug_ids(user)
    return okrug_ids is None or okrug_id in okrug_ids


def severity_rank() -> Case:
    """0 for critical, 1 for serious, 2 for procedural: sorts the most urgent first.

    The index incident_queue_order (migration 0010) is on this very expression.
    """
    return Case(
        When(severity=Severity.CRITICAL, then=Value(0)),
        When(severity=Severity.SERIOUS, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def unclaimed(now: datetime | None = None) -> Q:
    """Incidents nobody holds: never claimed, released, or the claim has lapsed."""
    return Q(claimed_by__isnull=True) | Q(claimed_until__lte=now or timezone.now())


def claimed_by(user: AbstractBaseUser, now: datetime | None = None) -> Q:
    return Q(claimed_by=user, claimed_until__gt=now or timezone.now())


def claim_holder(incident: Incident, now: datetime | None = None) -> AbstractBaseUser | None:
    """Who holds the incident right now (the claim may have lapsed). Uses claimed_by as loaded."""
    if incident.claimed_by_id is None or incident.claimed_until is None:
        return None
    if incident.claimed_until <= (now or timezone.now()):
        return None
    return incident.claimed_by


class Queue:
    """The moderators' queues. The first one is the panel's default."""

    CRITICAL = "critical"
    UNCLAIMED = "unclaimed"
    HELP = "help"
    VERIFICATION = "verification"
    PROTOCOLS = "protocols"
    MINE = "mine"
    ALL = "all"


# Raised by the system when an observer's protocol copy differs from the official figures.
PROTOCOL_DISCREPANCY_CATEGORY = "T2"


def queue_filter(queue: str, user: AbstractBaseUser, now: datetime | None = None) -> Q:
    """The condition of one queue; Queue.ALL (or an unknown name) means no condition."""
    now = now or timezone.now()
    open_statuses = [ReviewStatus.NEW, ReviewStatus.ESCALATED]
    conditions = {
        Queue.CRITICAL: Q(status=ReviewStatus.NEW) & unclaimed(now),
        Queue.UNCLAIMED: Q(status__in=open_statuses) & unclaimed(now),
        Queue.HELP: (Q(needs_mobile_group=True) | Q(needs_lawyer=True))
        & Q(status__in=[ReviewStatus.NEW, ReviewStatus.VERIFIED]),
        Queue.VERIFICATION: Q(status=ReviewStatus.NEW),
        Queue.PROTOCOLS: Q(category_id=PROTOCOL_DISCREPANCY_CATEGORY, status=ReviewStatus.NEW),
        Queue.MINE: claimed_by(user, now),
    }
    return conditions.get(queue, Q())


def incident_audit_entries(incident_id: int) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(object_type="incident", object_id=str(incident_id)).order_by(
        "at", "pk"
    )


def answer_waiting() -> Exists:
    """An incident whose observer answered a question since the incident last changed (a
    claim, a decision, a new report): the answer waits for a moderator to read it."""
    return Exists(
        Question.objects.filter(
            report__incident=OuterRef("pk"), answered_at__gt=OuterRef("updated_at")
        )
    )


DECISIONS = ("incident_verify", "incident_reject", "incident_escalate")


def incident_decision(incident_id: int) -> AuditEntry | None:
    """The latest decision on an incident (verify, reject, escalate) with its time and note:
    what its observers are told of it, never who decided."""
    return (
        AuditEntry.objects.filter(
            object_type="incident", object_id=str(incident_id), action__in=DECISIONS
        )
        .order_by("-at", "-pk")
        .only("action", "at", "note")
        .first()
    )
