"""Time the coverage worker and the coordinators' page on a Moscow-sized election day.

Usage: .venv/bin/python bench/coverage_sweep.py [--runs 10] [--rebuild] [--write]

Works in its own PostgreSQL database, `obs_bench_coverage` on 127.0.0.1 (or the URL in
BENCH_DATABASE_URL), created on first use and kept for later runs. The election day is the
moderation benchmark's (bench/moderation_pages.py: 3,611 stations, 10,000 observers,
1,000,000 reports), plus one assignment per observer over 90 % of the stations (70 %
checked in, 20 % planned, 5 % left, 5 % removed), the turnout counts of 85 % of the
observers checked in at each checkpoint and 2,500 protocol copies. Times are in-process:
`coverage_refresh` as the worker runs it at 12:45 of election day, and the coordinators'
JSON through Django's test client as a signed-in coordinator.
With --write, puts the results in the "Coverage" section of docs/benchmarks.md.
"""

import argparse
import datetime as dt
import os
import statistics
import time

import moderation_pages as day
from benchdb import database_create, django_start
from benchdocs import section_replace

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/obs_bench_coverage"
SILENCE_RULES = ["not_checked_in", "station_silent", "checkpoint_missed", "observer_removed"]

GENERATE = [
    """WITH o AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS idx FROM reports_observer
                 WHERE election_id = %(election)s),
            st AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS idx FROM reports_station
                   WHERE election_id = %(election)s)
       INSERT INTO reports_assignment (observer_id, station_id, status, checked_in_at)
       SELECT o.id, st.id,
              CASE WHEN o.idx %% 20 < 14 THEN 'arrived' WHEN o.idx %% 20 < 18 THEN 'planned'
                   WHEN o.idx %% 20 = 18 THEN 'left' ELSE 'removed' END,
              CASE WHEN o.idx %% 20 < 14 OR o.idx %% 20 = 18
                   THEN %(opening)s::timestamptz - (o.idx %% 60) * interval '1 minute' END
       FROM o JOIN st ON st.idx = o.idx %% 3250""",
    """INSERT INTO reports_turnoutcount (uuid, election_id, station_id, observer_id, checkpoint,
           own_tally, announced, channel, received_at, content_hash)
       SELECT gen_random_uuid(), %(election)s, a.station_id, a.observer_id, c.code, 100, 100,
              'web', %(day)s::timestamptz + (c.code::int * 60 + a.id %% 20) * interval '1 minute',
              md5(a.id::text || c.code)
       FROM reports_assignment a
       JOIN reports_observer o ON o.id = a.observer_id AND o.election_id = %(election)s
       CROSS JOIN (VALUES ('10'), ('12'), ('15'), ('18')) c(code)
       WHERE a.status = 'arrived' AND (a.id + c.code::int) %% 20 < 17""",
    """INSERT INTO reports_protocolcopy (uuid, election_id, station_id, observer_id, channel,
           lines, control_failures, soft_warnings, photo_sha256, photo_path,
           photo_content_type, received_at, content_hash)
       SELECT gen_random_uuid(), %(election)s, s.id, NULL, 'web', '{}', '[]', '[]', '', '', '',
              %(day)s::timestamptz + interval '23 hours', md5(s.id::text)
       FROM reports_station s WHERE s.election_id = %(election)s ORDER BY s.id LIMIT 2500""",
]


