"""Coverage figures and silence rules. Reads only; `reports.services.coverage` writes.

The timeline of an election (DOMAIN.md §1; the times are the election's CoverageRules):
polls open (08:00) → check-in deadline (+`checkin_minutes`, 08:30) → turnout checkpoints
10:00, 12:00, 15:00, 18:00, each due `checkpoint_grace_minutes` later → polls close (20:00).

The facts of a station (`stations_compute`) come from a handful of GROUP BY queries:
- state: checked in (an assignment "arrived"); no observer (assigned, nobody arrived);
  observer removed (only removed assignments); nobody assigned;
- the last message of its observers: a check-in, a report, a turnout count, a protocol copy;
- reported at opening: an observer's report in an opening category, or any observer's report
  before the check-in deadline;
- the checkpoints it sent a turnout count for, and whether a protocol copy arrived;
- silent: checked in, and no message for `silence_minutes`, counted from the later of the
  last message and opening, reached while polls are open.

Silence rules (`silence_drafts`); each draft has a unique key, so it raises one alert:
They are raised only on election day (`Timeline.alerts_live`).
1. not_checked_in: an assignment never checked in at the check-in deadline; per assignment.
2. station_silent: a silent station; once per silence, keyed by the time it began.
3. checkpoint_missed: a station whose observer checked in before a checkpoint sent no turnout
   count for it by the time it was due; once per station and checkpoint.
4. observer_removed: an assignment marked removed, or a report of category R1 (denied entry
   or removed). Keyed by station and observer, so an observer's R1 report and the status a
   coordinator sets afterwards raise one alert; an R1 report without an observer (a
   citizen's) is keyed by its incident once it has one.
"""

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Min, Q, QuerySet

from reports.domain.alert_rules import AlertDraft
from reports.models import (
    Alert,
    Assignment,
    CoverageRules,
    CoverageTally,
    Election,
    MobileGroup,
    Phase,
    ProtocolCopy,
    Report,
    ReviewStatus,
    Station,
    StationCoverage,
    TurnoutCount,
)
from reports.selectors import staff_okrug_ids

REMOVAL_CATEGORY = "R1"
ALERTS_BEFORE_OPENING = timedelta(hours=2)
ALERTS_AFTER_CLOSE = timedelta(hours=8)
State = StationCoverage.State


@dataclass(frozen=True)
class Timeline:
    opening: datetime
    closing: datetime
    checkin_deadline: datetime
    checkpoints: dict[str, datetime]
    silence: timedelta
    grace: timedelta

    @classmethod
    def of(cls, election: Election, rules: CoverageRules) -> "Timeline":
        def at(value) -> datetime:
            # An election created in this process may still hold the default as text.
            return election.local_datetime(time.fromisoformat(str(value)))

        opening = at(election.polls_open)
        return cls(
            opening=opening,
            closing=at(election.polls_close),
            checkin_deadline=opening + timedelta(minutes=rules.checkin_minutes),
            checkpoints={code: at(f"{int(code):02d}:00") for code in rules.checkpoints},
            silence=timedelta(minutes=rules.silence_minutes),
            grace=timedelta(minutes=rules.checkpoint_grace_minutes),
        )

    def alerts_live(self, now: datetime) -> bool:
        """Silence alerts are raised on election day only, from the opening checks until the
        count is done, so a past election's data (a demo, a rehearsal) never raises them."""
        return self.opening - ALERTS_BEFORE_OPENING <= now <= self.closing + ALERTS_AFTER_CLOSE


def station_state(statuses: Counter) -> str:
    if statuses[Assignment.Status.ARRIVED]:
        return State.PRESENT
    if statuses[Assignment.Status.PLANNED] or statuses[Assignment.Status.LEFT]:
        return State.ABSENT
    if statuses[Assignment.Status.REMOVED]:
        return State.REMOVED
    return State.NOBODY


def silence_began(row: StationCoverage, timeline: Timeline) -> datetime | None:
    """When the station's current silence began; None unless an observer is checked in."""
    if row.state != State.PRESENT or row.last_message_at is None:
        return None
    return max(row.last_message_at, timeline.opening)


def is_silent(row: StationCoverage, timeline: Timeline, now: datetime) -> bool:
    began = silence_began(row, timeline)
    return began is not None and began + timeline.silence <= min(now, timeline.closing)


def latest(*times: datetime | None) -> datetime | None:
    present = [moment for moment in times if moment is not None]
    return max(present) if present else None


def of_stations(queryset: QuerySet, station_ids: Collection[int] | None) -> QuerySet:
    return queryset if station_ids is None else queryset.filter(station_id__in=station_ids)


