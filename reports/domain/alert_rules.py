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

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from reports.domain.clustering import hour_of
from reports.models import Alert, Report, ReviewStatus, Severity, Tally


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


def station_draft(report: Report, rule: str, key: str, count: int) -> AlertDraft:
    """An alert about the report's station, keyed `rule:key`, at the report's receipt."""
    return AlertDraft(
        rule=rule,
        key=f"{rule}:{key}",
        election_id=report.election_id,
        okrug_id=report.station.okrug_id,
        tik_id=report.station.tik_id,
        station_id=report.station_id,
        incident_id=report.incident_id,
        at=report.received_at,
        count=count,
    )


def critical_bursts(reports: list[Report]) -> list[AlertDraft]:
    """Rule 1 for a batch: one query for the stations' critical reports, one for alerts."""
    critical = [r for r in reports if r.category.severity == Severity.CRITICAL]
    if not critical:
        return []
    span = timedelta(minutes=settings.ALERT_CRITICAL_MINUTES)
    stations = {r.station_id for r in critical}
    since = min(r.received_at for r in critical) - span
    times: dict[int, list[datetime]] = defaultdict(list)
    nearby = (
        Report.objects.filter(
            station_id__in=stations,
            category__severity=Severity.CRITICAL,
            received_at__gte=since,
            received_at__lte=max(r.received_at for r in critical),
        )
        .exclude(status=ReviewStatus.REJECTED)
        .values_list("station_id", "received_at")
    )
    for station_id, at in nearby:
        times[station_id].append(at)
    raised: dict[int, list[datetime]] = defaultdict(list)
    earlier = Alert.objects.filter(
        station_id__in=stations, rule=Alert.Rule.CRITICAL_BURST, at__gte=since
    ).values_list("station_id", "at")
    for station_id, at in earlier:
        raised[station_id].append(at)
    drafts = []
    for report in sorted(critical, key=lambda r: (r.received_at, r.pk)):
        start, end = report.received_at - span, report.received_at
        count = sum(start <= at <= end for at in times[report.station_id])
        if count < settings.ALERT_CRITICAL_COUNT:
            continue
        if any(at >= start for at in raised[report.station_id]):
            continue
        raised[report.station_id].append(end)
        drafts.append(
            station_draft(
                report, Alert.Rule.CRITICAL_BURST, f"{report.station_id}:{report.pk}", count
            )
        )
    return drafts


def immediate(report: Report) -> AlertDraft | None:
    if report.category_id not in settings.ALERT_IMMEDIATE_CATEGORIES:
        return None
    return station_draft(report, Alert.Rule.IMMEDIATE, f"incident:{report.incident_id}", 1)


def tik_surges(reports: list[Report]) -> list[AlertDraft]:
    """Rule 2 for a batch: one query for the TIKs' tallies of the hours concerned.

    Each TIK and hour of the batch is judged once, on its latest report.
    """
    latest: dict[tuple[int, datetime], Report] = {}
    for report in sorted(reports, key=lambda r: (r.received_at, r.pk)):
        latest[(report.station.tik_id, hour_of(report.received_at))] = report
    if not latest:
        return []
    baseline_hours = settings.ALERT_TIK_BASELINE_HOURS
    first_hour = min(hour for _, hour in latest) - timedelta(hours=baseline_hours)
    counts: Counter[tuple[int, datetime]] = Counter()
    rows = Tally.objects.filter(
        election_id__in={r.election_id for r in reports},
        dimension=Tally.Dimension.TIK,
        key__in={str(tik) for tik, _ in latest},
        hour__gte=first_hour,
        hour__lte=max(hour for _, hour in latest),
    ).values_list("key", "hour", "count")
    for key, hour, count in rows:
        counts[(int(key), hour)] += count
    drafts = []
    for (tik_id, hour), report in sorted(latest.items()):
        now = counts[(tik_id, hour)]
        before = sum(
            counts[(tik_id, hour - timedelta(hours=h))] for h in range(1, baseline_hours + 1)
        )
        mean = before / baseline_hours
        if now < settings.ALERT_TIK_MIN_COUNT or now < settings.ALERT_TIK_FACTOR * max(mean, 1.0):
            continue
        drafts.append(
            AlertDraft(
                rule=Alert.Rule.TIK_SURGE,
                key=f"tik_surge:{tik_id}:{hour:%Y-%m-%dT%H}",
                election_id=report.election_id,
                okrug_id=report.station.okrug_id,
                tik_id=tik_id,
                at=report.received_at,
                count=now,
            )
        )
    return drafts


def alert_drafts(reports: list[Report]) -> list[AlertDraft]:
    """Every alert the rules raise for these newly aggregated reports, in key order.

    Call after the reports' tallies and incidents are written in the same transaction.
    Rejected reports set nothing off.
    """
    credible = [r for r in reports if r.status != ReviewStatus.REJECTED]
    drafts = critical_bursts(credible) + tik_surges(credible)
    drafts += [d for d in map(immediate, credible) if d]
    return sorted(drafts, key=lambda draft: draft.key)
