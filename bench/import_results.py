"""Time `import_results` and the statistics on the national files (about 95,000–98,000 rows).

Usage: .venv/bin/python bench/import_results.py [--runs 1] [--year 2018] [--write]

Runs against a throwaway test database of whatever DATABASE_URL names (SQLite when unset),
created and dropped by Django's test machinery. For each of the 2012 and 2018 national files
measures: the import itself (work enqueued after it is held back, as when workers run
elsewhere), the aggregation task's work (reconciliation and totals), a whole statistics run
(reading the stations, computing, storing the flags), its reading alone, and the statistics
computation alone on arrays. Checks the CEC totals. With --write, puts the results in the
"Official results import and statistics (issue 15)" section of docs/benchmarks.md.
"""

import argparse
import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from benchdocs import section_entry_write

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
FILES = {
    "2012": ("russia_federal_2012_uik.csv.zip", "2012-03-04", 45_602_075),
    "2018": ("russia_federal_2018_uik.csv.zip", "2018-03-18", 56_430_712),
}
SECTION = "## Official results import and statistics (issue 15)"
INTRO = (
    "`import_results` on the national files of `../shared/data`, every value checked and the "
    "file written in one transaction (on PostgreSQL through COPY into a staging table); "
    "targets on PostgreSQL: import ≤ 20 s, a whole statistics run ≤ 3 s. Timed in-process "
    "against a throwaway test database: `.venv/bin/python bench/import_results.py --write`, "
    "with `DATABASE_URL=postgres://…` for PostgreSQL. “statistics” is a whole run: it reads "
    "every station from the database into arrays (the lines cast by the database, no model "
    "instances), computes Shpilkin's estimate, the integer-percentage test, the digit tests "
    "and the station flags, and stores the flags; “reading” is its first step alone; "
    "“arrays only” the computation alone. Each run also checks the leader's national total "
    "against the CEC's figure. The machine's 2 CPUs are shared with other sessions: the load "
    "average is given at the start and at the end."
)


def clock(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure_file(year: str, run: int) -> dict[str, float]:
    from django.core.management import call_command

    from reports.domain import forensics
    from reports.domain.protocol_checks import election_template
    from reports.models import Election, ResultTotal, StatisticsRun
    from reports.services.protocols import (
        results_aggregate,
        stations_reconcile,
        statistics_rows,
        statistics_run_execute,
    )

    name, date, leader_total = FILES[year]
    title = f"Bench {year} {run}"
    seconds = {}
    seconds["import"] = clock(
        lambda: call_command("import_results", str(DATA / name), name=title, date=date,
                             stdout=io.StringIO())
    )  # fmt: skip
    election = Election.objects.get(name=title)
    seconds["aggregation"] = clock(
        lambda: (stations_reconcile(election=election), results_aggregate(election=election))
    )
    totals = ResultTotal.objects.get(election=election, source="official", level="election")
    assert max(v for k, v in totals.lines.items() if k.startswith("c")) == leader_total
    statistics_run = StatisticsRun.objects.create(election=election)
    seconds["statistics"] = clock(lambda: statistics_run_execute(run_id=statistics_run.pk))
    template = election_template(election)
    seconds["reading"] = clock(lambda: statistics_rows(election, "official", template))
    stations, _rows = statistics_rows(election, "official", template)
    names = [template.label(key) for key in template.candidate_keys]
    seconds["arrays only"] = clock(
        lambda: (forensics.shpilkin(stations), forensics.integer_percentages(stations),
                 forensics.digits(stations, names), forensics.station_flags(stations))
    )  # fmt: skip
    seconds["rows"] = len(stations)
    return seconds


def report(results: dict[str, list[dict]], vendor: str, load_before: float) -> str:
    runs = len(next(iter(results.values())))
    load = os.getloadavg()[0]
    lines = [
        f"- {time.strftime('%Y-%m-%d')}, {vendor}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load_before:.1f} at the start and {load:.1f} "
        f"at the end; median of {runs} run(s):"
    ]
    for year, measured in results.items():
        rows = measured[0]["rows"]
        parts = []
        for key in ("import", "aggregation", "statistics", "reading", "arrays only"):
            values = [m[key] for m in measured]
            parts.append(f"{key} {statistics.median(values):.1f} s")
        lines.append(f"  - {year}, {rows:,} stations: " + "; ".join(parts))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--year", choices=sorted(FILES), action="append", help="default: all")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    options = parser.parse_args()
    years = options.year or list(FILES)
    missing = [FILES[year][0] for year in years if not (DATA / FILES[year][0]).exists()]
    if missing:
        sys.exit(f"{DATA}: {', '.join(missing)} absent: this benchmark needs the real files")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observer.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-key")
    os.environ["REDIS_URL"] = ""  # an in-memory broker: nothing is sent anywhere
    os.environ["TASKS_IN_PROCESS"] = "1"
    import django
    from django.db import connection

    django.setup()
    from observer.celery import app

    app.conf.task_always_eager = False  # hold enqueued work back: it is timed on its own
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        if connection.vendor == "postgresql":
            version = str(connection.pg_version // 10000)
        else:
            version = connection.Database.sqlite_version
        load_before = os.getloadavg()[0]
        results = {year: [measure_file(year, run) for run in range(options.runs)] for year in years}
        text = report(results, f"{connection.vendor} {version}", load_before)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
    print(text)
    if options.write:
        section_entry_write(section=SECTION, intro=INTRO, text=text, vendor=connection.vendor)


if __name__ == "__main__":
    main()
