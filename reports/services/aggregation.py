"""Aggregation: reports into incidents, tallies and alerts, exactly once per report version.

How exactness is kept (docs/task-policy.md has the whole policy):

1. A report waits with `aggregated_at` null. A worker claims it by locking the pending row
   (`aggregated_at IS NULL … FOR UPDATE SKIP LOCKED`) and sets `aggregated_at` in the same
   transaction as all of its work, so a crash rolls the claim back, a concurrent run skips
   the row, and a second run finds nothing to claim.
2. What the report added to the tallies is kept in ReportContribution. Aggregating a report
   again subtracts that and adds the report's current keys, so a changed report moves its
   count instead of counting twice.
3. Whoever changes a report's station, category or status calls `report_mark_changed` in
   the same transaction: it sets `aggregated_at` back to null and enqueues the report again.
4. `tallies_recount` rebuilds tallies and contributions from the reports under an exclusive
   advisory lock that incremental runs take shared, so the two never interleave.
5. A report that cannot be aggregated does not stop the others: a failed batch is retried
   report by report, and the one that fails alone is quarantined (`report_quarantine`):
   marked with its error, skipped by later runs until it is changed, announced to the
   coordinators by an alert and shown in the admin. Errors of the database connection or
   the cache say nothing about a report and are raised for the task to retry.
"""

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from contextlib import suppress
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from reports.domain.alert_rules import AlertDraft, alert_drafts
from reports.domain.clustering import (
    Span,
    TallyKey,
    Witness,
    chunked,
    hour_of,
    incident_choose,
    incident_confidence,
    incident_severity,
    report_keys,
    reporter_count,
    tallies_compute,
)
from reports.domain.redaction import redact
from reports.models import (
    Alert,
    Incident,
    ObserverContact,
    Report,
    ReportContribution,
    ReviewStatus,
    Station,
    Tally,
)
from reports.services.alerts import alert_raise
from reports.services.audit import audit_record
from reports.services.queue import task_enqueue

log = logging.getLogger(__name__)

# pg_advisory_xact_lock id shared by incremental runs (shared) and recounts (exclusive).
TALLY_LOCK_ID = 0x7A11E5
NEW_INCIDENT_IDS = 2**62
# Failures that say nothing about the reports being aggregated: the task retries them.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, RedisError, OSError, SoftTimeLimitExceeded)


def report_mark_changed(*, report_ids: Iterable[int]) -> int:
    """Have these reports aggregated again; call in the transaction that changed them.

    Needed after any change to a report's station, category, status or incident, so that
    tallies move and incidents are recomputed. Returns how many reports were marked.
    """
    report_ids = list(report_ids)
    marked = Report.objects.filter(pk__in=report_ids).update(
        aggregated_at=None, quarantined_at=None, aggregation_error=""
    )

    transaction.on_commit(enqueue_aggregation)  # one kick: the run reads every pending report
    return marked


@transaction.atomic
def incident_recompute(*, incident: Incident) -> Incident:
    """Recount an incident's reports and reporters, its span, severity and confidence.

    Changes no report and no moderator decision (status, pin, claim); call after reports
    were added to or taken from the incident. An incident left without reports keeps its
    times and gets zero counts.
    """
    incidents_recompute(incident_ids={incident.pk})
    incident.refresh_from_db()
    return incident


RECOMPUTED_FIELDS = [
    "report_count",
    "reporter_count",
    "severity",
    "confidence",
    "needs_mobile_group",
    "needs_lawyer",
    "first_at",
    "last_at",
    "updated_at",
]


