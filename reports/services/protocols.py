"""Counts and protocols: observers' turnout counts and protocol copies, official results,
reconciliation of copies, stored totals and statistics runs.

Turnout counts and protocol copies are accepted exactly once per client UUID, as reports are:
the same UUID with the same content returns the stored row, with other content it raises
ReportConflict. Reconciliation, aggregation and statistics are enqueued after commit and are
safe to run twice: they rewrite their own rows from the data.
"""

import hashlib
import json
import logging
import uuid as uuid_module
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from reports.domain import forensics
from reports.domain.protocol_checks import ProtocolTemplate, election_template
from reports.domain.uploads import EvidenceRejected, inspect, public_copy_write
from reports.importers.results import Issue, ParsedRow
from reports.importers.table import ImportFileError, normalise
from reports.models import (
    Category,
    Channel,
    Election,
    Evidence,
    EvidenceAccess,
    Observer,
    OfficialResult,
    ProtocolCopy,
    ResultLevel,
    ResultsImport,
    ResultSource,
    ResultTotal,
    Station,
    StationFlag,
    StationReconciliation,
    StatisticsRun,
    TurnoutCount,
)
from reports.selectors import okrug_in_scope
from reports.services.audit import audit_record
from reports.services.evidence import original_store
from reports.services.incidents import OutOfScope
from reports.services.queue import task_enqueue
from reports.services.submission import ReportConflict, ReportInput, report_submit

log = logging.getLogger(__name__)

# Namespace of the deterministic UUIDs of reports the system raises.
SYSTEM_REPORTS = uuid_module.UUID("7f3b0c52-8d7e-4f0e-9a51-2c6f1d0b9e11")
IMPORT_BATCH = 2000
STORED_ISSUES = 1000
AGGREGATE_DELAY = 30  # seconds