def last_received(queryset: QuerySet) -> dict[int, datetime]:
    """The latest receipt time per station."""
    rows = queryset.order_by().values("station_id").annotate(last=Max("received_at"))
    return {row["station_id"]: row["last"] for row in rows}


def stations_compute(
    *,
    election: Election,
    timeline: Timeline,
    now: datetime,
    station_ids: Collection[int] | None = None,
) -> list[StationCoverage]:
    """The coverage rows (unsaved) of the election's stations, or of some of them."""
    stations = Station.objects.filter(election=election)
    if station_ids is not None:
        stations = stations.filter(pk__in=station_ids)
    statuses: dict[int, Counter] = {}
    arrived_at: dict[int, datetime] = {}
    last_check_in: dict[int, datetime] = {}
    assignments = of_stations(Assignment.objects.filter(station__election=election), station_ids)
    for row in assignments.values("station_id", "status").annotate(
        n=Count("pk"), first=Min("checked_in_at"), last=Max("checked_in_at")
    ):
        station_id = row["station_id"]
        statuses.setdefault(station_id, Counter())[row["status"]] = row["n"]
        if row["status"] == Assignment.Status.ARRIVED and row["first"]:
            arrived_at[station_id] = row["first"]
        last_check_in[station_id] = latest(last_check_in.get(station_id), row["last"])
    reports = of_stations(
        Report.objects.filter(election=election, observer__isnull=False), station_ids
    )
    last_report = last_received(reports)
    opening = set(
        reports.filter(
            Q(category__phase=Phase.OPENING) | Q(received_at__lt=timeline.checkin_deadline)
        )
        .order_by()
        .values_list("station_id", flat=True)
        .distinct()
    )
    counts = of_stations(TurnoutCount.objects.filter(election=election), station_ids)
    last_count = last_received(counts)
    checkpoints: dict[int, set[str]] = {}
    for station_id, code in counts.order_by().values_list("station_id", "checkpoint").distinct():
        checkpoints.setdefault(station_id, set()).add(code)
    last_copy = last_received(
        of_stations(ProtocolCopy.objects.filter(election=election), station_ids)
    )
    rows = []
    for station_id, number, okrug_id, tik_id in stations.values_list(
        "pk", "number", "okrug_id", "tik_id"
    ).order_by("number"):
        status = statuses.get(station_id, Counter())
        row = StationCoverage(
            station_id=station_id,
            election_id=election.pk,
            okrug_id=okrug_id,
            tik_id=tik_id,
            number=number,
            state=station_state(status),
            assigned=sum(status.values()) - status[Assignment.Status.REMOVED],
            present=status[Assignment.Status.ARRIVED],
            removed=status[Assignment.Status.REMOVED],
            checked_in_at=arrived_at.get(station_id),
            last_message_at=latest(
                last_check_in.get(station_id),
                last_report.get(station_id),
                last_count.get(station_id),
                last_copy.get(station_id),
            ),
            opening_reported=station_id in opening,
            checkpoints=sorted(checkpoints.get(station_id, ())),
            protocol=station_id in last_copy,
        )
        row.silent = is_silent(row, timeline, now)
        rows.append(row)
    return rows


# Figures of an area


@dataclass
class Figures:
    """Numbers of stations of one area; adding two areas adds every figure."""

    stations: int = 0
    assigned: int = 0
    present: int = 0
    opening: int = 0
    protocol: int = 0
    nobody: int = 0
    removed: int = 0
    silent: int = 0
    turnout: Counter = field(default_factory=Counter)

    @classmethod
    def of_station(
        cls, *, state: str, opening: bool, protocol: bool, silent: bool, checkpoints: list[str]
    ) -> "Figures":
        return cls(
            stations=1,
            assigned=int(state in (State.ABSENT, State.PRESENT)),
            present=int(state == State.PRESENT),
            opening=int(opening),
            protocol=int(protocol),
            nobody=int(state == State.NOBODY),
            removed=int(state == State.REMOVED),
            silent=int(silent),
            turnout=Counter(checkpoints),
        )

    @classmethod
    def of_tally(cls, tally: CoverageTally) -> "Figures":
        values = {f.name: getattr(tally, f.name) for f in fields(cls)}
        return cls(**{**values, "turnout": Counter(tally.turnout)})

    @classmethod
    def total(cls, parts: Iterable["Figures"]) -> "Figures":
        result = cls()
        for part in parts:
            result += part
        return result

    def __iadd__(self, other: "Figures") -> "Figures":
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def as_fields(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**values, "turnout": dict(sorted(self.turnout.items()))}

    @property
    def absent(self) -> int:
        return self.assigned - self.present


# Silence rules


