"""Freshness of the tallies: time from a report's commit to the tally a moderator reads.

Usage (PostgreSQL and Redis required):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/obs_aggregation \\
    REDIS_URL=redis://127.0.0.1:6379/3 \\
    .venv/bin/python bench/freshness.py [--rate 200] [--duration 30] [--concurrency 2] [--write]

Steps:
1. Create a throwaway test database (Django's test machinery, dropped at the end) with a
   Moscow-sized election: 12 okrugs, 127 TIKs, 3,611 stations, 300 observers.
2. Start a real Celery worker (prefork, `--concurrency`, with beat) on that database.
3. Submit `--rate` reports per second for `--duration` seconds through `report_submit`
   (the service every form and API call uses), from two paced threads; 70 % from observers,
   30 % from citizens, categories drawn at random. Each commit time is recorded.
4. Meanwhile a poller reads the election's total tally (what the dashboard reads) every
   20 ms. The k-th report counts as visible at the first poll whose total is ≥ k, so
   freshness = that poll's time − the k-th commit time (the lag of the tally behind the
   submissions; polling adds up to 20 ms).
5. Wait for the queue to drain, check the tallies equal a recount, print p50/p95/p99/max
   and, with --write, put them in docs/benchmarks.md with the machine's description.
"""

import argparse
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
import uuid
from bisect import bisect_left
from pathlib import Path

from benchdocs import section_read, section_replace

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Aggregation freshness (issue 4)"
POLL_SECONDS = 0.02
sys.path.insert(0, str(ROOT))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=200, help="reports per second")
    parser.add_argument("--duration", type=int, default=30, help="seconds of submitting")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes/threads")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"])
    parser.add_argument("--prefetch", type=int, default=1, help="worker prefetch multiplier")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    return parser.parse_args()


def setup_django() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("set DATABASE_URL=postgres://… (the benchmark needs PostgreSQL)")
    if not os.environ.get("REDIS_URL"):
        sys.exit("set REDIS_URL=redis://… (the benchmark needs Redis and a worker)")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observer.settings")
    import django

    django.setup()


def election_create():
    """A Moscow-sized election: 12 okrugs × ~11 TIKs, 3,611 stations, 300 observers."""
    from reports.models import Election, Okrug, Station, Tik, Trust
    from reports.services.observers import observer_create

    election = Election.objects.create(name="Freshness bench", date="2013-09-08")
    okrugs = Okrug.objects.bulk_create(
        [Okrug(election=election, name=f"Округ {n}") for n in range(12)]
    )
    tiks = Tik.objects.bulk_create([Tik(okrug=okrugs[n % 12], name=f"ТИК {n}") for n in range(127)])
    stations = Station.objects.bulk_create(
        [
            Station(election=election, okrug=tiks[n % 127].okrug, tik=tiks[n % 127], number=n)
            for n in range(1, 3612)
        ]
    )
    trusts = [Trust.NEW, Trust.TRAINED, Trust.TRUSTED]
    observers = [
        observer_create(
            election=election,
            pseudonym=f"bench-{n}",
            legal_status="observer",
            trust=trusts[n % 3],
            stations=[stations[n * 12]],
        )
        for n in range(300)
    ]
    return election, stations, observers


