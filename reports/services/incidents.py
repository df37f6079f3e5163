"""Moderators' decisions on incidents: claims, verify, reject, merge, split, escalate, notes,
questions to observers, and the log of downloads of original evidence.

Rules every decision follows:
1. The actor must be allowed the incident's okrug (StaffScope), else OutOfScope.
2. The actor must hold the claim or be able to take it: one conditional UPDATE claims an
   incident that is free, lapsed or already the actor's, so of two moderators acting at once
   exactly one wins; the other gets IncidentHeld naming the holder. The UPDATE also locks the
   row until the decision commits.
3. The change and exactly one audit entry (who, what, when, before, after) commit together.
4. Reports follow their incident's status, and the aggregates are told which reports changed.
"""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from reports.models import (
    Escalation,
    Evidence,
    EvidenceAccess,
    Incident,
    IncidentNote,
    Question,
    Report,
    ReviewStatus,
)
from reports.selectors import okrug_in_scope, unclaimed
from reports.services.aggregation import incident_recompute, report_mark_changed
from reports.services.audit import audit_record


class DecisionRefused(Exception):
    """A decision that was not made; `message` says why, in the actor's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class IncidentHeld(DecisionRefused):
    """Someone else holds an unexpired claim on the incident."""


class OutOfScope(DecisionRefused):
    """The incident is in an okrug the actor is not allowed."""


def claim_duration() -> timedelta:
    return timedelta(minutes=settings.CLAIM_MINUTES)


def scope_check(actor: AbstractBaseUser, incident: Incident) -> None:
    okrug_id = Incident.objects.filter(pk=incident.pk).values_list("station__okrug_id", flat=True)
    if not okrug_id or not okrug_in_scope(actor, okrug_id[0]):
        raise OutOfScope(
            _("Incident #%(id)s is outside the okrugs you work on.") % {"id": incident.pk}
        )


def held_refusal(incident_id: int) -> DecisionRefused:
    current = Incident.objects.select_related("claimed_by").filter(pk=incident_id).first()
    if current is None:
        return DecisionRefused(
            _("Incident #%(id)s no longer exists (merged?).") % {"id": incident_id}
        )
    holder = current.claimed_by
    return IncidentHeld(
        _("Incident #%(id)s is being handled by %(holder)s until %(until)s.")
        % {
            "id": incident_id,
            "holder": (holder.get_full_name() or holder.get_username()) if holder else "?",
            "until": formats.time_format(timezone.localtime(current.claimed_until), "H:i"),
        }
    )


def incident_claim(*, incident: Incident, actor: AbstractBaseUser) -> Incident:
    """Claim an incident for CLAIM_MINUTES, or renew the actor's own claim.

    Raises IncidentHeld when someone else holds an unexpired claim, OutOfScope outside the
    actor's okrugs.
    """
    scope_check(actor, incident)
    now = timezone.now()
    until = now + claim_duration()
    won = (
        Incident.objects.filter(pk=incident.pk)
        .filter(unclaimed(now) | Q(claimed_by=actor))
        .update(claimed_by=actor, claimed_until=until)
    )
    if not won:
        raise held_refusal(incident.pk)
    incident.claimed_by, incident.claimed_until = actor, until
    return incident


def incident_release(*, incident: Incident, actor: AbstractBaseUser) -> bool:
    """Give up the actor's own claim; return whether there was one."""
    released = Incident.objects.filter(pk=incident.pk, claimed_by=actor).update(
        claimed_by=None, claimed_until=None
    )
    incident.claimed_by, incident.claimed_until = None, None
    return bool(released)


def _take(incident: Incident, actor: AbstractBaseUser) -> Incident:
    """Claim (row locked until commit) and return the incident as it now is; if it is
    public, mark it and its public reports as once public before anything changes them."""
    incident_claim(incident=incident, actor=actor)
    incident = Incident.objects.select_related("station", "category").get(pk=incident.pk)
    if incident.status == ReviewStatus.VERIFIED:
        published_mark(incident)
    return incident


def published_mark(incident: Incident) -> None:
    """Remember that public readers may hold this incident and its reports (the public
    rows of reports.domain.records), so that the sync can tell them when these leave."""
    now = timezone.now()
    Incident.objects.filter(pk=incident.pk, published_at=None).update(published_at=now)
    reports = Report.objects.filter(incident=incident, published_at=None)
    reports.exclude(status=ReviewStatus.REJECTED).update(published_at=now)


def incident_state(incident: Incident) -> dict:
    """What the audit log keeps of an incident before and after a decision."""
    return {
        "status": incident.status,
        "category": incident.category_id,
        "severity": incident.severity,
        "station": incident.station_id,
        "needs_mobile_group": incident.needs_mobile_group,
        "needs_lawyer": incident.needs_lawyer,
        "report_count": incident.report_count,
    }