def incidents_recompute(*, incident_ids: set[int]) -> None:
    """incident_recompute for many incidents with two queries and one bulk update."""
    # Locked first, in id order: a moderator's merge can neither move their reports while
    # they are counted nor delete one before the upsert below (which would insert it again).
    incidents = list(
        Incident.objects.select_for_update(of=("self",))
        .filter(pk__in=incident_ids)
        .select_related("category")
        .order_by("pk")
    )
    rows = Report.objects.filter(incident_id__in=incident_ids).values_list(
        "incident_id",
        "pk",
        "observer_id",
        "trust",
        "status",
        "received_at",
        "needs_mobile_group",
        "needs_lawyer",
        "category__severity",
    )
    witnesses: dict[int, list[Witness]] = defaultdict(list)
    flags: dict[int, list[tuple[bool, bool]]] = defaultdict(list)
    times: dict[int, list[datetime]] = defaultdict(list)
    for incident_id, pk, observer_id, trust, status, at, mobile, lawyer, severity in rows:
        witnesses[incident_id].append(
            Witness(observer_id, pk, trust, status, severity, needs_help=mobile or lawyer)
        )
        flags[incident_id].append((mobile, lawyer))
        times[incident_id].append(at)
    now = timezone.now()
    for incident in incidents:
        mine = witnesses[incident.pk]
        incident.report_count = len(mine)
        incident.reporter_count = reporter_count(mine)
        incident.severity = incident_severity(mine, incident.category.severity)
        incident.confidence = incident_confidence(mine)
        incident.needs_mobile_group = any(mobile for mobile, _ in flags[incident.pk])
        incident.needs_lawyer = any(lawyer for _, lawyer in flags[incident.pk])
        if times[incident.pk]:
            incident.first_at = min(times[incident.pk])
            incident.last_at = max(times[incident.pk])
        incident.updated_at = now
    rows_update(incidents, RECOMPUTED_FIELDS)


def reporter_names(reports: Iterable[Report]) -> dict[int, list[str]]:
    """The reporters' own full names, by observer, for redacting their descriptions."""
    observer_ids = {r.observer_id for r in reports if r.observer_id and r.description}
    contacts = ObserverContact.objects.filter(observer_id__in=observer_ids).exclude(full_name="")
    return {
        observer_id: [name]
        for observer_id, name in contacts.values_list("observer_id", "full_name")
    }


def reports_aggregate(*, report_ids: Sequence[int] = (), batch: int = 0) -> int:
    """Aggregate the given reports if pending, plus up to `batch` other pending ones.

    Steps, in one transaction: claim; lock the reports' stations (so two workers never
    cluster one station at once); cluster reports without an incident; recompute touched
    incidents; move tallies from each report's previous contribution to its current one;
    raise alerts for reports seen for the first time. If that fails for a reason other than
    TRANSIENT_ERRORS, each claimed report is aggregated alone and the one that still fails
    is quarantined. Returns how many reports it claimed.
    """
    claimed: list[int] = []
    try:
        return _reports_aggregate(report_ids, batch, claimed)
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:
        if not claimed:
            raise
        if len(claimed) > 1:
            log.warning("aggregating %s reports failed; trying each alone", len(claimed))
            return sum(reports_aggregate(report_ids=[pk]) for pk in claimed)
        log.exception("report %s cannot be aggregated: quarantined", claimed[0])
        report_quarantine(report_id=claimed[0], error=error)
        return 1


@transaction.atomic
def report_quarantine(*, report_id: int, error: Exception) -> bool:
    """Set aside a pending report that aggregation fails on; tell the coordinators.

    Reads only the report's ids (its other values may be what cannot be read), marks it with
    the error, writes the audit log and raises an alert for its okrug. Changing the report
    (report_mark_changed) lifts the quarantine. Returns False if it was not pending.
    """
    now = timezone.now()
    message = f"{type(error).__name__}: {error}".replace("\x00", "")[:2000]
    marked = Report.objects.filter(
        pk=report_id, aggregated_at__isnull=True, quarantined_at__isnull=True
    ).update(quarantined_at=now, aggregation_error=message)
    if not marked:
        return False
    election_id, station_id, okrug_id, tik_id = (
        Report.objects.filter(pk=report_id)
        .values_list("election_id", "station_id", "station__okrug_id", "station__tik_id")
        .get()
    )
    audit_record(
        actor=None, action="report_quarantine", obj=Report(pk=report_id), after={"error": message}
    )
    rule = Alert.Rule.REPORT_QUARANTINED
    alert_raise(
        draft=AlertDraft(
            rule=rule,
            key=f"{rule}:{report_id}:{now.isoformat()}",
            election_id=election_id,
            okrug_id=okrug_id,
            tik_id=tik_id,
            station_id=station_id,
            at=now,
            count=1,
        )
    )
    return True