def content_hash(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_once(model, *, uuid: uuid_module.UUID, digest: str, fields: dict) -> tuple:
    """Create a row keyed by a client UUID exactly once; see the module's docstring."""
    try:
        with transaction.atomic():
            return model.objects.create(uuid=uuid, content_hash=digest, **fields), True
    except IntegrityError:
        existing = model.objects.filter(uuid=uuid).first()
        if existing is None:
            raise
        if existing.content_hash != digest:
            raise ReportConflict(str(uuid)) from None
        return existing, False


@transaction.atomic
def results_election_create(
    *, name: str, date, template: dict, actor: AbstractBaseUser | None = None
) -> Election:
    """A new election to receive official results, with its protocol form."""
    ProtocolTemplate(template)
    election = Election.objects.create(name=name, date=date, protocol_template=template)
    audit_record(
        actor=actor,
        action="results_election_create",
        obj=election,
        after={"name": name, "template": template.get("key")},
    )
    return election


@transaction.atomic
def election_template_set(
    *, election: Election, template: dict, actor: AbstractBaseUser | None = None
) -> Election:
    """Give an election its protocol form (checked to be a usable template)."""
    ProtocolTemplate(template)
    before = {"template": election.protocol_template.get("key")}
    election.protocol_template = template
    election.save(update_fields=["protocol_template"])
    audit_record(
        actor=actor,
        action="election_template_set",
        obj=election,
        before=before,
        after={"template": template.get("key")},
    )
    return election


@dataclass(frozen=True)
class TurnoutInput:
    uuid: uuid_module.UUID
    station: Station
    checkpoint: str
    own_tally: int | None = None
    announced: int | None = None


def turnout_count_submit(
    *, data: TurnoutInput, observer: Observer, channel: str = Channel.WEB
) -> tuple[TurnoutCount, bool]:
    """Store a turnout count exactly once per client UUID; return (count, created)."""
    fields = {
        "station": data.station,
        "checkpoint": data.checkpoint,
        "own_tally": data.own_tally,
        "announced": data.announced,
        "observer": observer,
    }
    digest = content_hash({key: getattr(value, "pk", value) for key, value in fields.items()})
    fields.update(election_id=data.station.election_id, channel=channel)
    return create_once(TurnoutCount, uuid=data.uuid, digest=digest, fields=fields)


@dataclass(frozen=True)
class ProtocolCopyInput:
    uuid: uuid_module.UUID
    station: Station
    lines: dict[str, int]
    photo: UploadedFile | None = None


@dataclass(frozen=True)
class StoredPhoto:
    sha256: str = ""
    path: str = ""
    content_type: str = ""
    size: int | None = None


def protocol_photo_store(upload: UploadedFile | None, *, key: uuid_module.UUID) -> StoredPhoto:
    """Keep the untouched photo of a copy in private storage, and beside it a copy without
    metadata (protocol_photo_clean); refuse anything not a photo."""
    if upload is None:
        return StoredPhoto()
    inspection = inspect(upload)
    if inspection.kind != Evidence.Kind.PHOTO:
        raise EvidenceRejected(_("The copy must be a photo (JPEG, PNG or WebP)."))
    relative = f"protocols/{key}.{inspection.extension}"
    destination = settings.PRIVATE_MEDIA_ROOT / relative
    if destination.exists():  # a retried submission: the same UUID's photo is already here
        sha256 = hashlib.sha256(destination.read_bytes()).hexdigest()
        return StoredPhoto(sha256, relative, inspection.content_type, destination.stat().st_size)
    sha256, size = original_store(upload, destination)
    public_copy_write(upload, protocol_photo_clean_path(relative))
    return StoredPhoto(sha256, relative, inspection.content_type, size)


def protocol_photo_clean_path(photo_path: str) -> Path:
    """Where the copy without metadata of a protocol photo lives (private, like the photo)."""
    return settings.PRIVATE_MEDIA_ROOT / f"{Path(photo_path).with_suffix('')}.clean.jpg"


def protocol_photo_clean(copy: ProtocolCopy) -> Path:
    """The protocol photo without EXIF (no GPS, no device), written from the original if a
    copy stored before these existed has none yet."""
    clean = protocol_photo_clean_path(copy.photo_path)
    if not clean.exists():
        with (settings.PRIVATE_MEDIA_ROOT / copy.photo_path).open("rb") as original:
            public_copy_write(original, clean)
    return clean


@transaction.atomic
def protocol_photo_download_log(
    *, copy: ProtocolCopy, actor: AbstractBaseUser, ip_address: str | None = None
) -> EvidenceAccess:
    """Record one download of a protocol's original photo (chain of custody, as for
    evidence), before the file is sent."""
    if not okrug_in_scope(actor, copy.station.okrug_id):
        raise OutOfScope(_("This protocol copy is outside the okrugs you work on."))
    return EvidenceAccess.objects.create(
        protocol_copy=copy, user=actor, sha256=copy.photo_sha256, ip_address=ip_address
    )


def protocol_copy_submit(
    *, data: ProtocolCopyInput, observer: Observer | None, channel: str = Channel.WEB
) -> tuple[ProtocolCopy, bool]:
    """Store a protocol copy exactly once per client UUID; return (copy, created).

    The copy is kept even when control relations fail (a forged protocol must be reported as
    it is); the failures and soft-check warnings are recorded with it. The station is
    reconciled after commit.
    """
    template = election_template(data.station.election)
    missing = template.missing(data.lines)
    if missing:
        raise ValueError(f"protocol lines missing: {missing}")
    lines = {key: int(data.lines[key]) for key in template.keys}
    photo = protocol_photo_store(data.photo, key=data.uuid)
    digest = content_hash(
        {
            "station": data.station.pk,
            "lines": lines,
            "observer": observer.pk if observer else None,
            "photo": photo.sha256,
        }
    )
    check = template.check(lines)
    fields = {
        "election_id": data.station.election_id,
        "station": data.station,
        "observer": observer,
        "channel": channel,
        "lines": lines,
        "control_failures": check.failure_keys,
        "soft_warnings": check.warning_keys,
        "photo_sha256": photo.sha256,
        "photo_path": photo.path,
        "photo_content_type": photo.content_type,
        "photo_size": photo.size,
    }
    copy, created = create_once(ProtocolCopy, uuid=data.uuid, digest=digest, fields=fields)
    if created:
        transaction.on_commit(lambda: enqueue("station_reconcile_task", data.station.pk))
    return copy, created


def consensus(copies: list[ProtocolCopy], keys: list[str]) -> tuple[dict, dict]:
    """Per line, the value most copies agree on, and every line where copies differ.

    Copies passing the control relations are preferred; a tie goes to the latest copy.
    """
    passing = [copy for copy in copies if not copy.control_failures] or copies
    latest_first = sorted(passing, key=lambda copy: copy.received_at, reverse=True)
    agreed, disagreements = {}, {}
    for key in keys:
        values = [copy.lines.get(key) for copy in latest_first]
        counts = Counter(values)
        agreed[key] = max(values, key=lambda value: counts[value])  # first max: the latest
        seen = sorted({copy.lines.get(key) for copy in copies}, key=lambda v: (v is None, v))
        if len(seen) > 1:
            disagreements[key] = seen
    return agreed, disagreements


def official_differences(lines: dict, official: dict, tolerance: int) -> dict:
    return {
        key: [value, official[key]]
        for key, value in lines.items()
        if key in official and value is not None and abs(value - official[key]) > tolerance
    }


@transaction.atomic
def station_reconcile(*, station: Station) -> StationReconciliation:
    """Compare every copy of a station field by field, then the consensus with official.

    A consensus differing from the official result by more than PROTOCOL_DIFF_TOLERANCE on
    any line raises a T2 report through report_submit (channel "system"). Its UUID is derived
    from the station and the differences, so running this again raises nothing new.
    """
    template = election_template(station.election)
    copies = list(station.protocol_copies.all())
    agreed, disagreements = consensus(copies, template.keys) if copies else ({}, {})
    official = OfficialResult.objects.filter(station=station).first()
    differences = (
        official_differences(agreed, official.lines, settings.PROTOCOL_DIFF_TOLERANCE)
        if official and copies
        else {}
    )
    reconciliation, _created = StationReconciliation.objects.update_or_create(
        station=station,
        defaults={
            "election_id": station.election_id,
            "copies": len(copies),
            "lines": agreed,
            "disagreements": disagreements,
            "has_disagreement": bool(disagreements),
            "official_differences": differences,
            "differs_from_official": bool(differences),
        },
    )
    if differences:
        difference_report_raise(station=station, template=template, differences=differences)
    return reconciliation


def difference_report_raise(
    *, station: Station, template: ProtocolTemplate, differences: dict
) -> None:
    key = json.dumps([station.pk, sorted(differences.items())])
    with translation.override(settings.LANGUAGE_CODE):
        lines = "; ".join(
            _("line %(number)s: copy %(copy)s, official %(official)s")
            % {"number": template.number(line), "copy": copy, "official": official}
            for line, (copy, official) in differences.items()
        )
        description = _(
            "The observers' protocol copy differs from the official result by more than "
            "%(tolerance)s votes: %(lines)s."
        ) % {"tolerance": settings.PROTOCOL_DIFF_TOLERANCE, "lines": lines}
    report_submit(
        data=ReportInput(
            uuid=uuid_module.uuid5(SYSTEM_REPORTS, key),
            station=station,
            category=Category.objects.get(code="T2"),
            description=description,
            count=max(abs(copy - official) for copy, official in differences.values()),
        ),
        observer=None,
        channel=Channel.SYSTEM,
    )


def official_results_import(
    *,
    election: Election,
    rows,
    source: str,
    region: str = "",
    keep_good_rows: bool = False,
) -> tuple[ResultsImport, list[Issue]]:
    """Store official results, upserting by (election, region as compared, station number).

    `rows` yields (ParsedRow | None, [Issue]) as `reports.importers.results.rows_parse` does,
    and may raise ImportFileError. All or nothing: the rows are written in one transaction,
    rolled back when any row is refused (unless `keep_good_rows`) and whatever goes wrong.
    The run in the import log is written first and finished in every case, with its outcome.
    A failing official protocol is kept and flagged. Reconciliation and aggregation are
    enqueued after commit.

    Rows are matched to the election's stations by number. Numbers are unique only within a
    region, so the matches are dropped again when the file turns out to hold several regions
    and no `region` was chosen.
    """
    run = ResultsImport.objects.create(election=election, source=source[:300])
    issues: list[Issue] = []
    try:
        with transaction.atomic():
            official_results_write(run=run, rows=rows, issues=issues, region=region)
            refused = any(issue.refused for issue in issues)
            if refused and not keep_good_rows:
                transaction.set_rollback(True)
                run_rolled_back(run, ResultsImport.Outcome.REFUSED)
            else:
                run.outcome = (
                    ResultsImport.Outcome.PARTIAL if refused else ResultsImport.Outcome.IMPORTED
                )
                transaction.on_commit(lambda: enqueue("election_results_refresh_task", election.pk))
    except ImportFileError as error:  # the file or its header: refused, as a bad row is
        run_rolled_back(run, ResultsImport.Outcome.REFUSED)
        run.error = error.message
        raise
    except Exception as error:
        run_rolled_back(run, ResultsImport.Outcome.FAILED)
        run.error = repr(error)
        raise
    finally:
        run.issue_count = len(issues)
        run.issues = [issue.as_dict() for issue in issues[:STORED_ISSUES]]
        run.finished_at = timezone.now()
        run.save()
    return run, issues


def run_rolled_back(run: ResultsImport, outcome: str) -> None:
    run.outcome = outcome
    run.rows_imported = run.control_failed = 0


def official_results_write(*, run: ResultsImport, rows, issues: list[Issue], region: str) -> None:
    """Write the clean rows in batches, each place spelled as the election first stored it."""
    election = run.election
    template = election_template(election)
    stations = dict(Station.objects.filter(election=election).values_list("number", "pk"))
    spellings = place_spellings(election)
    batch: list[OfficialResult] = []
    regions = set()
    for parsed, row_issues in rows:
        run.rows_read += 1
        issues += row_issues
        if parsed is not None:
            result = official_result_build(election, template, parsed, stations, spellings)
            run.control_failed += bool(result.control_failures)
            regions.add(result.region_key)
            batch.append(result)
        if len(batch) >= IMPORT_BATCH:
            run.rows_imported += official_results_store(batch)
            batch = []
    run.rows_imported += official_results_store(batch)
    if len(regions) > 1 and not region and stations:
        log.warning("%s holds several regions: rows not matched to stations", run.source)
        OfficialResult.objects.filter(election=election).update(station=None)


def place_spellings(election: Election) -> dict[tuple[str, str | None], str]:
    """How the election's stored rows spell each region (key (region, None)) and each TIK
    (key (region, TIK)), compared without case, spacing or ё/е."""
    spellings = {}
    stored = (
        OfficialResult.objects.filter(election=election).order_by().values_list("region", "tik")
    )
    for region, tik in stored.distinct():
        spellings.setdefault((normalise(region), None), region)
        spellings.setdefault((normalise(region), normalise(tik)), tik)
    return spellings


def official_result_build(
    election: Election,
    template: ProtocolTemplate,
    parsed: ParsedRow,
    stations: dict,
    spellings: dict,
) -> OfficialResult:
    check = template.check(parsed.lines)
    region_key = normalise(parsed.region)
    return OfficialResult(
        election=election,
        region=spellings.setdefault((region_key, None), parsed.region),
        region_key=region_key,
        tik=spellings.setdefault((region_key, normalise(parsed.tik)), parsed.tik),
        uik=parsed.uik,
        station_id=stations.get(parsed.uik),
        lines=parsed.lines,
        control_failures=check.failure_keys,
        soft_warnings=check.warning_keys,
        url=parsed.url[:500],
    )


RESULT_UPDATED = ["tik", "station", "lines", "control_failures", "soft_warnings", "url"]
RESULT_COLUMNS = ["election_id", "region", "region_key", "uik", "tik", "station_id", "lines",
                  "control_failures", "soft_warnings", "url"]  # fmt: skip


def official_results_store(batch: list[OfficialResult]) -> int:
    """Upsert a batch by (election, region key, station number); on PostgreSQL through COPY
    into a staging table, which takes a third of the time of Django's bulk upsert, whose
    array parameters escape every quote of every JSON value in Python."""
    if not batch:
        return 0
    if connection.vendor == "postgresql":
        return official_results_copy(batch)
    OfficialResult.objects.bulk_create(
        batch,
        update_conflicts=True,
        unique_fields=["election", "region_key", "uik"],
        update_fields=RESULT_UPDATED,
    )
    return len(batch)


def official_results_copy(batch: list[OfficialResult]) -> int:
    table = OfficialResult._meta.db_table
    columns = ", ".join(RESULT_COLUMNS)
    updates = ", ".join(
        f"{column} = excluded.{column}"
        for column in ["tik", "station_id", "lines", "control_failures", "soft_warnings", "url"]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS official_result_staging ON COMMIT DELETE ROWS "  # noqa: S608 (our own names)
            f"AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute("TRUNCATE official_result_staging")
        rows = (
            (
                result.election_id, result.region, result.region_key, result.uik, result.tik,
                result.station_id, json.dumps(result.lines), json.dumps(result.control_failures),
                json.dumps(result.soft_warnings), result.url,
            )
            for result in batch
        )  # fmt: skip
        rows_copy(cursor, "official_result_staging", RESULT_COLUMNS, rows)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM official_result_staging "  # noqa: S608
            f"ON CONFLICT (election_id, region_key, uik) DO UPDATE SET {updates}"
        )
    return len(batch)


def stations_reconcile(*, election: Election) -> int:
    """Reconcile every station of an election that has copies; return how many."""
    stations = Station.objects.filter(election=election, protocol_copies__isnull=False)
    count = 0
    for station in stations.distinct().select_related("election"):
        station_reconcile(station=station)
        count += 1
    return count


class Place(NamedTuple):
    """Where one protocol belongs: the file's region and TIK, and the station's if matched."""

    region: str
    tik: str
    okrug_name: str | None
    station_tik: str | None
    station_id: int | None
    lines: dict


def area_name(level: str, place: Place) -> str | None:
    if level == ResultLevel.REGION:
        return place.region or None
    if level == ResultLevel.OKRUG:
        return place.okrug_name
    if level == ResultLevel.TIK:
        return place.station_tik or (f"{place.region}, {place.tik}" if place.tik else None)
    return ""


def totals_of(election: Election, source: str, places: list[Place], keys) -> list[ResultTotal]:
    """Sum the lines of every place for every area at every level."""
    if not places:
        return []
    matrix = np.array([[place.lines.get(key) or 0 for key in keys] for place in places])
    rows = []
    for level in ResultLevel.values:
        names = [area_name(level, place) for place in places]
        labels = sorted({name for name in names if name is not None})
        if not labels:
            continue
        index = {name: i for i, name in enumerate(labels)}
        groups = np.array([index.get(name, -1) for name in names])
        known = groups >= 0
        sums = np.zeros((len(labels), len(keys)), dtype=np.int64)
        np.add.at(sums, groups[known], matrix[known])
        counts = np.bincount(groups[known], minlength=len(labels))
        rows += [
            ResultTotal(
                election=election,
                source=source,
                level=level,
                name=name or election.name,
                stations=int(counts[i]),
                lines=dict(zip(keys, sums[i].tolist(), strict=True)),
            )
            for i, name in enumerate(labels)
        ]
    return rows


@transaction.atomic
def results_aggregate(*, election: Election) -> int:
    """Rewrite the stored totals of an election from official results and observers' copies.

    Three sources side by side: official results of every station, observers' consensus
    copies, and official results of just the stations that have a copy. Returns the rows.
    """
    keys = election_template(election).keys
    official = [
        Place(*row)
        for row in OfficialResult.objects.filter(election=election).values_list(
            "region", "tik", "station__okrug__name", "station__tik__name", "station_id", "lines"
        )
    ]
    observers = [
        Place("", "", *row)
        for row in StationReconciliation.objects.filter(election=election, copies__gt=0)
        .values_list("station__okrug__name", "station__tik__name", "station_id", "lines")
    ]  # fmt: skip
    with_copy = {place.station_id for place in observers}
    matched = [place for place in official if place.station_id in with_copy]
    rows = (
        totals_of(election, ResultSource.OFFICIAL, official, keys)
        + totals_of(election, ResultSource.OBSERVERS, observers, keys)
        + totals_of(election, ResultSource.OFFICIAL_MATCHED, matched, keys)
    )
    ResultTotal.objects.filter(election=election).delete()
    ResultTotal.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


@transaction.atomic
def statistics_run_request(
    *,
    election: Election,
    source: str = ResultSource.OFFICIAL,
    actor: AbstractBaseUser | None = None,
) -> StatisticsRun:
    """Ask the workers for fresh statistics of an election."""
    run = StatisticsRun.objects.create(election=election, source=source)
    audit_record(actor=actor, action="statistics_run_request", obj=run)
    transaction.on_commit(lambda: enqueue("statistics_run_task", run.pk))
    return run


def statistics_run_execute(*, run_id: int) -> bool:
    """Compute a requested statistics run; only the worker that claims it does the work.

    A run left `running` longer than STATISTICS_RUN_STALE (its worker was killed: the task's
    own hard limit is shorter) is claimed again, so a lost worker never leaves it stuck.
    """
    now = timezone.now()
    claimed = (
        StatisticsRun.objects.filter(pk=run_id)
        .filter(statistics_run_claimable(now))
        .update(status=StatisticsRun.Status.RUNNING, started_at=now)
    )
    if not claimed:
        return False
    run = StatisticsRun.objects.select_related("election").get(pk=run_id)
    try:
        result, flags = statistics_compute(run)
    except Exception as error:
        StatisticsRun.objects.filter(pk=run_id).update(
            status=StatisticsRun.Status.FAILED, finished_at=timezone.now(), error=repr(error)
        )
        raise
    with transaction.atomic():
        station_flags_store(run_id, flags)
        StatisticsRun.objects.filter(pk=run_id).update(
            status=StatisticsRun.Status.DONE, finished_at=timezone.now(), result=result
        )
    return True


# Longer than the statistics task's hard time limit (660 s), so a live run is never taken.
STATISTICS_RUN_STALE = timedelta(minutes=15)


def statistics_run_claimable(now: datetime) -> Q:
    """Waiting runs, and runs whose worker stopped answering (running for too long)."""
    return Q(status=StatisticsRun.Status.PENDING) | Q(
        status=StatisticsRun.Status.RUNNING, started_at__lt=now - STATISTICS_RUN_STALE
    )


def statistics_runs_reclaim(*, now: datetime | None = None) -> int:
    """Hand the workers again the runs the broker lost or a killed worker left running.

    Waiting runs older than a minute (their message never arrived) and stale running runs;
    a run a worker is still computing is never taken. Returns how many were enqueued.
    """
    now = now or timezone.now()
    forgotten = list(
        StatisticsRun.objects.filter(statistics_run_claimable(now))
        .exclude(status=StatisticsRun.Status.PENDING, requested_at__gte=now - timedelta(minutes=1))
        .values_list("pk", flat=True)
    )
    for run_id in forgotten:
        enqueue("statistics_run_task", run_id)
    return len(forgotten)


@dataclass
class StationRows:
    """Per-station places and lines read for the statistics, parallel to a `Stations`."""

    region: list[str]
    tik: list[str]
    uik: list[int]
    station: list[int | None]
    control_failed: np.ndarray
    differs: np.ndarray


STATISTICS_KEYS = ("voters", "early", "inside", "outside", "invalid", "valid")


def line_values(keys: list[str], field: str = "lines") -> list:
    """Each line of the JSON column as an integer read by the database (0 when absent), so
    no row's JSON is decoded in Python: that took most of a national run's time."""
    return [Coalesce(Cast(KT(f"{field}__{key}"), BigIntegerField()), 0) for key in keys]


def statistics_rows(election: Election, source: str, template: ProtocolTemplate):
    """Read the stations for the statistics into arrays: official results or observers'
    consensus, without building model instances."""
    keys = [*STATISTICS_KEYS, *template.candidate_keys]
    if source == ResultSource.OBSERVERS:
        queryset = StationReconciliation.objects.filter(election=election, copies__gt=0)
        places = ("station__tik__okrug__name", "station__tik__name", "station__number")
        failed = Value(False)
        differs = F("differs_from_official")
    else:
        queryset = OfficialResult.objects.filter(election=election)
        places = ("region", "tik", "uik")
        failed = ~Q(control_failures=[])
        differs = Exists(
            StationReconciliation.objects.filter(
                station_id=OuterRef("station_id"), differs_from_official=True
            )
        )
    records = list(
        queryset.order_by().values_list(
            *places,
            "station_id",
            Coalesce("station__is_temporary", False),
            ExpressionWrapper(failed, output_field=BooleanField()),
            ExpressionWrapper(differs, output_field=BooleanField()),
            *line_values(keys),
        )
    )
    columns = list(zip(*records, strict=True)) or [()] * (7 + len(keys))
    matrix = np.array(columns[7:], dtype=np.int64).reshape(len(keys), len(records)).T
    region_labels = np.unique(np.array(columns[0], dtype=object), return_inverse=True)[1]
    tik_names = [f"{region}\x00{tik}" for region, tik in zip(columns[0], columns[1], strict=True)]
    tik_labels = np.unique(np.array(tik_names, dtype=object), return_inverse=True)[1]
    stations = forensics.Stations.build(
        voters=matrix[:, 0],
        issued=matrix[:, 1:4].sum(axis=1),
        outside=matrix[:, 3],
        in_boxes=matrix[:, 4:6].sum(axis=1),
        votes=matrix[:, 6:],
        tik=tik_labels,
        region=region_labels,
        temporary=columns[4],
    )
    rows = StationRows(
        region=list(columns[0]),
        tik=list(columns[1]),
        uik=list(columns[2]),
        station=list(columns[3]),
        control_failed=np.array(columns[5], dtype=bool),
        differs=np.array(columns[6], dtype=bool),
    )
    return stations, rows


FLAG_COLUMNS = ["region", "tik", "uik", "station_id", "kind", "value"]


def station_flags_store(run_id: int, flags: list[tuple]) -> None:
    """Store a run's flags, each (region, tik, uik, station_id, kind, value); on PostgreSQL
    by COPY, without building a model instance per flag."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            rows = ((run_id, *flag) for flag in flags)
            rows_copy(cursor, StationFlag._meta.db_table, ["run_id", *FLAG_COLUMNS], rows)
        return
    StationFlag.objects.bulk_create(
        (
            StationFlag(run_id=run_id, **dict(zip(FLAG_COLUMNS, flag, strict=True)))
            for flag in flags
        ),
        batch_size=2000,
    )


def rows_copy(cursor, table: str, columns: list[str], rows: Iterable[Sequence]) -> None:
    """COPY rows into a PostgreSQL table: the fastest way in, values escaped by psycopg."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def statistics_compute(run: StatisticsRun) -> tuple[dict, list[tuple]]:
    template = election_template(run.election)
    stations, rows = statistics_rows(run.election, run.source, template)
    names = [template.label(key) for key in template.candidate_keys]
    if not len(stations) or not names:
        return {"stations": 0}, []
    signs = forensics.station_flags(stations)
    masks = {kind: mask for kind, (mask, _value) in signs.items()}
    values = {kind: value for kind, (_mask, value) in signs.items()}
    masks[StationFlag.Kind.CONTROL] = rows.control_failed
    masks[StationFlag.Kind.COPY_DIFFERS] = rows.differs
    flags = [
        (
            rows.region[i],
            rows.tik[i],
            rows.uik[i],
            rows.station[i],
            kind,
            float(values[kind][i]) if kind in values else None,
        )
        for kind, mask in masks.items()
        for i in np.flatnonzero(mask).tolist()
    ]
    result = {
        "stations": len(stations),
        "source": run.source,
        "leader": names[stations.leader],
        "candidates": names,
        "shpilkin": forensics.shpilkin(stations),
        "integer_percentages": forensics.integer_percentages(stations),
        "digits": forensics.digits(stations, names),
        "flags": {kind: int(mask.sum()) for kind, mask in masks.items()},
    }
    return result, flags


def results_refresh_request(*, election: Election, actor: AbstractBaseUser | None) -> None:
    """Ask the workers to reconcile every station and rewrite the totals of an election."""
    audit_record(actor=actor, action="results_refresh_request", obj=election)
    transaction.on_commit(lambda: enqueue("election_results_refresh_task", election.pk))


def results_aggregate_soon(*, election_id: int) -> None:
    """Have the election's totals recomputed: at once for the first copy in AGGREGATE_DELAY
    seconds, and within AGGREGATE_DELAY seconds for the rest (beat's
    results_aggregate_due_task), however many copies arrive meanwhile.

    Every copy marks the totals due; each aggregation clears the mark before it reads. No
    message waits for a countdown: Celery's worker exits when Redis goes away while it
    holds one (docs/task-policy.md).
    """
    try:
        cache.set(results_due_key(election_id), True, timeout=None)
        first = cache.add(f"protocols:aggregate:{election_id}", True, timeout=AGGREGATE_DELAY)
    except (RedisError, OSError):
        log.warning("could not mark the totals of election %s due", election_id)
        return
    if first:
        enqueue("results_aggregate_task", election_id)


def results_due_key(election_id: int) -> str:
    return f"protocols:due:{election_id}"


def results_aggregate_marked(*, election: Election) -> None:
    """results_aggregate, clearing the election's due mark before reading."""
    try:
        cache.delete(results_due_key(election.pk))
    except (RedisError, OSError):
        log.warning("could not clear the due mark of election %s", election.pk)
    results_aggregate(election=election)


def results_aggregate_due() -> int:
    """Recompute the totals of every active election marked due; return how many."""
    elections = list(Election.objects.filter(is_active=True))
    marks = cache.get_many([results_due_key(election.pk) for election in elections])
    due = [election for election in elections if results_due_key(election.pk) in marks]
    for election in due:
        results_aggregate_marked(election=election)
    return len(due)


def enqueue(task_name: str, object_id: int) -> None:
    """Hand work to the workers; a broker failure is logged, not raised.

    Everything enqueued here is recomputed from stored rows, so a lost message only delays
    it until the next request (a new copy, an import, the statistics button) of the election.
    """
    task_enqueue(f"reports.{task_name}", object_id)


@transaction.atomic
def official_results_generate(*, election: Election, totals: dict, seed: int = 2013) -> int:
    """Invent per-station official results for a demo whose city totals equal `totals`.

    `totals` holds voters, ballots issued, issued outside, invalid ballots and each
    candidate's votes (the shape of `official_totals` in the Moscow 2013 template). Every
    figure is split over the election's stations by multinomial draws, so the sums are
    exact; candidates' votes are drawn station by station from the valid ballots left
    (multivariate hypergeometric), so every station satisfies the control relations.
    Returns the number of stations written.
    """
    template = election_template(election)
    stations = list(Station.objects.filter(election=election).select_related("tik", "okrug"))
    rng = np.random.default_rng(seed)
    size = rng.normal(2000, 350, len(stations)).clip(600, 3500)
    voters = rng.multinomial(totals["voters"], size / size.sum())
    appetite = voters * rng.uniform(0.8, 1.2, len(stations))
    issued = rng.multinomial(totals["issued"], appetite / appetite.sum())
    outside = rng.multinomial(totals["outside"], issued / issued.sum())
    invalid = rng.multinomial(totals["invalid"], issued / issued.sum())
    if (issued > voters).any() or (outside > issued).any() or (invalid > issued).any():
        raise ValueError("these totals cannot be spread over so few stations")
    left = issued - invalid
    votes = {}
    for key in template.candidate_keys[:-1]:
        votes[key] = rng.multivariate_hypergeometric(left, totals["votes"][key])
        left = left - votes[key]
    votes[template.candidate_keys[-1]] = left
    cancelled = (voters * 0.05).astype(np.int64)
    rows = []
    for i, station in enumerate(stations):
        lines = {
            "voters": voters[i], "received": issued[i] + cancelled[i], "early": 0,
            "inside": issued[i] - outside[i], "outside": outside[i], "cancelled": cancelled[i],
            "portable": outside[i], "stationary": issued[i] - outside[i],
            "invalid": invalid[i], "valid": issued[i] - invalid[i], "lost": 0, "unaccounted": 0,
        } | {key: column[i] for key, column in votes.items()}  # fmt: skip
        lines = {key: int(lines[key]) for key in template.keys}
        rows.append(
            OfficialResult(
                election=election,
                region=election.name,
                region_key=normalise(election.name),
                tik=station.tik.name,
                uik=station.number,
                station=station,
                lines=lines,
                control_failures=template.check(lines).failure_keys,
            )
        )
    OfficialResult.objects.filter(election=election).delete()
    OfficialResult.objects.bulk_create(rows, batch_size=IMPORT_BATCH)
    transaction.on_commit(lambda: enqueue("election_results_refresh_task", election.pk))
    return len(rows)