def _report_ids(incident: Incident) -> list[int]:
    return sorted(Report.objects.filter(incident=incident).values_list("pk", flat=True))


def _reports_follow(incident: Incident) -> None:
    """Give the incident's reports its status, and have the aggregates count them again."""
    report_ids = _report_ids(incident)
    Report.objects.filter(pk__in=report_ids).update(
        status=incident.status, updated_at=timezone.now()
    )
    report_mark_changed(report_ids=report_ids)


def _decide_status(
    *, incident: Incident, actor: AbstractBaseUser, status: str, action: str, note: str
) -> Incident:
    incident = _take(incident, actor)
    if incident.status == status:
        raise DecisionRefused(
            _("Incident #%(id)s is already %(status)s.")
            % {"id": incident.pk, "status": incident.get_status_display()}
        )
    before = incident_state(incident)
    incident.status = status
    incident.claimed_by, incident.claimed_until = None, None
    incident.save(update_fields=["status", "claimed_by", "claimed_until", "updated_at"])
    _reports_follow(incident)
    audit_record(
        actor=actor, action=action, obj=incident, before=before, after=incident_state(incident),
        note=note,
    )  # fmt: skip
    return incident


@transaction.atomic
def incident_verify(*, incident: Incident, actor: AbstractBaseUser, note: str = "") -> Incident:
    """Mark an incident verified and release the claim."""
    return _decide_status(
        incident=incident,
        actor=actor,
        status=ReviewStatus.VERIFIED,
        action="incident_verify",
        note=note,
    )


@transaction.atomic
def incident_reject(*, incident: Incident, actor: AbstractBaseUser, reason: str) -> Incident:
    """Reject an incident with a reason (required) and release the claim."""
    if not reason.strip():
        raise DecisionRefused(_("Say why the incident is rejected."))
    return _decide_status(
        incident=incident,
        actor=actor,
        status=ReviewStatus.REJECTED,
        action="incident_reject",
        note=reason.strip(),
    )


@transaction.atomic
def incident_escalate(
    *, incident: Incident, actor: AbstractBaseUser, kind: str, note: str = ""
) -> Escalation:
    """Ask for a mobile group, a lawyer or a complaint. The actor keeps the claim."""
    if kind not in Escalation.Kind.values:
        raise DecisionRefused(_("Unknown kind of escalation: %(kind)s") % {"kind": kind})
    incident = _take(incident, actor)
    if incident.status == ReviewStatus.REJECTED:
        raise DecisionRefused(
            _("Incident #%(id)s was rejected; verify it before escalating.") % {"id": incident.pk}
        )
    before = incident_state(incident)
    incident.status = ReviewStatus.ESCALATED
    incident.needs_mobile_group |= kind == Escalation.Kind.MOBILE_GROUP
    incident.needs_lawyer |= kind in (Escalation.Kind.LAWYER, Escalation.Kind.COMPLAINT)
    incident.save(update_fields=["status", "needs_mobile_group", "needs_lawyer", "updated_at"])
    escalation = Escalation.objects.create(
        incident=incident, kind=kind, created_by=actor, note=note.strip()
    )
    _reports_follow(incident)
    after = incident_state(incident) | {"escalation": kind}
    audit_record(
        actor=actor, action="incident_escalate", obj=incident, before=before, after=after,
        note=note.strip(),
    )  # fmt: skip
    return escalation


@transaction.atomic
def incident_note(*, incident: Incident, actor: AbstractBaseUser, text: str) -> IncidentNote:
    """Add a note to an incident. The actor keeps the claim."""
    if not text.strip():
        raise DecisionRefused(_("The note is empty."))
    incident = _take(incident, actor)
    note = IncidentNote.objects.create(incident=incident, author=actor, text=text.strip())
    audit_record(
        actor=actor, action="incident_note", obj=incident, after={"note": note.pk},
        note=note.text,
    )  # fmt: skip
    return note


@transaction.atomic
def question_ask(*, report: Report, actor: AbstractBaseUser, text: str) -> Question:
    """Ask a report's observer a question; it appears in their "My reports".

    The report's incident must be free or the actor's, like any other decision on it.
    """
    if not text.strip():
        raise DecisionRefused(_("The question is empty."))
    if report.observer_id is None:
        raise DecisionRefused(_("This report was sent anonymously; there is nobody to ask."))
    if report.incident_id is None:
        raise DecisionRefused(_("This report is not part of an incident yet; try again shortly."))
    incident = _take(Incident(pk=report.incident_id), actor)
    question = Question.objects.create(report=report, asked_by=actor, text=text.strip())
    audit_record(
        actor=actor, action="question_ask", obj=incident,
        after={"question": question.pk, "report": report.pk}, note=question.text,
    )  # fmt: skip
    return question


