"""Coverage: check-ins and assignments, the coverage figures and silence alerts.

Figures (`coverage_refresh`, run by the workers, never by a request):
1. Take the election's coverage lock (PostgreSQL advisory lock; SQLite has one writer), so
   a sweep and a station refresh never interleave and each reads what the other committed.
2. Compute the rows of all stations, or of the stations named, and store those that changed.
3. Rebuild the tallies above them: a TIK from its stations, an okrug from its TIKs, the
   election from its okrugs.
4. Raise the silence alerts due at `now` whose keys are new (`domain.coverage_rules`), through
   the aggregation's `alert_raise`, which delivers them to the okrug's coordinators; at most
   COVERAGE_ALERTS_PER_RUN per run, earliest first, the rest in the next runs.

Every other write here is one audited change: an assignment (the observer's check-in, or a
coordinator) or an election's coverage rules. Mobile groups are in `mobile_groups`.
"""

import logging
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.domain.alert_rules import AlertDraft
from reports.domain.coverage_rules import Figures, Timeline, silence_drafts, stations_compute
from reports.models import (
    Alert,
    Assignment,
    CoverageRules,
    CoverageTally,
    Election,
    Observer,
    Station,
    StationCoverage,
)
from reports.selectors import okrug_in_scope
from reports.services.alerts import alert_raise
from reports.services.audit import audit_record
from reports.services.queue import task_enqueue_on_commit

log = logging.getLogger(__name__)

COVERAGE_LOCK_ID = 0xC0BE5
ROW_FIELDS = [
    "state", "assigned", "present", "removed", "checked_in_at", "last_message_at",
    "opening_reported", "checkpoints", "protocol", "silent",
]  # fmt: skip
TALLY_FIELDS = [
    "stations", "assigned", "present", "opening", "turnout", "protocol", "nobody", "removed",
    "silent", "computed_at",
]  # fmt: skip


