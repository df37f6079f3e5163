"""Time the moderation panel's pages with 1,000,000 reports over 3,611 stations.

Usage: .venv/bin/python bench/moderation_pages.py [--runs 20] [--rebuild] [--write]

Works in its own PostgreSQL database, `obs_bench_moderation` on 127.0.0.1 (or the URL in
BENCH_DATABASE_URL), created and migrated on first use and kept for later runs (--rebuild
starts over). The data is generated in SQL (`INSERT … SELECT generate_series`): 12 okrugs,
127 TIKs, 3,611 stations, 10,000 observers, 250,000 incidents of four reports each
(60 % new, 25 % verified, 10 % rejected, 5 % escalated; 200 held by a claim), 1,000,000
reports, their tallies (as the aggregation job computes them, plus okrug × category) and
300 alerts. Each page is requested in-process through Django's test client as a signed-in
moderator, so the time is the server's: middleware, queries, templates; no network.
With --write, puts the results in the "Moderation panel" section of docs/benchmarks.md.
"""

import argparse
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from benchdb import database_create, django_start
from benchdocs import section_replace

SECTION = "## Moderation panel (issue 5)"
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/obs_bench_moderation"
ELECTION = "Бенчмарк модерации"
REPORTS = 1_000_000
INCIDENTS = REPORTS // 4
OBSERVERS = 10_000
TARGET_MS = 200


def places_create(election) -> None:
    from reports.models import Okrug, Station, Tik

    okrugs = Okrug.objects.bulk_create(
        Okrug(election=election, name=f"Округ {n}") for n in range(1, 13)
    )
    tiks = Tik.objects.bulk_create(
        Tik(okrug=okrugs[n % 12], name=f"ТИК {n}") for n in range(1, 128)
    )
    numbers = [*range(1, 3412), *range(3601, 3801)]
    Station.objects.bulk_create(
        Station(
            election=election,
            okrug_id=tiks[index % 127].okrug_id,
            tik=tiks[index % 127],
            number=number,
            is_temporary=number > 3411,
            has_scanner=number % 10 < 3,
            address=f"Москва, ул. Избирательная, {number}",
        )
        for index, number in enumerate(numbers)
    )