def _take_all(incidents: Iterable[Incident], actor: AbstractBaseUser) -> list[Incident]:
    """Claim several incidents in id order (so two merges cannot deadlock)."""
    return [_take(incident, actor) for incident in sorted(incidents, key=lambda i: i.pk)]


def _repoint(incident_ids: list[int], target: Incident) -> None:
    """Make every row that refers to one of these incidents refer to `target` instead:
    reports, notes, escalations, and whatever else other parts of the site attach (alerts,
    dispatches of mobile groups), so nothing is lost when the incidents are deleted."""
    for relation in Incident._meta.related_objects:
        if relation.one_to_many:
            field = relation.field.name
            relation.related_model._default_manager.filter(**{f"{field}__in": incident_ids}).update(
                **{field: target}
            )


@transaction.atomic
def incident_merge(
    *, target: Incident, others: list[Incident], actor: AbstractBaseUser
) -> Incident:
    """Merge duplicate incidents of one station into `target`.

    Whatever refers to the others (reports, notes, escalations, alerts…) moves to the
    target; the others are deleted.
    The target keeps its category and status, is recomputed from its reports, and is pinned
    so the clustering job leaves the arrangement alone. One audit entry, on the target,
    lists what was merged.
    """
    others = [other for other in others if other.pk != target.pk]
    if not others:
        raise DecisionRefused(_("Choose at least two incidents to merge."))
    taken = {incident.pk: incident for incident in _take_all([target, *others], actor)}
    target, others = taken[target.pk], [taken[other.pk] for other in others]
    if any(other.station_id != target.station_id for other in others):
        raise DecisionRefused(_("Only incidents at the same station can be merged."))
    before = incident_state(target) | {
        "reports": _report_ids(target),
        "merged": [
            incident_state(other) | {"id": other.pk, "reports": _report_ids(other)}
            for other in others
        ],
    }
    other_ids = [other.pk for other in others]
    _repoint(other_ids, target)
    Incident.objects.filter(pk__in=other_ids).delete()
    Incident.objects.filter(pk=target.pk).update(pinned_by_moderator=True)
    target = incident_recompute(incident=target)
    _reports_follow(target)
    audit_record(
        actor=actor, action="incident_merge", obj=target, before=before,
        after=incident_state(target) | {"reports": _report_ids(target)},
    )  # fmt: skip
    return target


@transaction.atomic
def incident_split(
    *, incident: Incident, report_ids: list[int], actor: AbstractBaseUser
) -> Incident:
    """Move some of an incident's reports into a new incident; return the new one.

    Both incidents are pinned and recomputed. The new incident is new (unverified), has the
    category of its earliest report and is claimed by the actor. One audit entry, on the
    original incident, names the new one and the reports moved.
    """
    incident = _take(incident, actor)
    moving = Report.objects.filter(incident=incident, pk__in=report_ids)
    moving_ids = sorted(moving.values_list("pk", flat=True))
    if not moving_ids or len(moving_ids) >= incident.report_count:
        raise DecisionRefused(
            _("Choose some, but not all, of the incident's reports to split off.")
        )
    before = incident_state(incident) | {"reports": _report_ids(incident)}
    first = moving.select_related("category").order_by("received_at").first()
    span = moving.aggregate(first_at=Min("received_at"), last_at=Max("received_at"))
    new = Incident.objects.create(
        election_id=incident.election_id,
        station_id=incident.station_id,
        category=first.category,
        severity=first.category.severity,
        status=ReviewStatus.NEW,
        pinned_by_moderator=True,
        claimed_by=actor,
        claimed_until=timezone.now() + claim_duration(),
        **span,
    )
    Report.objects.filter(pk__in=moving_ids).update(incident=new)
    Incident.objects.filter(pk=incident.pk).update(pinned_by_moderator=True)
    incident = incident_recompute(incident=incident)
    new = incident_recompute(incident=new)
    _reports_follow(new)
    audit_record(
        actor=actor, action="incident_split", obj=incident, before=before,
        after=incident_state(incident)
        | {"reports": _report_ids(incident), "split_into": new.pk, "moved": moving_ids},
    )  # fmt: skip
    return new


@transaction.atomic
def evidence_download_log(
    *, evidence: Evidence, actor: AbstractBaseUser, ip_address: str | None = None
) -> EvidenceAccess:
    """Record one download of an original (chain of custody), before the file is sent."""
    if not okrug_in_scope(actor, evidence.report.station.okrug_id):
        raise OutOfScope(_("This evidence is outside the okrugs you work on."))
    return EvidenceAccess.objects.create(
        evidence=evidence, user=actor, sha256=evidence.sha256, ip_address=ip_address
    )