def worker_start(database_name: str, args: argparse.Namespace) -> subprocess.Popen:
    from django.conf import settings

    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    env = dict(os.environ, DATABASE_URL=f"postgres://{auth}@{host}/{database_name}")
    (ROOT / "var").mkdir(exist_ok=True)
    log = (ROOT / "var" / "bench-freshness-worker.log").open("w")
    command = [
        sys.executable, "-m", "celery", "-A", "observer", "worker", "--beat",
        f"--schedule={ROOT / 'var' / 'bench-freshness-beat'}",
        f"--pool={args.pool}", f"--concurrency={args.concurrency}", "--loglevel=WARNING",
        f"--prefetch-multiplier={args.prefetch}",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    time.sleep(6)  # start-up: Django, the pool, the broker connection
    if process.poll() is not None:
        sys.exit(f"worker exited; see {log.name}")
    return process


def submitter(stations, observers, categories, rate: float, until: float, out: list) -> None:
    """Submit at `rate` per second until `until`; record each commit's monotonic time."""
    from django.db import connection

    from reports.services.submission import ReportInput, report_submit

    started = time.monotonic()
    sent = 0
    while (now := time.monotonic()) < until:
        due = started + sent / rate
        if due > now:
            time.sleep(due - now)
        observer = random.choice(observers) if random.random() < 0.7 else None
        station = random.choice(stations)
        data = ReportInput(uuid=uuid.uuid4(), station=station, category=random.choice(categories))
        report_submit(data=data, observer=observer, channel="web" if observer else "citizen")
        out.append(time.monotonic())
        sent += 1
    connection.close()


def poller(election_id: int, stop: threading.Event, out: list) -> None:
    from django.db import connection
    from django.db.models import Sum

    from reports.models import Tally

    rows = Tally.objects.filter(election_id=election_id, dimension=Tally.Dimension.ALL)
    while not stop.is_set():
        out.append((time.monotonic(), rows.aggregate(n=Sum("count"))["n"] or 0))
        time.sleep(POLL_SECONDS)
    connection.close()


def freshness(commits: list[float], samples: list[tuple[float, int]]) -> list[float]:
    """Per report, seconds from its commit until the tally's total first covered it."""
    times = [t for t, _ in samples]
    totals = [n for _, n in samples]
    lags = []
    for k, committed in enumerate(sorted(commits), start=1):
        index = bisect_left(totals, k)
        if index == len(totals):
            raise SystemExit(f"report {k} never reached the tally")
        lags.append(max(0.0, times[index] - committed))
    return lags


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return f"{os.cpu_count()} CPUs ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB RAM"


def run(args: argparse.Namespace) -> str:
    from django.db import connection

    from reports.domain.clustering import tallies_compute, tallies_read
    from reports.models import Category, Report

    election, stations, observers = election_create()
    load_before = os.getloadavg()[0]
    categories = list(Category.objects.filter(system_only=False))
    worker = worker_start(connection.settings_dict["NAME"], args)
    commits: list[float] = []
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    poll = threading.Thread(target=poller, args=(election.pk, stop, samples))
    poll.start()
    until = time.monotonic() + args.duration
    threads = [
        threading.Thread(
            target=submitter, args=(stations, observers, categories, args.rate / 2, until, commits)
        )
        for _ in range(2)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        drain_started = time.monotonic()
        while samples[-1][1] < len(commits) and time.monotonic() - drain_started < 120:
            time.sleep(0.1)
    finally:
        stop.set()
        poll.join()
        worker.terminate()
        worker.wait(timeout=30)
    lags = freshness(commits, samples)
    # The worker and its pool processes have been waited for: their CPU time is ours now.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = children.ru_utime + children.ru_stime
    exact = tallies_read(election_id=election.pk) == tallies_compute(election_id=election.pk)
    claim_lags = [
        (aggregated - received).total_seconds()
        for received, aggregated in Report.objects.values_list("received_at", "aggregated_at")
    ]
    achieved = len(commits) / args.duration
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0].split()[0]
    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout.split()[2:3]
    return "\n".join(
        [
            f"- {time.strftime('%Y-%m-%d')}: {machine()}; PostgreSQL {pg_version}, "
            f"Redis {''.join(redis_version).removeprefix('v=')}, Python "
            f"{platform.python_version()}; one worker, {args.pool} × {args.concurrency} "
            f"(prefetch {args.prefetch}), "
            "submitters, poller, PostgreSQL and Redis all on this machine; load average "
            f"{load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after.",
            f"  - asked {args.rate}/s for {args.duration} s; submitted {len(commits)} reports "
            f"({achieved:.0f}/s achieved)",
            f"  - commit → tally visible: p50 {statistics.median(lags):.2f} s, "
            f"p95 {percentile(lags, 0.95):.2f} s, p99 {percentile(lags, 0.99):.2f} s, "
            f"max {max(lags):.2f} s",
            f"  - receipt → claimed by a worker: p50 {statistics.median(claim_lags):.2f} s, "
            f"p95 {percentile(claim_lags, 0.95):.2f} s",
            f"  - worker CPU: {worker_cpu:.1f} s in all, "
            f"{1000 * worker_cpu / len(commits):.1f} ms per report",
            f"  - tallies equal a recount after the run: {'yes' if exact else 'NO'}",
            f"  - target p95 ≤ 2 s: {'met' if percentile(lags, 0.95) <= 2 else 'NOT met'}",
        ]
    )


INTRO = (
    "Time from a report's commit to the election's total tally covering it, while reports "
    "arrive at a steady rate through `report_submit`, aggregated by a real Celery worker over "
    "Redis into PostgreSQL: `DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python "
    "bench/freshness.py --write` (method in the script's docstring)."
)


def write(text: str) -> None:
    """Put `text` as the first entry of our section, keeping the earlier entries below it."""
    earlier = (section_read(SECTION) or "").split(INTRO, 1)[-1].strip("\n")
    section_replace(SECTION, f"{INTRO}\n\n{text}\n" + (f"{earlier}\n" if earlier else ""))


def main() -> None:
    args = parse()
    setup_django()
    from django.db import connection

    from reports.models import Category  # noqa: F401 (models ready before the test db)

    database_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        text = run(args)
    finally:
        connection.creation.destroy_test_db(database_name, verbosity=0)
    print(text)
    if args.write:
        write(text)


if __name__ == "__main__":
    main()