GENERATE = [
    # Observers: a user account and an observer row each.
    """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                              is_staff, is_active, date_joined)
       SELECT '!', false, 'bench-observer-' || g, '', '', '', false, true, now()
       FROM generate_series(1, %(observers)s) g""",
    """INSERT INTO reports_observer (user_id, election_id, pseudonym, legal_status, trust,
                                     created_at)
       SELECT u.id, %(election)s, 'Наблюдатель ' || u.id, 'observer', 1 + u.id %% 3, now()
       FROM auth_user u WHERE u.username LIKE 'bench-observer-%%'""",
    # Incidents spread over stations, categories and the day from 07:00.
    """WITH cat AS (SELECT code, severity, row_number() OVER (ORDER BY position) - 1 AS idx
                   FROM reports_category),
            st AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS idx
                   FROM reports_station WHERE election_id = %(election)s)
       INSERT INTO reports_incident (election_id, station_id, category_id, status, severity,
           confidence, report_count, reporter_count, first_at, last_at, needs_mobile_group,
           needs_lawyer, pinned_by_moderator, created_at, updated_at)
       SELECT %(election)s, st.id, cat.code,
              CASE WHEN g %% 20 < 12 THEN 'new' WHEN g %% 20 < 17 THEN 'verified'
                   WHEN g %% 20 < 19 THEN 'rejected' ELSE 'escalated' END,
              cat.severity, 0.6, 4, 3,
              %(day_start)s::timestamptz + ((g * 37) %% 900) * interval '1 minute',
              %(day_start)s::timestamptz + ((g * 37) %% 900 + g %% 30) * interval '1 minute',
              g %% 50 = 0, g %% 70 = 0, false, now(), now()
       FROM generate_series(0, %(incidents)s - 1) g
       JOIN st ON st.idx = (g * 7919) %% 3611
       JOIN cat ON cat.idx = (g * 31) %% 24""",
    # Four reports per incident; one in five incidents has a citizen's report among them.
    """WITH first_observer AS (SELECT min(id) AS id FROM reports_observer
                              WHERE election_id = %(election)s)
       INSERT INTO reports_report (uuid, election_id, station_id, category_id, observer_id,
           reporter_role, trust, channel, occurred_at, received_at, description, count,
           complaint_filed, police_called, violation_stopped, needs_mobile_group,
           needs_lawyer, status, incident_id, content_hash, aggregated_at, updated_at)
       SELECT gen_random_uuid(), i.election_id, i.station_id, i.category_id,
              CASE WHEN k = 3 AND i.id %% 5 = 0 THEN NULL
                   ELSE first_observer.id + (i.id * 4 + k) %% %(observers)s END,
              CASE WHEN k = 3 AND i.id %% 5 = 0 THEN 'citizen' ELSE 'observer' END,
              CASE WHEN k = 3 AND i.id %% 5 = 0 THEN 0 ELSE 1 + (i.id + k) %% 3 END,
              (ARRAY['web', 'web', 'phone', 'api'])[1 + (i.id + k) %% 4],
              NULL, i.first_at + k * (i.last_at - i.first_at) / 3,
              'Описание нарушения ' || i.id || '/' || k, NULL, false, false, false,
              i.needs_mobile_group, i.needs_lawyer, i.status, i.id,
              md5(i.id::text || k) || md5(k || i.id::text), now(), now()
       FROM reports_incident i CROSS JOIN generate_series(0, 3) k CROSS JOIN first_observer
       WHERE i.election_id = %(election)s""",
    """INSERT INTO reports_alert (election_id, rule, key, okrug_id, tik_id, station_id,
                                  incident_id, count, at, raised_at)
       SELECT i.election_id, 'critical_burst', 'bench:' || i.id, s.okrug_id, s.tik_id,
              s.id, i.id, 3, i.last_at, i.last_at
       FROM reports_incident i JOIN reports_station s ON s.id = i.station_id
       WHERE i.election_id = %(election)s AND i.severity = 'C' ORDER BY i.id LIMIT 300""",
    # The audit log of such a day: 500,000 decisions and notes, and 20 role changes among
    # them (a rare action, the slowest one to filter for without an index).
    """INSERT INTO reports_auditentry (actor_id, action, object_type, object_id, before, after,
                                       note, at)
       SELECT NULL, CASE WHEN n %% 25000 = 0 THEN 'user_roles_change'
                         ELSE (ARRAY['incident_claim', 'incident_verify', 'incident_note',
                                     'incident_reject', 'incident_escalate'])[1 + n %% 5] END,
              'incident', (n %% %(incidents)s)::text, NULL, NULL, '',
              now() - n * interval '100 milliseconds'
       FROM generate_series(1, 500000) n""",
    # Moderators are at work: 200 incidents are held.
    """UPDATE reports_incident SET claimed_by_id = (SELECT id FROM auth_user
                                                     WHERE username = 'bench-holder'),
                                   claimed_until = now() + interval '1 day'
       WHERE id IN (SELECT id FROM reports_incident WHERE status = 'new'
                    AND election_id = %(election)s ORDER BY id LIMIT 200)""",
]