@transaction.atomic
def reports_quarantine_release(*, report_ids: Iterable[int], actor) -> int:
    """Send quarantined reports to aggregation again (after the cause was fixed); audited.

    Returns how many were quarantined and are now pending. A report that still fails is
    quarantined again, with a new alert.
    """
    quarantined = list(
        Report.objects.filter(pk__in=list(report_ids), quarantined_at__isnull=False)
        .order_by("pk")
        .values_list("pk", "aggregation_error")
    )
    for pk, error in quarantined:
        audit_record(
            actor=actor, action="report_quarantine_release", obj=Report(pk=pk),
            before={"error": error},
        )  # fmt: skip
    return report_mark_changed(report_ids=[pk for pk, _error in quarantined])


def _reports_aggregate(report_ids: Sequence[int], batch: int, claimed: list[int]) -> int:
    """reports_aggregate's one transaction; fills `claimed` as soon as the claim is made."""
    with transaction.atomic():
        _tally_lock(exclusive=False)
        claimed += _claim(report_ids, batch)
        if not claimed:
            return 0
        reports = list(
            Report.objects.filter(pk__in=claimed)
            .select_related("station", "category", "incident")
            .order_by("station_id", "received_at", "pk")
        )
        # FOR NO KEY UPDATE: serialises clustering per station without blocking the
        # inserts of new reports, which take a key-share lock on their station.
        list(
            Station.objects.select_for_update(no_key=True)
            .filter(pk__in={r.station_id for r in reports})
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        previous = ReportContribution.objects.in_bulk(claimed)
        touched = _cluster(reports)
        aggregated_at = timezone.now()
        names = reporter_names(reports)
        for report in reports:
            report.aggregated_at = aggregated_at
            report.public_description = redact(
                report.description, names.get(report.observer_id, ())
            )
        rows_update(reports, ["aggregated_at", "incident", "public_description"])
        incidents_recompute(incident_ids=touched)
        _tally_add(_contributions_replace(reports, previous))
        fresh = [r for r in reports if r.pk not in previous]
        for draft in alert_drafts(fresh):
            alert_raise(draft=draft)
    return len(claimed)


def reports_aggregate_kicked(*, pause: float, seconds: float) -> int:
    """The run a submission's kick started (enqueue_aggregation, below).

    Steps, until a read finds nothing pending or `seconds` have passed: clear the kick,
    aggregate every pending report in batches, hold the kick and pause. Reports committed
    while the kick is held start no run of their own; this run reads them after the pause.
    With `pause` 0 (tasks run in-process) it reads once. Returns how many it aggregated.
    """
    deadline = time.monotonic() + seconds
    total = 0
    while True:
        aggregation_kick_clear()
        done = _aggregate_until_none_pending(deadline)
        total += done
        if not done or not pause or time.monotonic() + pause >= deadline:
            return total
        aggregation_kick_hold()
        time.sleep(pause)


def reports_aggregate_pending(*, seconds: float) -> int:
    """The sweep: batches until nothing is pending or `seconds` have passed."""
    return _aggregate_until_none_pending(time.monotonic() + seconds)


def _aggregate_until_none_pending(deadline: float) -> int:
    total = 0
    while time.monotonic() < deadline:
        done = reports_aggregate(batch=settings.AGGREGATION_BATCH_SIZE)
        total += done
        if done < settings.AGGREGATION_BATCH_SIZE:
            break
    return total


def _claim(report_ids: Sequence[int], batch: int) -> list[int]:
    """Lock pending reports that nobody else holds; the caller marks them in this transaction.

    The row locks make the claim: a concurrent run skips these rows, and once this
    transaction commits with `aggregated_at` set they are no longer pending.
    """
    pending = (
        Report.objects.select_for_update(skip_locked=True)
        .filter(aggregated_at__isnull=True, quarantined_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ids = list(pending.filter(pk__in=report_ids)) if report_ids else []
    if batch:
        ids += list(pending.exclude(pk__in=ids)[:batch])
    return ids


def _cluster(reports: list[Report]) -> set[int]:
    """Give every report that needs one an incident; return the ids of incidents touched.

    A report is clustered when it has no incident, or when an edit moved it away from its
    incident's station or category and no moderator has arranged that incident. One query
    finds the candidate incidents of the whole batch and one inserts the new incidents; the
    caller writes the reports' new incident ids.
    """
    touched = {r.incident_id for r in reports if r.incident_id}
    loose = sorted(
        (r for r in reports if _needs_cluster(r)),
        key=lambda r: (r.station_id, r.category_id, r.received_at, r.pk),
    )
    if not loose:
        return touched
    window = timedelta(minutes=settings.INCIDENT_WINDOW_MINUTES)
    candidates = (
        Incident.objects.filter(
            station_id__in={r.station_id for r in loose},
            category_id__in={r.category_id for r in loose},
            last_at__gte=min(r.received_at for r in loose) - window,
            first_at__lte=max(r.received_at for r in loose) + window,
        )
        .exclude(status=ReviewStatus.REJECTED)
        .values_list("station_id", "category_id", "pk", "first_at", "last_at")
    )
    spans: dict[tuple[int, str], list[Span]] = defaultdict(list)
    for station_id, category_id, *span in candidates:
        spans[(station_id, category_id)].append(Span(*span))
    # New incidents get provisional ids above every real one, so that on a tie the
    # existing incident wins, until one INSERT gives them real ids.
    new: dict[int, Incident] = {}
    for report in loose:
        place = spans[(report.station_id, report.category_id)]
        span = incident_choose(place, report.received_at, window)
        if span is None:
            provisional = NEW_INCIDENT_IDS + len(new)
            new[provisional] = _incident_start(report)
            span = Span(provisional, report.received_at, report.received_at)
            place.append(span)
        span.add(report.received_at)
        report.incident_id = span.incident_id
    Incident.objects.bulk_create(new.values())
    for report in loose:
        if report.incident_id in new:
            report.incident_id = new[report.incident_id].pk
    return touched | {r.incident_id for r in loose}


def rows_update(rows: list, fields: list[str]) -> None:
    """Write `fields` of these loaded rows back, in one UPDATE … FROM (VALUES …) per 500.

    Django's bulk_update builds a CASE per row and field, which costs about 10 ms of Python
    per row. VALUES columns are named column1, column2, … on PostgreSQL and SQLite alike.
    """
    if not rows:
        return
    meta = rows[0]._meta
    q = connection.ops.quote_name
    table = q(meta.db_table)
    columns = [meta.get_field(name) for name in fields]
    sets = ", ".join(f"{q(c.column)} = v.column{n}" for n, c in enumerate(columns, start=2))
    for chunk in chunked(rows, 500):
        row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
        params = []
        for obj in chunk:
            params.append(obj.pk)
            params += [c.get_db_prep_value(getattr(obj, c.attname), connection) for c in columns]
        sql = (
            f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row] * len(chunk))}) AS v "  # noqa: S608
            f"WHERE {table}.{q(meta.pk.column)} = v.column1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _needs_cluster(report: Report) -> bool:
    incident = report.incident
    if incident is None:
        return True
    moved = (incident.station_id, incident.category_id) != (report.station_id, report.category_id)
    arranged = incident.pinned_by_moderator or incident.status != ReviewStatus.NEW
    return moved and not arranged


