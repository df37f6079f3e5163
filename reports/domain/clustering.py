"""The algorithms of aggregation, free of database writes: tally keys, clustering, scores.

`reports.services.aggregation` applies them inside the transaction that claims the reports.

Clustering (DOMAIN.md §5): reports of one category at one station belong to one incident
when all of them fall within one window of `INCIDENT_WINDOW_MINUTES` (default 45) by the
server's receipt time. A new report joins the candidate incident whose span, with the
report added, stays within the window and is the shortest; ties go to the older incident.
Otherwise it starts a new incident. Rejected incidents take no new reports, so fresh evidence
is not buried under an earlier rejection.

Severity: the highest default severity of the incident's categories, raised one step
(procedural → serious → critical) when at least `CORROBORATION_RAISE` distinct reporters
agree, and at least serious when a reporter asks for a mobile group or a lawyer.

Confidence: every distinct reporter is an independent witness who is right with the
probability `TRUST_WEIGHT[trust]` (an observer counts once, with their highest trust; each
citizen report counts on its own). Confidence = 1 − Π(1 − p), the chance that at least one
witness is right. Rejected reports are no witnesses.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

from django.db.models import CharField, Count, F, Sum, Value
from django.db.models.functions import Cast, Concat, TruncHour

from reports.models import SEVERITY_RANK, Report, ReviewStatus, Severity, Tally, Trust

CORROBORATION_RAISE = 3
TRUST_WEIGHT = {Trust.CITIZEN: 0.2, Trust.NEW: 0.4, Trust.TRAINED: 0.6, Trust.TRUSTED: 0.8}
SEVERITY_BY_RANK = {rank: severity for severity, rank in SEVERITY_RANK.items()}


def hour_of(moment: datetime) -> datetime:
    """The UTC clock hour a moment falls in: the `hour` of its tally rows."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def chunked(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def contribution_keys(
    *,
    station_id: int,
    tik_id: int,
    okrug_id: int,
    category: str,
    phase: str,
    severity: str,
    status: str,
) -> list[tuple[str, str]]:
    """The (dimension, key) pairs one report adds 1 to; the format is in Tally's docstring."""
    d = Tally.Dimension
    return [
        (d.ALL, ""),
        (d.STATION, str(station_id)),
        (d.TIK, str(tik_id)),
        (d.OKRUG, str(okrug_id)),
        (d.CATEGORY, category),
        (d.PHASE, phase),
        (d.SEVERITY, severity),
        (d.STATUS, status),
        (d.OKRUG_CATEGORY, f"{okrug_id}:{category}"),
    ]


# How each dimension's key is read from a report, for counting from scratch; must agree
# with contribution_keys (tests/test_tallies.py checks that they do).
DIMENSION_FIELDS = {
    Tally.Dimension.ALL: Value(""),
    Tally.Dimension.STATION: F("station_id"),
    Tally.Dimension.TIK: F("station__tik_id"),
    Tally.Dimension.OKRUG: F("station__okrug_id"),
    Tally.Dimension.CATEGORY: F("category_id"),
    Tally.Dimension.PHASE: F("category__phase"),
    Tally.Dimension.SEVERITY: F("category__severity"),
    Tally.Dimension.STATUS: F("status"),
    Tally.Dimension.OKRUG_CATEGORY: Concat(
        Cast("station__okrug_id", CharField()), Value(":"), "category_id", output_field=CharField()
    ),
}
TallyKey = tuple[int, str, str, datetime]