def data_generate() -> None:
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from reports.domain.clustering import tallies_compute
    from reports.models import Election, Tally

    get_user_model().objects.create_user(username="bench-holder", is_staff=True)
    election = Election.objects.create(name=ELECTION, date=dt.date(2013, 9, 8))
    places_create(election)
    params = {
        "election": election.pk,
        "observers": OBSERVERS,
        "incidents": INCIDENTS,
        "day_start": election.local_datetime(dt.time(7, 0)).isoformat(),
    }
    for statement in GENERATE:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
            print(f"  {cursor.rowcount:>9} rows in {time.perf_counter() - started:5.1f} s: "
                  f"{' '.join(statement.split())[:60]}…")  # fmt: skip
    counts = tallies_compute(election_id=election.pk)
    Tally.objects.bulk_create(
        [
            Tally(election_id=election.pk, dimension=dimension, key=key, hour=hour, count=n)
            for (_election, dimension, key, hour), n in counts.items()
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def data_ready() -> bool:
    from reports.models import Election, Report

    election = Election.objects.filter(name=ELECTION).first()
    return election is not None and Report.objects.filter(election=election).count() == REPORTS


def pages() -> dict[str, str]:
    from django.urls import reverse

    from reports.models import Incident, Okrug

    incidents = reverse("admin:reports_incident_changelist")
    reports = reverse("admin:reports_report_changelist")
    audit = reverse("admin:reports_auditentry_changelist")
    okrug = Okrug.objects.order_by("pk").first().pk
    incident = Incident.objects.filter(status="new").order_by("-pk").first().pk
    return {
        "default queue (new, critical first, unclaimed)": incidents,
        "default queue, moderator limited to one okrug": incidents,
        "all incidents, page 3": incidents + "?queue=all&p=3",
        "incidents of one okrug, critical": f"{incidents}?queue=all&okrug={okrug}"
        "&severity__exact=C",
        "incidents at station 101": incidents + "?queue=all&q=101",
        "an incident's page": reverse("admin:reports_incident_change", args=[incident]),
        "report list": reports,
        "reports of one okrug in the last 24 h": f"{reports}?okrug={okrug}&within=24h",
        "reports rejected (a filter)": reports + "?status__exact=rejected",
        "reports by phone (a filter)": reports + "?channel__exact=phone",
        "citizens' reports (a filter)": reports + "?trust__exact=0",
        "audit log": audit,
        "audit log: role changes (a rare action)": audit + "?action=user_roles_change",
        "dashboard page": reverse("admin:reports_dashboard"),
        "dashboard figures (JSON)": reverse("admin:reports_dashboard_data"),
    }


def moderators():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from reports.models import Okrug, StaffScope
    from reports.services.roles import role_groups_ensure

    role_groups_ensure()
    users = get_user_model().objects
    everywhere, _ = users.get_or_create(username="bench-moderator", defaults={"is_staff": True})
    limited, _ = users.get_or_create(username="bench-limited", defaults={"is_staff": True})
    for user in (everywhere, limited):
        user.groups.add(Group.objects.get(name="moderator"))
    StaffScope.objects.get_or_create(user=limited, okrug=Okrug.objects.order_by("pk").first())
    return everywhere, limited


@dataclass(frozen=True)
class Result:
    name: str
    times: list[float]
    cpu: list[float]
    database: list[float]
    queries: int


class QueryCounter:
    """A database execute wrapper that counts the queries run through it and their time."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def measure(runs: int) -> list["Result"]:
    from django.db import connection
    from django.test import Client

    everywhere, limited = moderators()
    results = []
    for name, url in pages().items():
        client = Client()
        client.force_login(limited if "limited" in name else everywhere)
        for _ in range(3):
            assert client.get(url).status_code == 200, url
        times, cpu, database = [], [], []
        for _ in range(runs):
            queries = QueryCounter()
            started, started_cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(queries):
                response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            database.append(queries.seconds * 1000)
            assert response.status_code == 200
        results.append(Result(name, times, cpu, database, queries.count))
    return results


def machine() -> str:
    from django.db import connection

    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kilobytes = int(meminfo.read_text().split()[1])
        memory = f", {kilobytes / 1024 / 1024:.0f} GB RAM"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0].split()[0]
    return (
        f"{cpu}, {os.cpu_count()} CPUs{memory}; PostgreSQL {postgres} on the same machine; "
        f"Python {platform.python_version()}"
    )


def report(results: list["Result"], runs: int) -> str:
    load = os.getloadavg()[0]
    shared = " (other work shared the CPUs)" if load >= (os.cpu_count() or 1) else ""
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; load average {load:.1f} while "
        f"measuring{shared}; {runs} requests per page after 3 warm-up "
        "requests; milliseconds of server time (wall clock), then the medians of the "
        "Django process's own CPU time and of the time spent waiting for the database:",
        "",
        "| page | median | 95th percentile | max | Django's CPU | database | queries |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        times = result.times
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        lines.append(
            f"| {result.name} | {statistics.median(times):.0f} | {p95:.0f} | {max(times):.0f} "
            f"| {statistics.median(result.cpu):.0f} | {statistics.median(result.database):.0f} "
            f"| {result.queries} |"
        )
    return "\n".join(lines)


INTRO = f"""\
`.venv/bin/python bench/moderation_pages.py --write` (first run generates the data, a few
minutes; later runs reuse it). The data: {REPORTS:,} reports over 3,611 stations, 250,000
incidents, 10,000 observers, tallies, 300 alerts and 500,000 audit entries, generated in SQL
in the database `obs_bench_moderation`. The target is ≤ {TARGET_MS} ms of server time for the
default queue and the dashboard. Lists never run a full COUNT (they count at most 2,000 rows,
40 pages), load related rows by joins, and filter incidents by their reports with EXISTS; the
queues read incidents in the order of an expression index; the dashboard reads only tallies,
alerts and the ten oldest open incidents (a partial index).

Read the wall-clock figures with the load average beside them: on a shared 2-CPU machine
other work keeps the CPUs busy, and a page then waits its turn for most of its wall time. The
Django CPU and database columns are what a page costs; on an idle machine its wall time is
about their sum."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true", help="drop and regenerate the data")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    options = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DATABASE_URL)
    database_create(url, fresh=options.rebuild)
    django_start(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not data_ready():
        print("generating the data…")
        data_generate()
    text = report(measure(options.runs), options.runs)
    print(text)
    if options.write:
        section_replace(SECTION, f"{INTRO}\n\n{text}")


if __name__ == "__main__":
    main()