def _incident_start(report: Report) -> Incident:
    return Incident(
        election_id=report.election_id,
        station_id=report.station_id,
        category_id=report.category_id,
        severity=report.category.severity,
        first_at=report.received_at,
        last_at=report.received_at,
    )


def _contributions_replace(
    reports: list[Report], previous: dict[int, ReportContribution]
) -> Counter[TallyKey]:
    """Store each report's current contribution; return the tally deltas of the change."""
    deltas: Counter[TallyKey] = Counter()
    current = []
    for report in reports:
        old = previous.get(report.pk)
        if old is not None:
            for dimension, key in old.keys:
                deltas[(old.election_id, dimension, key, old.hour)] -= 1
        hour = hour_of(report.received_at)
        keys = report_keys(report)
        for dimension, key in keys:
            deltas[(report.election_id, dimension, key, hour)] += 1
        current.append(
            ReportContribution(
                report_id=report.pk, election_id=report.election_id, keys=keys, hour=hour
            )
        )
    ReportContribution.objects.bulk_create(
        current,
        update_conflicts=True,
        unique_fields=["report"],
        update_fields=["election", "keys", "hour"],
    )
    return deltas


def _tally_add(deltas: Counter[TallyKey]) -> None:
    """Add deltas to tally rows with one upsert per 500 rows, in key order (no deadlocks).

    Raw SQL because the ORM's upsert can only overwrite a count, not add to it;
    `ON CONFLICT ... DO UPDATE` reads the same on PostgreSQL and SQLite.
    """
    rows = sorted((key, delta) for key, delta in deltas.items() if delta)
    q = connection.ops.quote_name
    table = q(Tally._meta.db_table)
    columns = f"election_id, dimension, {q('key')}, hour"
    for chunk in chunked(rows, 500):
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
        params = []
        for (election_id, dimension, key, hour), delta in chunk:
            hour = connection.ops.adapt_datetimefield_value(hour)
            params += [election_id, str(dimension), key, hour, delta]
        sql = (
            f"INSERT INTO {table} ({columns}, {q('count')}) VALUES {values} "  # noqa: S608
            f"ON CONFLICT ({columns}) DO UPDATE "
            f"SET {q('count')} = {table}.{q('count')} + excluded.{q('count')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _tally_lock(*, exclusive: bool) -> None:
    """Keep recounts and incremental runs apart (PostgreSQL; SQLite runs one writer anyway)."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [TALLY_LOCK_ID])


@transaction.atomic
def tallies_recount(*, election_id: int | None = None) -> int:
    """Rebuild tallies and contributions from the aggregated reports; return tally rows.

    Pending reports are left out, as the incremental path leaves them out until claimed.
    """
    _tally_lock(exclusive=True)
    tallies = Tally.objects.all()
    contributions = ReportContribution.objects.all()
    reports = Report.objects.filter(aggregated_at__isnull=False)
    if election_id is not None:
        tallies = tallies.filter(election_id=election_id)
        contributions = contributions.filter(election_id=election_id)
        reports = reports.filter(election_id=election_id)
    tallies.delete()
    contributions.delete()
    for chunk in chunked(reports.select_related("station", "category").iterator(2000), 2000):
        _contributions_replace(list(chunk), {})
    counts = tallies_compute(election_id=election_id)
    Tally.objects.bulk_create(
        [
            Tally(election_id=election, dimension=dimension, key=key, hour=hour, count=count)
            for (election, dimension, key, hour), count in sorted(counts.items())
        ],
        batch_size=1000,
    )
    log.info("recounted %s tally rows", len(counts))
    return len(counts)


def pending_count() -> int:
    """Reports waiting for aggregation, quarantined ones left out (quarantined_count)."""
    return Report.objects.filter(aggregated_at__isnull=True, quarantined_at__isnull=True).count()


def quarantined_count() -> int:
    return Report.objects.filter(quarantined_at__isnull=False).count()


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
    global _broker_paused_until, _kick_held_until
    now = time.monotonic()
    if now < _broker_paused_until or now < _kick_held_until:
        return
    try:
        held = not cache.add(AGGREGATION_KICK_KEY, 1, timeout=AGGREGATION_KICK_SECONDS)
    except (RedisError, OSError):
        held = None
    if held:
        _kick_held_until = now + KICK_HELD_SKIP_SECONDS
    elif held is None or not task_enqueue("reports.aggregate_kicked"):
        _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        log.warning("could not kick the aggregation; the sweep will take the reports")
        with suppress(RedisError, OSError):
            cache.delete(AGGREGATION_KICK_KEY)


def aggregation_kick_clear() -> None:
    """The run clears the kick before it reads the pending reports."""
    try:
        cache.delete(AGGREGATION_KICK_KEY)
    except (RedisError, OSError):
        # The kick stays until it expires: at worst a report waits that long for a new run.
        log.warning("could not clear the aggregation kick; it expires by itself")


def aggregation_kick_hold() -> None:
    """The run sets the kick while it pauses: reports committed meanwhile are its to read."""
    try:
        cache.set(AGGREGATION_KICK_KEY, 1, timeout=AGGREGATION_KICK_SECONDS)
    except (RedisError, OSError):
        # Submissions then start runs of their own, or leave their reports to the sweep.
        log.warning("could not hold the aggregation kick")
