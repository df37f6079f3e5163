"""Time `import_stations` on the real Moscow 2013 list (3,611 stations).

Usage: .venv/bin/python bench/import_stations.py [--runs 5] [--write]

Runs against a throwaway test database of whatever DATABASE_URL names (SQLite when unset),
created and dropped by Django's test machinery, so no real data is touched. Measures the
first import into a new election, a repeated import of the same list (nothing changes) and
a dry run. With --write, puts the results in the "Station import" section of
docs/benchmarks.md.
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
REAL = ROOT.parent / "shared" / "data" / "moscow_2013_mayoral_uik_list_rosvybory.csv"
SECTION = "## Station import (issue 2)"
INTRO = (
    "`import_stations` on the real list `../shared/data/moscow_2013_mayoral_uik_list_rosvybory"
    ".csv` (bulk inserts in one transaction; the target is well under 5 s), timed in-process "
    "against a throwaway test database: `.venv/bin/python bench/import_stations.py --write`, "
    "with `DATABASE_URL=postgres://…` for PostgreSQL. The whole command, Django start-up "
    "included, takes about 1 s more."
)


def timed(*args: str) -> float:
    from django.core.management import call_command

    start = time.perf_counter()
    call_command("import_stations", str(REAL), *args, stdout=io.StringIO())
    return time.perf_counter() - start


def measure(runs: int) -> dict[str, list[float]]:
    from reports.models import Election, Station

    results = {"first import": [], "repeated import": [], "dry run": []}
    for run in range(runs):
        args = ["--create-election", f"Bench {run}", "--date", "2013-09-08"]
        results["first import"].append(timed(*args))
        results["repeated import"].append(timed(*args))
        results["dry run"].append(timed(*args, "--dry-run"))
    election = Election.objects.get(name="Bench 0")
    assert election.stations.count() == 3611
    assert Station.objects.filter(election=election, has_scanner=True).count() == 1097
    assert Station.objects.filter(election=election, is_temporary=True).count() == 200
    return results


def report(results: dict[str, list[float]], vendor: str) -> str:
    lines = [
        f"- {time.strftime('%Y-%m-%d')}, {vendor}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; median of {len(results['first import'])} runs:"
    ]
    for name, seconds in results.items():
        lines.append(
            f"  - {name} of 3,611 rows: {statistics.median(seconds):.2f} s "
            f"(min {min(seconds):.2f}, max {max(seconds):.2f})"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    options = parser.parse_args()
    if not REAL.exists():
        sys.exit(f"{REAL} absent: this benchmark needs the real station list")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observer.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-key")
    os.environ.setdefault("TASKS_IN_PROCESS", "1")  # no Redis needed to time an import
    import django
    from django.db import connection

    django.setup()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        if connection.vendor == "postgresql":
            version = str(connection.pg_version // 10000)
        else:
            version = connection.Database.sqlite_version
        text = report(measure(options.runs), f"{connection.vendor} {version}")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
    print(text)
    if options.write:
        section_entry_write(section=SECTION, intro=INTRO, text=text, vendor=connection.vendor)


if __name__ == "__main__":
    main()
