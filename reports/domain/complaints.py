"""A complaint draft from a verified incident, to the station chair or to the TIK.

The draft states the station, the time, the facts as reported (by role, never by name), the
category, leaves space for the legal basis, and lists the evidence with the SHA-256 of each
original and its receipt time, so the copies attached can be shown to be untouched.
Build it inside `translation.override("ru")`: a complaint is filed in Russian.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports.models import Evidence, Incident, Report, ReviewStatus

COMPLAINT_STATUSES = (ReviewStatus.VERIFIED, ReviewStatus.ESCALATED)


class Addressee(models.TextChoices):
    STATION = "uik", gettext_lazy("chair of the polling station commission")
    TIK = "tik", gettext_lazy("chair of the territorial commission")


@dataclass(frozen=True)
class Fact:
    received_at: datetime
    # When it happened as the observer reported it; the receipt time when they did not say.
    happened_at: datetime
    reporter_role: str
    description: str
    count: int | None
    violation_stopped: bool
    police_called: bool


@dataclass(frozen=True)
class ComplaintDraft:
    incident: Incident
    addressee: str
    addressee_line: str
    first_at: datetime
    last_at: datetime
    place: str
    facts: list[Fact]
    evidence: list[Evidence]
    drafted_at: datetime

    @property
    def station(self):
        return self.incident.station

    @property
    def category(self):
        return self.incident.category


def addressee_line(incident: Incident, addressee: str) -> str:
    if addressee == Addressee.TIK:
        return _("To the chair of the territorial election commission %(tik)s") % {
            "tik": incident.station.tik.name
        }
    return _("To the chair of the polling station election commission No. %(number)s") % {
        "number": incident.station.number
    }


def place_line(station) -> str:
    """ "territorial commission X, okrug Y; address": only the parts that are known, so no
    empty punctuation is ever printed."""
    commission = ", ".join(
        part
        for part in (
            _("territorial commission %(tik)s") % {"tik": station.tik.name}
            if station.tik_id
            else "",
            _("okrug %(okrug)s") % {"okrug": station.okrug.name} if station.okrug_id else "",
        )
        if part
    )
    return "; ".join(part for part in (commission, station.address.strip()) if part)


def complaint_draft(*, incident: Incident, addressee: str) -> ComplaintDraft:
    incident = Incident.objects.select_related(
        "station__tik", "station__okrug", "election", "category"
    ).get(pk=incident.pk)
    reports = list(
        Report.objects.filter(incident=incident)
        .exclude(status=ReviewStatus.REJECTED)
        .order_by("received_at")
    )
    zone = incident.election.tz
    facts = [
        Fact(
            received_at=timezone.localtime(report.received_at, zone),
            happened_at=timezone.localtime(report.occurred_at or report.received_at, zone),
            reporter_role=report.get_reporter_role_display(),
            description=report.description,
            count=report.count,
            violation_stopped=report.violation_stopped,
            police_called=report.police_called,
        )
        for report in reports
    ]
    evidence = list(Evidence.objects.filter(report__in=reports).order_by("received_at", "pk"))
    for item in evidence:
        item.local_received_at = timezone.localtime(item.received_at, incident.election.tz)
    return ComplaintDraft(
        incident=incident,
        addressee=addressee,
        addressee_line=addressee_line(incident, addressee),
        first_at=min(
            (fact.happened_at for fact in facts),
            default=timezone.localtime(incident.first_at, zone),
        ),
        last_at=max(
            (fact.happened_at for fact in facts), default=timezone.localtime(incident.last_at, zone)
        ),
        place=place_line(incident.station),
        facts=facts,
        evidence=evidence,
        drafted_at=timezone.localtime(timezone.now(), incident.election.tz),
    )