def coverage_generate(election) -> None:
    from django.db import connection, transaction

    params = {
        "election": election.pk,
        "day": election.local_datetime(dt.time(0, 0)).isoformat(),
        "opening": election.polls_open_at().isoformat(),
    }
    for statement in GENERATE:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
            print(f"  {cursor.rowcount:>9} rows: {' '.join(statement.split())[:60]}…")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def timed(action, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(runs: int) -> list[tuple[str, list[float]]]:
    from django.test import Client

    from reports.domain.coverage_rules import Timeline, silence_drafts, stations_compute
    from reports.models import Alert, CoverageRules, CoverageTally, Election, StationCoverage
    from reports.services.coverage import coverage_refresh

    election = Election.objects.get(name=day.ELECTION)
    now = election.local_datetime(dt.time(12, 45))
    StationCoverage.objects.filter(election=election).delete()
    CoverageTally.objects.filter(election=election).delete()
    Alert.objects.filter(election=election, rule__in=SILENCE_RULES).delete()
    rules, _ = CoverageRules.objects.update_or_create(
        election=election, defaults={"alerts_enabled": False}
    )
    sweep = lambda: coverage_refresh(election=election, now=now)  # noqa: E731
    first = timed(sweep, 1)
    again = timed(sweep, runs)
    station = StationCoverage.objects.filter(election=election).order_by("number").first()
    one = timed(
        lambda: coverage_refresh(election=election, now=now, station_ids=[station.pk]), runs
    )
    timeline = Timeline.of(election, rules)
    rows = stations_compute(election=election, timeline=timeline, now=now)
    drafts = timed(
        lambda: silence_drafts(election=election, rows=rows, timeline=timeline, now=now), runs
    )
    due = len(silence_drafts(election=election, rows=rows, timeline=timeline, now=now))
    CoverageRules.objects.filter(pk=rules.pk).update(alerts_enabled=True)
    raising = timed(sweep, 1)
    raised = Alert.objects.filter(election=election, rule__in=SILENCE_RULES).count()
    client = Client()
    client.force_login(coordinator_user())
    url = f"/coverage/data.json?election={election.pk}"
    assert client.get(url).status_code == 200
    page = timed(lambda: client.get(url), runs)
    okrug = election.okrugs.order_by("pk").first()
    one_okrug = timed(lambda: client.get(f"{url}&okrug={okrug.pk}"), runs)
    return [
        ("first sweep of 3,611 stations (stores every row and tally)", first),
        ("sweep again, nothing changed", again),
        ("one station after a check-in (its row, TIK, okrug and total)", one),
        (f"silence rules over every station ({due:,} alerts due, synthetic data)", drafts),
        (f"sweep raising the first {raised:,} of them (the limit per run)", raising),
        ("coordinators' figures, whole city (JSON)", page),
        ("coordinators' figures, one okrug (JSON)", one_okrug),
    ]


def coordinator_user():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from reports.services.roles import role_groups_ensure

    role_groups_ensure()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-coordinator", defaults={"is_staff": True}
    )
    user.groups.add(Group.objects.get(name="coordinator"))
    return user


def report(results: list[tuple[str, list[float]]], runs: int) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {day.machine()}; load average "
        f"{os.getloadavg()[0]:.1f} (the machine is shared); milliseconds, "
        f"{runs} runs each (the first sweep and the raising sweep once):",
        "",
        "| what | median | max |",
        "|---|---:|---:|",
    ]
    for name, times in results:
        lines.append(f"| {name} | {statistics.median(times):.0f} | {max(times):.0f} |")
    return "\n".join(lines)


INTRO = """\
`.venv/bin/python bench/coverage_sweep.py --write` (the first run generates the data in the
database `obs_bench_coverage`, a few minutes). The election day of the moderation benchmark
(3,611 stations, 10,000 observers, 1,000,000 reports) with one assignment per observer,
turnout counts and 2,500 protocol copies, at 12:45 of election day. The worker's sweep
(`coverage_refresh` of every station; beat runs it every COVERAGE_SWEEP_SECONDS = 60 s) reads
the reports with two GROUP BY scans; a check-in refreshes only its station. Alerts are timed
apart: the synthetic reports put every category at the same rate, so about 40,000 R1
reports make a flood no real day has, and a run raises at most COVERAGE_ALERTS_PER_RUN = 500
(through the aggregation's `alert_raise`, about 20 ms each with its deliveries), earliest
first. The coordinators' page reads only the stored rows and tallies."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true", help="drop and regenerate the data")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    options = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DATABASE_URL)
    os.environ["LOG_LEVEL"] = "WARNING"  # one line per alert raised otherwise
    database_create(url, fresh=options.rebuild)
    django_start(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from reports.models import Assignment, Election

    if not day.data_ready():
        print("generating the election day…")
        day.data_generate()
    election = Election.objects.get(name=day.ELECTION)
    if not Assignment.objects.filter(station__election=election).exists():
        print("generating assignments, turnout counts and protocol copies…")
        coverage_generate(election)
    text = report(measure(options.runs), options.runs)
    print(text)
    if options.write:
        section_replace("## Coverage (issue 9)", f"{INTRO}\n\n{text}")


if __name__ == "__main__":
    main()
