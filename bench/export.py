"""Bulk export of a million reports beside PostgreSQL's own `COPY … TO STDOUT`.

Usage: .venv/bin/python bench/export.py [--rows 1000000] [--rounds 3] [--write]

Works in its own PostgreSQL database, `obs_bench_api` (BENCH_DATABASE_URL to change it),
created, migrated and filled once (INSERT … SELECT generate_series: 3,611 stations, 1,000
observers, a report for every row asked, one incident per ten reports). Then, in the same run:

1. COPY: `COPY (<the export's SELECT>) TO STDOUT` in text format, read to the end by
   psycopg and thrown away: the same rows and columns, rendered by PostgreSQL alone.
2. The exporter, once per format (NDJSON gzip, JSON, CSV), each in a child process: an
   export job of every report in the full shape, started with `export_start` and written by
   `export_run` (eager Celery), file included. The child reports its wall time and its peak
   resident memory (ru_maxrss).

Each round runs COPY and then the three jobs; the medians over the rounds are reported, as
other work on the machine makes single runs vary. With --write, puts the figures in the
"JSON export and API" section of docs/benchmarks.md.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from benchdb import database_create, django_start
from benchdocs import section_replace

SECTION = "## JSON export and API (issue 6)"
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/obs_bench_api"
)
FORMATS = ("ndjson.gz", "json", "csv")
TARGET_RATIO, TARGET_MB = 0.5, 250


def seed(rows: int) -> None:
    """Fill the bench database once: places and observers with the ORM, reports in SQL."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from reports.models import Election, Observer, Okrug, Report, Station, Tik

    call_command("migrate", verbosity=0)
    if Report.objects.count() == rows:
        return
    print(f"seeding {rows:,} reports…", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE reports_report, reports_incident, reports_observer, reports_station, "
            "reports_tik, reports_okrug, reports_election CASCADE"
        )
    get_user_model().objects.filter(username__startswith="bench-").delete()
    election = Election.objects.create(name="Bench", date="2013-09-08")
    okrugs = Okrug.objects.bulk_create(
        Okrug(election=election, name=f"Округ {n}") for n in range(12)
    )
    tiks = Tik.objects.bulk_create(Tik(okrug=okrugs[n % 12], name=f"ТИК {n}") for n in range(127))
    Station.objects.bulk_create(
        Station(election=election, okrug=tiks[n % 127].okrug, tik=tiks[n % 127], number=n + 1)
        for n in range(3611)
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-{n}") for n in range(1000)
    )
    Observer.objects.bulk_create(
        Observer(user=user, election=election, pseudonym=f"Наблюдатель {n}")
        for n, user in enumerate(users)
    )
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL, {"election": election.pk, "rows": rows})
        cursor.execute("ANALYZE")


SEED_SQL = """
WITH s AS (SELECT array_agg(id ORDER BY id) AS ids FROM reports_station),
     o AS (SELECT array_agg(id ORDER BY id) AS ids FROM reports_observer),
     c AS (SELECT array_agg(code ORDER BY position) AS codes FROM reports_category
           WHERE NOT system_only)
INSERT INTO reports_incident (election_id, station_id, category_id, status, severity,
    confidence, report_count, reporter_count, first_at, last_at, needs_mobile_group,
    needs_lawyer, pinned_by_moderator, created_at, updated_at)
SELECT %(election)s, s.ids[1 + n %% 3611], c.codes[1 + n %% 23],
    (ARRAY['new', 'verified', 'rejected', 'verified'])[1 + n %% 4], 'S', 0.5, 10, 3,
    now(), now(), false, false, false, now(), now()
FROM generate_series(0, %(rows)s / 10 - 1) AS n, s, c;

WITH s AS (SELECT array_agg(id ORDER BY id) AS ids FROM reports_station),
     o AS (SELECT array_agg(id ORDER BY id) AS ids FROM reports_observer),
     i AS (SELECT array_agg(id ORDER BY id) AS ids FROM reports_incident),
     c AS (SELECT array_agg(code ORDER BY position) AS codes FROM reports_category
           WHERE NOT system_only)
INSERT INTO reports_report (uuid, election_id, station_id, category_id, observer_id,
    reporter_role, trust, channel, occurred_at, received_at, description, count,
    complaint_filed, police_called, violation_stopped, needs_mobile_group, needs_lawyer,
    status, incident_id, content_hash, updated_at)
SELECT gen_random_uuid(), %(election)s, s.ids[1 + n %% 3611], c.codes[1 + n %% 23],
    o.ids[1 + n %% 1000], 'observer', 2, 'web', now() - n * interval '1 second',
    now() - n * interval '1 second',
    'Наблюдатель сообщает: "нарушение" у урны № ' || n || E'\\nподробности по телефону',
    n %% 50, n %% 3 = 0, n %% 7 = 0, false, n %% 11 = 0, false,
    'new', i.ids[1 + n / 10], md5(n::text) || md5(n::text), now()
FROM generate_series(0, %(rows)s - 1) AS n, s, o, i, c;
"""