class CoverageRefused(Exception):
    """A change that was not made; `message` says why, in the actor's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Figures and alerts


@transaction.atomic
def coverage_refresh(
    *,
    election: Election,
    now: datetime | None = None,
    station_ids: Collection[int] | None = None,
) -> int:
    """Recompute coverage rows and tallies and raise due silence alerts; see the module.

    `station_ids` limits the work to those stations (after a check-in); the first run of an
    election always covers every station. Returns how many station rows changed.
    """
    now = now or timezone.now()
    _coverage_lock(election.pk)
    if not CoverageTally.objects.filter(election=election).exists():
        station_ids = None
    rules = CoverageRules.of(election)
    timeline = Timeline.of(election, rules)
    rows = stations_compute(election=election, timeline=timeline, now=now, station_ids=station_ids)
    changed = _rows_store(rows, now)
    tik_ids = None if station_ids is None else {row.tik_id for row in rows}
    _tallies_rebuild(election, tik_ids, now)
    if rules.alerts_enabled and timeline.alerts_live(now):
        drafts = silence_drafts(
            election=election, rows=rows, timeline=timeline, now=now, station_ids=station_ids
        )
        _alerts_raise_new(drafts)
    return changed


def _coverage_lock(election_id: int) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [COVERAGE_LOCK_ID, election_id])


def _rows_store(rows: list[StationCoverage], now: datetime) -> int:
    stored = StationCoverage.objects.filter(station_id__in=[row.station_id for row in rows])
    before = {values[0]: values[1:] for values in stored.values_list("station_id", *ROW_FIELDS)}
    new, changed = [], []
    for row in rows:
        row.computed_at = now
        old = before.get(row.station_id)
        if old is None:
            new.append(row)
        elif old != tuple(getattr(row, name) for name in ROW_FIELDS):
            changed.append(row)
    StationCoverage.objects.bulk_create(new, batch_size=1000)
    StationCoverage.objects.bulk_update(changed, [*ROW_FIELDS, "computed_at"], batch_size=1000)
    return len(new) + len(changed)


def _tallies_rebuild(election: Election, tik_ids: set[int] | None, now: datetime) -> None:
    """TIKs from their station rows, okrugs from their TIKs, the election from its okrugs."""
    stations = StationCoverage.objects.filter(election=election)
    if tik_ids is not None:
        stations = stations.filter(tik_id__in=tik_ids)
    by_tik: dict[tuple[int, int], Figures] = defaultdict(Figures)
    columns = ["okrug_id", "tik_id", "state", "opening_reported", "protocol", "silent"]
    for okrug, tik, state, opening, protocol, silent, checkpoints in stations.values_list(
        *columns, "checkpoints"
    ).iterator(chunk_size=2000):
        by_tik[(okrug, tik)] += Figures.of_station(
            state=state, opening=opening, protocol=protocol, silent=silent,
            checkpoints=checkpoints,
        )  # fmt: skip
    _tallies_store(
        election,
        CoverageTally.Level.TIK,
        {str(tik): (okrug, tik, figures) for (okrug, tik), figures in by_tik.items()},
        now,
    )
    tiks = CoverageTally.objects.filter(election=election, level=CoverageTally.Level.TIK)
    if tik_ids is not None:
        tiks = tiks.filter(okrug_id__in={okrug for okrug, _tik in by_tik})
    by_okrug: dict[int, Figures] = defaultdict(Figures)
    for tally in tiks:
        by_okrug[tally.okrug_id] += Figures.of_tally(tally)
    _tallies_store(
        election,
        CoverageTally.Level.OKRUG,
        {str(okrug): (okrug, None, figures) for okrug, figures in by_okrug.items()},
        now,
    )
    okrugs = CoverageTally.objects.filter(election=election, level=CoverageTally.Level.OKRUG)
    total = Figures.total(Figures.of_tally(tally) for tally in okrugs)
    _tallies_store(election, CoverageTally.Level.ELECTION, {"": (None, None, total)}, now)


def _tallies_store(
    election: Election,
    level: str,
    areas: dict[str, tuple[int | None, int | None, Figures]],
    now: datetime,
) -> None:
    tallies = [
        CoverageTally(
            election=election,
            level=level,
            key=key,
            okrug_id=okrug_id,
            tik_id=tik_id,
            computed_at=now,
            **figures.as_fields(),
        )
        for key, (okrug_id, tik_id, figures) in sorted(areas.items())
    ]
    CoverageTally.objects.bulk_create(
        tallies,
        update_conflicts=True,
        unique_fields=["election", "level", "key"],
        update_fields=TALLY_FIELDS,
        batch_size=1000,
    )


def _alerts_raise_new(drafts: list[AlertDraft]) -> int:
    """Raise the drafts whose keys have no alert yet, earliest first, at most
    COVERAGE_ALERTS_PER_RUN of them: a flood (a sweep after an outage) then goes out over
    the next runs instead of making one run outlast its time limit and roll back."""
    keys = [d.key for d in drafts]
    existing = set()
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        existing |= set(Alert.objects.filter(key__in=chunk).values_list("key", flat=True))
    fresh = sorted((d for d in drafts if d.key not in existing), key=lambda d: (d.at, d.key))
    raised = [alert_raise(draft=d) for d in fresh[: settings.COVERAGE_ALERTS_PER_RUN]]
    return sum(1 for alert in raised if alert is not None)


def coverage_refresh_soon(*, station_ids: Collection[int]) -> None:
    """After commit, have a worker refresh these stations (the sweep does, if it cannot)."""
    task_enqueue_on_commit("reports.coverage_stations_refresh", sorted(set(station_ids)))


# Assignments and check-ins


def assignment_state(assignment: Assignment) -> dict:
    """What the audit log keeps of an assignment (pseudonym only, never contacts)."""
    checked_in = assignment.checked_in_at
    return {
        "observer": assignment.observer.pseudonym,
        "station": assignment.station.number,
        "status": assignment.status,
        "checked_in_at": checked_in.isoformat() if checked_in else None,
    }


def _status_write(
    assignment: Assignment,
    status: str,
    *,
    actor: AbstractBaseUser | None,
    now: datetime,
    action: str,
    note: str = "",
) -> None:
    before = assignment_state(assignment)
    assignment.status = status
    if status == Assignment.Status.ARRIVED:
        assignment.checked_in_at = now
    assignment.save(update_fields=["status", "checked_in_at"])
    audit_record(
        actor=actor,
        action=action,
        obj=assignment,
        before=before,
        after=assignment_state(assignment),
        note=note,
    )


def _scope_check(actor: AbstractBaseUser | None, station: Station) -> None:
    if actor is not None and actor.is_staff and not okrug_in_scope(actor, station.okrug_id):
        raise CoverageRefused(
            _("Station %(number)s is outside the okrugs you work on.") % {"number": station.number}
        )


@transaction.atomic
def observer_check_in(
    *, observer: Observer, station: Station, now: datetime | None = None
) -> tuple[Assignment, bool]:
    """The observer says "I am at station N"; return (assignment, whether anything changed).

    Their assignment there becomes "arrived" (created if they moved to a station they were not
    assigned to), and any other station where they were checked in becomes "left". Tapping
    again changes nothing.
    """
    now = now or timezone.now()
    if station.election_id != observer.election_id:
        raise CoverageRefused(
            _("Station %(number)s is not part of your election.") % {"number": station.number}
        )
    mine = list(
        Assignment.objects.select_for_update()
        .filter(observer=observer)
        .select_related("observer", "station")
        .order_by("pk")
    )
    here = next((a for a in mine if a.station_id == station.pk), None)
    if here is not None and here.status == Assignment.Status.ARRIVED:
        return here, False
    note = _("checked in at station %(number)s") % {"number": station.number}
    touched = {station.pk}
    for other in mine:
        if other is not here and other.status == Assignment.Status.ARRIVED:
            _status_write(
                other, Assignment.Status.LEFT, actor=observer.user, now=now,
                action="assignment_set_status", note=note,
            )  # fmt: skip
            touched.add(other.station_id)
    if here is None:
        here = Assignment.objects.create(observer=observer, station=station)
    _status_write(
        here, Assignment.Status.ARRIVED, actor=observer.user, now=now,
        action="observer_check_in",
    )  # fmt: skip
    coverage_refresh_soon(station_ids=touched)
    return here, True


@transaction.atomic
def assignment_set_status(
    *,
    assignment: Assignment,
    status: str,
    actor: AbstractBaseUser | None,
    now: datetime | None = None,
    note: str = "",
) -> bool:
    """Set an assignment's status: a coordinator, or the observer saying they left.

    "arrived" stamps the check-in time. Returns whether the status changed.
    """
    if status not in Assignment.Status.values:
        raise CoverageRefused(_("Unknown status: %(status)s") % {"status": status})
    assignment = (
        Assignment.objects.select_for_update()
        .select_related("observer", "station")
        .get(pk=assignment.pk)
    )
    _scope_check(actor, assignment.station)
    if assignment.status == status:
        return False
    _status_write(
        assignment, status, actor=actor, now=now or timezone.now(),
        action="assignment_set_status", note=note.strip(),
    )  # fmt: skip
    coverage_refresh_soon(station_ids=[assignment.station_id])
    return True


@transaction.atomic
def assignment_create(
    *, observer: Observer, station: Station, actor: AbstractBaseUser | None
) -> Assignment:
    """Assign an observer to a station (planned). The roster import does this in bulk."""
    _scope_check(actor, station)
    if station.election_id != observer.election_id:
        raise CoverageRefused(_("The observer and the station belong to different elections."))
    assignment, created = Assignment.objects.select_related("observer", "station").get_or_create(
        observer=observer, station=station
    )
    if created:
        audit_record(
            actor=actor,
            action="assignment_create",
            obj=assignment,
            after=assignment_state(assignment),
        )
        coverage_refresh_soon(station_ids=[station.pk])
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: Assignment, actor: AbstractBaseUser | None) -> None:
    """Take back an assignment made by mistake (a removal is a status, not a deletion)."""
    assignment = Assignment.objects.select_related("observer", "station").get(pk=assignment.pk)
    _scope_check(actor, assignment.station)
    audit_record(
        actor=actor, action="assignment_delete", obj=assignment,
        before=assignment_state(assignment),
    )  # fmt: skip
    assignment.delete()
    coverage_refresh_soon(station_ids=[assignment.station_id])


@transaction.atomic
def coverage_rules_save(*, rules: CoverageRules, actor: AbstractBaseUser | None) -> CoverageRules:
    """Store an election's coverage rules (validated by the caller's form)."""
    rules.full_clean()
    old = CoverageRules.objects.filter(pk=rules.pk).first() if rules.pk else None
    rules.save()
    audit_record(
        actor=actor,
        action="coverage_rules_save",
        obj=rules,
        before=_rules_state(old) if old else None,
        after=_rules_state(rules),
    )
    return rules


def _rules_state(rules: CoverageRules) -> dict:
    return {
        "checkin_minutes": rules.checkin_minutes,
        "silence_minutes": rules.silence_minutes,
        "checkpoints": rules.checkpoints,
        "checkpoint_grace_minutes": rules.checkpoint_grace_minutes,
        "alerts_enabled": rules.alerts_enabled,
    }