def draft(rule: str, key: str, row: StationCoverage, at: datetime, count: int) -> AlertDraft:
    return AlertDraft(
        rule=rule,
        key=key,
        election_id=row.election_id,
        okrug_id=row.okrug_id,
        tik_id=row.tik_id,
        station_id=row.station_id,
        at=at,
        count=count,
    )


def not_checked_in(
    assignments: QuerySet, rows: dict[int, StationCoverage], timeline: Timeline, now: datetime
) -> list[AlertDraft]:
    if now < timeline.checkin_deadline:
        return []
    minutes = int((timeline.checkin_deadline - timeline.opening).total_seconds() // 60)
    waiting = assignments.filter(status=Assignment.Status.PLANNED, checked_in_at__isnull=True)
    return [
        draft(
            Alert.Rule.NOT_CHECKED_IN,
            f"not_checked_in:{assignment_id}",
            rows[station_id],
            timeline.checkin_deadline,
            minutes,
        )
        for assignment_id, station_id in waiting.values_list("pk", "station_id").order_by("pk")
    ]


def station_silent(
    rows: dict[int, StationCoverage], timeline: Timeline, now: datetime
) -> list[AlertDraft]:
    minutes = int(timeline.silence.total_seconds() // 60)
    drafts = []
    for row in rows.values():
        if not is_silent(row, timeline, now):
            continue
        began = silence_began(row, timeline)
        key = f"station_silent:{row.station_id}:{int(began.timestamp())}"
        drafts.append(draft(Alert.Rule.STATION_SILENT, key, row, began + timeline.silence, minutes))
    return drafts


def checkpoints_missed(
    rows: dict[int, StationCoverage], timeline: Timeline, now: datetime
) -> list[AlertDraft]:
    drafts = []
    for code, moment in timeline.checkpoints.items():
        due = moment + timeline.grace
        if due > now or due > timeline.closing:
            continue
        for row in rows.values():
            watched = row.state == State.PRESENT and row.checked_in_at is not None
            watched = watched and row.checked_in_at <= moment
            if watched and code not in row.checkpoints:
                key = f"checkpoint_missed:{row.station_id}:{code}"
                drafts.append(draft(Alert.Rule.CHECKPOINT_MISSED, key, row, due, int(code)))
    return drafts


def observers_removed(
    reports: QuerySet, assignments: QuerySet, rows: dict[int, StationCoverage], now: datetime
) -> list[AlertDraft]:
    """From R1 reports (earliest first) and from assignments marked removed."""
    by_key: dict[str, AlertDraft] = {}
    reports = (
        reports.filter(category_id=REMOVAL_CATEGORY)
        .exclude(status=ReviewStatus.REJECTED)
        .filter(Q(observer__isnull=False) | Q(incident__isnull=False))
        .order_by("received_at", "pk")
    )
    for station_id, observer_id, incident_id, received_at in reports.values_list(
        "station_id", "observer_id", "incident_id", "received_at"
    ):
        who = observer_id if observer_id else f"incident-{incident_id}"
        key = f"observer_removed:{station_id}:{who}"
        by_key.setdefault(
            key, draft(Alert.Rule.OBSERVER_REMOVED, key, rows[station_id], received_at, 1)
        )
    removed = assignments.filter(status=Assignment.Status.REMOVED)
    for station_id, observer_id in removed.values_list("station_id", "observer_id").order_by("pk"):
        key = f"observer_removed:{station_id}:{observer_id}"
        by_key.setdefault(key, draft(Alert.Rule.OBSERVER_REMOVED, key, rows[station_id], now, 1))
    return list(by_key.values())


def silence_drafts(
    *,
    election: Election,
    rows: list[StationCoverage],
    timeline: Timeline,
    now: datetime,
    station_ids: Collection[int] | None = None,
) -> list[AlertDraft]:
    """Every silence alert due at `now` for these rows (all stations, or `station_ids`)."""
    by_station = {row.station_id: row for row in rows}
    assignments = of_stations(Assignment.objects.filter(station__election=election), station_ids)
    reports = of_stations(Report.objects.filter(election=election), station_ids)
    drafts = [
        *not_checked_in(assignments, by_station, timeline, now),
        *station_silent(by_station, timeline, now),
        *checkpoints_missed(by_station, timeline, now),
        *observers_removed(reports, assignments, by_station, now),
    ]
    return sorted(drafts, key=lambda d: d.key)


def groups_for(user: AbstractBaseUser, election: Election) -> QuerySet[MobileGroup]:
    """The mobile groups of the election in the okrugs the staff member works on."""
    okrug_ids = staff_okrug_ids(user)
    groups = MobileGroup.objects.filter(okrug__election=election)
    return groups if okrug_ids is None else groups.filter(okrug_id__in=okrug_ids)