def copy_baseline() -> dict:
    """PostgreSQL alone: COPY of the export's own SELECT, text format, read and discarded."""
    from django.db import connection

    from reports.domain import records
    from reports.models import ExportScope

    record = records.report_record(ExportScope.FULL)
    rows = records.report_rows(ExportScope.FULL).order_by("id")
    columns = {f"c{n}": path for n, path in enumerate(copy_columns(record))}
    inner, params = rows.values(**columns).query.sql_with_params()
    start = time.perf_counter()
    size = count = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY ({inner}) TO STDOUT", params) as copy:
        while row := copy.read():
            size += len(row)
            count += 1
    return {"seconds": time.perf_counter() - start, "rows": count, "bytes": size}


def copy_columns(record) -> list:
    from django.db.models import F

    return [F("__".join(field.source_attrs)) for field in record().fields.values()]


def child(fmt: str) -> None:
    """One export job, timed; prints its figures as JSON."""
    import resource

    from reports.models import ExportJob, ExportScope, ExportShape
    from reports.services.exports import export_file, export_start

    start = time.perf_counter()
    job = export_start(shape=ExportShape.REPORTS, fmt=fmt, scope=ExportScope.FULL, filters={})
    seconds = time.perf_counter() - start
    job = ExportJob.objects.get(pk=job.pk)
    assert job.status == ExportJob.Status.DONE, job.error
    path = export_file(job)
    figures = {
        "seconds": seconds,
        "rows": job.rows_done,
        "bytes": job.file_size,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    path.unlink()
    print(json.dumps(figures))


def exporter(fmt: str, media: str) -> dict:
    env = dict(os.environ, PRIVATE_MEDIA_ROOT=media)
    output = subprocess.run(
        [sys.executable, __file__, "--child", fmt],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def report(baseline: dict, results: dict[str, dict], rounds: int) -> str:
    from django.db import connection

    rate = baseline["rows"] / baseline["seconds"]
    lines = [
        f"- {time.strftime('%Y-%m-%d')}, PostgreSQL {connection.pg_version // 10000}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{baseline['rows']:,} reports in the full shape (joins: station, TIK, okrug, "
        f"category, observer); medians of {rounds} rounds, COPY and the jobs taking turns:",
        f"  - `COPY (SELECT …) TO STDOUT`, text: {baseline['seconds']:.1f} s, "
        f"{rate:,.0f} rows/s, {baseline['bytes'] / 2**20:,.0f} MiB",
    ]
    for fmt, figures in results.items():
        ratio = figures["rows"] / figures["seconds"] / rate
        verdict = (
            "meets" if ratio >= TARGET_RATIO and figures["maxrss_mb"] <= TARGET_MB else "MISSES"
        )
        lines.append(
            f"  - export job, {fmt}: {figures['seconds']:.1f} s, "
            f"{figures['rows'] / figures['seconds']:,.0f} rows/s = {ratio:.2f}× COPY; "
            f"file {figures['bytes'] / 2**20:,.0f} MiB; peak memory {figures['maxrss_mb']:.0f} MB "
            f"({verdict} ≥ {TARGET_RATIO}× COPY and ≤ {TARGET_MB} MB)"
        )
    return "\n".join(lines)


INTRO = (
    "A million reports exported by the export job (`export_start` → `export_run`, file "
    "written, gzip level `EXPORT_GZIP_LEVEL`) beside PostgreSQL's own `COPY (SELECT …) TO "
    "STDOUT` of the same rows and columns in the same run; the job runs in a child process "
    "whose peak resident memory (ru_maxrss) is reported. Targets: at least 0.5× COPY's rate, "
    "at most 250 MB. Command: `.venv/bin/python bench/export.py --write` (own database "
    "`obs_bench_api`, filled once)."
)


READING = (
    "Reading the figures: memory stays flat (the same peak for every format, and for 20,000 "
    "rows as for a million: Django, DRF and the app loaded, nothing per record). The time is "
    "PostgreSQL's: the job streams what one COPY renders. JSON costs PostgreSQL about 2.5× "
    "the CPU of its text output (every key is escaped again in every row), which two "
    "parallel workers (enabled for the export's statement) win back only when both cores "
    "are free; CSV costs less per row but converts times, booleans and formula-like text; "
    "gzip adds its own CPU. On this two-core machine shared with other work, the formats "
    "land between about 0.4× and 0.7× of COPY from run to run (the verdicts above are this "
    "run's): around the 0.5× target, not safely above it. Compressing in a second thread "
    "(zlib lets go of the GIL) was tried on 2026-11-25 and gained nothing (NDJSON gzip 0.45× "
    "before and after): PostgreSQL's parallel workers already keep both CPUs busy."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--child", choices=FORMATS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        django_start(DATABASE_URL)
        child(args.child)
        return
    database_create(DATABASE_URL)
    django_start(DATABASE_URL)
    seed(args.rows)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-export-") as media:
        for _ in range(args.rounds):
            rounds.append(
                {"copy": copy_baseline(), **{fmt: exporter(fmt, media) for fmt in FORMATS}}
            )
    medians = {
        key: {**rounds[0][key], "seconds": statistics.median(r[key]["seconds"] for r in rounds)}
        for key in rounds[0]
    }
    text = report(medians.pop("copy"), medians, args.rounds)
    print(text)
    if args.write:
        section_replace(SECTION, f"{INTRO}\n\n{text}\n\n{READING}")


if __name__ == "__main__":
    main()