def tallies_compute(*, election_id: int | None = None) -> Counter[TallyKey]:
    """Count the aggregated reports from scratch, one GROUP BY per dimension."""
    reports = Report.objects.filter(aggregated_at__isnull=False)
    if election_id is not None:
        reports = reports.filter(election_id=election_id)
    reports = reports.annotate(tally_hour=TruncHour("received_at", tzinfo=UTC))
    counts: Counter[TallyKey] = Counter()
    for dimension, field in DIMENSION_FIELDS.items():
        rows = (
            reports.annotate(tally_key=field)
            .values("election_id", "tally_key", "tally_hour")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            key = (row["election_id"], str(dimension), str(row["tally_key"]), row["tally_hour"])
            counts[key] = row["n"]
    return counts


def tallies_read(*, election_id: int | None = None) -> Counter[TallyKey]:
    """The tallies as stored, zero rows left out, in the shape of tallies_compute."""
    rows = Tally.objects.exclude(count=0)
    if election_id is not None:
        rows = rows.filter(election_id=election_id)
    return Counter(
        {
            (row.election_id, row.dimension, row.key, row.hour): row.count
            for row in rows.only("election_id", "dimension", "key", "hour", "count")
        }
    )


def tallies_totals(*, election_id: int, dimension: str) -> dict[str, int]:
    """A dimension's count per key over all hours (what a dashboard shows first)."""
    rows = (
        Tally.objects.filter(election_id=election_id, dimension=dimension)
        .values("key")
        .annotate(total=Sum("count"))
        .order_by("key")
    )
    return {row["key"]: row["total"] for row in rows if row["total"]}


def report_keys(report) -> list[tuple[str, str]]:
    """contribution_keys of a Report loaded with its station and category."""
    return contribution_keys(
        station_id=report.station_id,
        tik_id=report.station.tik_id,
        okrug_id=report.station.okrug_id,
        category=report.category_id,
        phase=report.category.phase,
        severity=report.category.severity,
        status=report.status,
    )


@dataclass
class Span:
    """The time span of an incident as clustering sees it (first and last receipt)."""

    incident_id: int
    first_at: datetime
    last_at: datetime

    def span_with(self, moment: datetime) -> timedelta:
        return max(self.last_at, moment) - min(self.first_at, moment)

    def add(self, moment: datetime) -> None:
        self.first_at = min(self.first_at, moment)
        self.last_at = max(self.last_at, moment)


def incident_choose(spans: Iterable[Span], moment: datetime, window: timedelta) -> Span | None:
    """The incident a report received at `moment` joins, or None to start a new one."""
    fitting = [span for span in spans if span.span_with(moment) <= window]
    if not fitting:
        return None
    return min(fitting, key=lambda span: (span.span_with(moment), span.incident_id))


@dataclass(frozen=True)
class Witness:
    """What scoring needs of one report in an incident."""

    observer_id: int | None
    report_id: int
    trust: int
    status: str
    severity: str
    needs_help: bool

    @property
    def reporter(self) -> tuple[str, int]:
        if self.observer_id is None:
            return ("report", self.report_id)
        return ("observer", self.observer_id)


def reporter_count(witnesses: Iterable[Witness]) -> int:
    """Distinct reporters: an observer once however often they report; each citizen report."""
    return len({w.reporter for w in witnesses})


def incident_severity(witnesses: list[Witness], category_severity: str) -> str:
    rank = max([SEVERITY_RANK[category_severity]] + [SEVERITY_RANK[w.severity] for w in witnesses])
    credible = [w for w in witnesses if w.status != ReviewStatus.REJECTED]
    if reporter_count(credible) >= CORROBORATION_RAISE:
        rank += 1
    if any(w.needs_help for w in credible):
        rank = max(rank, SEVERITY_RANK[Severity.SERIOUS])
    return SEVERITY_BY_RANK[min(rank, SEVERITY_RANK[Severity.CRITICAL])]


def incident_confidence(witnesses: Iterable[Witness]) -> float:
    best: dict[tuple[str, int], float] = {}
    for w in witnesses:
        if w.status != ReviewStatus.REJECTED:
            best[w.reporter] = max(best.get(w.reporter, 0.0), TRUST_WEIGHT[w.trust])
    doubt = 1.0
    for weight in best.values():
        doubt *= 1.0 - weight
    return round(1.0 - doubt, 4)
