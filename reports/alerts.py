"""Alert rules: which reports coordinators must hear about now. Reads only; no writes.

Each rule looks at a report the moment it is first aggregated and returns drafts that
`reports.services.alerts.alert_raise` stores under a unique key, so a rule set off twice
(a task run twice, two workers) still raises one alert.

1. Critical burst: at least `ALERT_CRITICAL_COUNT` reports of critical categories at one
   station received within `ALERT_CRITICAL_MINUTES` up to this report, rejected reports
   excluded. One alert per burst: none while an earlier burst alert of the station lies
   within the same span of minutes.
2. TIK surge: the TIK's reports in this clock hour are at least `ALERT_TIK_MIN_COUNT` and at
   least `ALERT_TIK_FACTOR` times its mean hourly count over the previous
   `ALERT_TIK_BASELINE_HOURS` hours (a quiet TIK's mean counts as 1). Read from the
   tallies, so it costs two indexed queries. Once per TIK and hour.
3. Immediate: a report in `ALERT_IMMEDIATE_CATEGORIES` (R4, threats or violence) raises an
   alert at once, once per incident, so ten witnesses of one assault make one alert.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Sum

from .aggregation import hour_of
from .models import Alert, Report, ReviewStatus, Severity, Tally


@dataclass(frozen=True)
class AlertDraft:
    rule: str
    key: str
    election_id: int
    okrug_id: int
    at: datetime
    count: int = 0
    tik_id: int | None = None
    station_id: int | None = None
    incident_id: int | None = None


def critical_burst(report: Report) -> AlertDraft | None:
    if report.category.severity != Severity.CRITICAL:
        return None
    since = report.received_at - timedelta(minutes=settings.ALERT_CRITICAL_MINUTES)
    count = (
        Report.objects.filter(
            station_id=report.station_id,
            category__severity=Severity.CRITICAL,
            received_at__gte=since,
            received_at__lte=report.received_at,
        )
        .exclude(status=ReviewStatus.REJECTED)
        .count()
    )
    if count < settings.ALERT_CRITICAL_COUNT:
        return None
    recent = Alert.objects.filter(
        station_id=report.station_id, rule=Alert.Rule.CRITICAL_BURST, at__gte=since
    )
    if recent.exists():
        return None
    return AlertDraft(
        rule=Alert.Rule.CRITICAL_BURST,
        key=f"critical_burst:{report.station_id}:{report.pk}",
        election_id=report.election_id,
        okrug_id=report.station.okrug_id,
        tik_id=report.station.tik_id,
        station_id=report.station_id,
        incident_id=report.incident_id,
        at=report.received_at,
        count=count,
    )


def immediate(report: Report) -> AlertDraft | None:
    if report.category_id not in settings.ALERT_IMMEDIATE_CATEGORIES:
        return None
    return AlertDraft(
        rule=Alert.Rule.IMMEDIATE,
        key=f"immediate:incident:{report.incident_id}",
        election_id=report.election_id,
        okrug_id=report.station.okrug_id,
        tik_id=report.station.tik_id,
        station_id=report.station_id,
        incident_id=report.incident_id,
        at=report.received_at,
        count=1,
    )


def tik_surge(report: Report) -> AlertDraft | None:
    """Compare the TIK's tally of this hour with its mean over the previous hours."""
    hour = hour_of(report.received_at)
    baseline_hours = settings.ALERT_TIK_BASELINE_HOURS
    rows = Tally.objects.filter(
        election_id=report.election_id,
        dimension=Tally.Dimension.TIK,
        key=str(report.station.tik_id),
    )
    now = rows.filter(hour=hour).aggregate(n=Sum("count"))["n"] or 0
    if now < settings.ALERT_TIK_MIN_COUNT:
        return None
    before = rows.filter(hour__gte=hour - timedelta(hours=baseline_hours), hour__lt=hour)
    mean = (before.aggregate(n=Sum("count"))["n"] or 0) / baseline_hours
    if now < settings.ALERT_TIK_FACTOR * max(mean, 1.0):
        return None
    return AlertDraft(
        rule=Alert.Rule.TIK_SURGE,
        key=f"tik_surge:{report.station.tik_id}:{hour:%Y-%m-%dT%H}",
        election_id=report.election_id,
        okrug_id=report.station.okrug_id,
        tik_id=report.station.tik_id,
        at=report.received_at,
        count=now,
    )


def alert_drafts(reports: list[Report]) -> list[AlertDraft]:
    """Every alert the rules raise for these newly aggregated reports, in a stable order.

    Call after the reports' tallies and incidents are written in the same transaction.
    The TIK rule runs once per TIK and hour, on the latest report of the batch.
    """
    drafts = []
    latest_per_tik_hour: dict[tuple[int, datetime], Report] = {}
    for report in reports:
        if report.status == ReviewStatus.REJECTED:
            continue
        drafts += [d for d in (critical_burst(report), immediate(report)) if d]
        slot = (report.station.tik_id, hour_of(report.received_at))
        latest = latest_per_tik_hour.get(slot)
        if latest is None or report.received_at > latest.received_at:
            latest_per_tik_hour[slot] = report
    drafts += [d for d in map(tik_surge, latest_per_tik_hour.values()) if d]
    return sorted(drafts, key=lambda draft: draft.key)
