"""Election-night link traffic on the public city page, measured with wrk at 64 connections.

Usage: .venv/bin/python bench/public_spike.py [--seconds 10] [--write]

Works in its own PostgreSQL database, `obs_bench_public` on 127.0.0.1 (created, migrated and
filled once: 3,611 stations, 20,000 verified incidents with one report each), and Redis db 8
(REDIS_URL to change it) for the cache. Starts gunicorn with two sync workers (this machine's
two cores), then:

1. wrk -c64 on /healthz (one database query and a Redis ping per request): the floor;
2. wrk -c64 on /public/ (the city page, served whole from the cache): target ≥ 0.8× the floor;
3. while wrk hammers /public/ again, a signed-in moderator opens the incident queue and a
   partner submits reports through the API, one after another; their p95 against their own
   targets (moderation pages ≤ 200 ms, report submission ≤ 2 s).

wrk is the Debian package (apt-get install -y wrk); without it the benchmark says so and stops.
With --write, puts the results in the "Public pages under a spike" section of docs/benchmarks.md.
"""

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from benchdb import database_create, django_start
from benchdocs import section_replace

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Public pages under a spike (issue 20)"
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/obs_bench_public"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8")
ELECTION = "Бенчмарк публичных страниц"
INCIDENTS = 20_000
PASSWORD = "bench-only-password"
TARGET_RATIO, MODERATION_MS, SUBMISSION_MS = 0.8, 200, 2000

INSERT_INCIDENTS = """
WITH cat AS (SELECT code, severity, row_number() OVER (ORDER BY position) - 1 AS idx
             FROM reports_category WHERE NOT system_only),
     st AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS idx
            FROM reports_station WHERE election_id = %(election)s)
INSERT INTO reports_incident (election_id, station_id, category_id, status, severity,
    confidence, report_count, reporter_count, first_at, last_at, needs_mobile_group,
    needs_lawyer, pinned_by_moderator, created_at, updated_at)
SELECT %(election)s, st.id, cat.code, CASE WHEN g %% 3 = 0 THEN 'new' ELSE 'verified' END,
       cat.severity, 0.6, 1, 1,
       %(day_start)s::timestamptz + ((g * 37) %% 600) * interval '1 minute',
       %(day_start)s::timestamptz + ((g * 37) %% 600) * interval '1 minute',
       false, false, false, now(), now()
FROM generate_series(0, %(incidents)s - 1) g
JOIN st ON st.idx = (g * 7919) %% 3611
JOIN cat ON cat.idx = (g * 31) %% (SELECT count(*) FROM cat)"""

INSERT_REPORTS = """
INSERT INTO reports_report (uuid, election_id, station_id, category_id, observer_id,
    reporter_role, trust, channel, occurred_at, received_at, description, count,
    complaint_filed, police_called, violation_stopped, needs_mobile_group, needs_lawyer,
    status, incident_id, content_hash, aggregated_at, updated_at)
SELECT gen_random_uuid(), i.election_id, i.station_id, i.category_id, NULL, 'citizen', 0,
       'web', NULL, i.first_at, 'Описание нарушения ' || i.id, NULL, false, false, false,
       false, false, i.status, i.id, md5(i.id::text) || md5(i.id::text || 'x'), now(), now()
FROM reports_incident i WHERE i.election_id = %(election)s"""


def data_prepare() -> str:
    """Fill the database once; return a partner token allowed to submit reports."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from moderation_pages import places_create

    from reports.models import Election, TokenScope
    from reports.services.partners import partner_token_create

    call_command("migrate", verbosity=0)
    election = Election.objects.filter(name=ELECTION).first()
    if election is None:
        election = Election.objects.create(name=ELECTION, date=timezone.localdate())
        places_create(election)
        params = {
            "election": election.pk,
            "incidents": INCIDENTS,
            "day_start": election.local_datetime(dt.time(8, 0)).isoformat(),
        }
        with connection.cursor() as cursor:
            cursor.execute(INSERT_INCIDENTS, params)
            cursor.execute(INSERT_REPORTS, params)
            cursor.execute("VACUUM ANALYZE")
    # Today's election, polls still open or not: the page shape is the same either way.
    Election.objects.filter(pk=election.pk).update(date=timezone.localdate())
    users = get_user_model()
    if not users.objects.filter(username="bench-moderator").exists():
        users.objects.create_superuser("bench-moderator", password=PASSWORD)
    return partner_token_create(name="bench", scope=TokenScope.SUBMIT)[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_start(port: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        SECRET_KEY="bench-only-key",
        ALLOWED_HOSTS="127.0.0.1",
        DEBUG="",
        TASKS_IN_PROCESS="",
        LOG_LEVEL="WARNING",
        SESSION_COOKIE_SECURE="0",  # plain http on 127.0.0.1
        CSRF_COOKIE_SECURE="0",
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "observer.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    for _attempt in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def wrk(url: str, seconds: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99[2]]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": rate,
        "p99_ms": float(p99[1]) * scale,
        "non_2xx": int(errors[1]) if errors else 0,
    }


def moderator_opener(base: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/admin/login/").read()
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    body = urllib.parse.urlencode(
        {"username": "bench-moderator", "password": PASSWORD, "csrfmiddlewaretoken": token,
         "next": "/admin/"}
    ).encode()  # fmt: skip
    request = urllib.request.Request(f"{base}/admin/login/", body, headers={"Referer": base})  # noqa: S310 (our server)
    opener.open(request).read()
    return opener


def timed(call, times: int) -> list[float]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def moderation_quiet(base: str) -> float:
    opener = moderator_opener(base)
    return p95(timed(lambda: opener.open(f"{base}/admin/reports/incident/").read(), 15))


def under_spike(base: str, token: str, seconds: int) -> dict:
    hammer = subprocess.Popen(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", f"{base}/public/"], stdout=subprocess.DEVNULL
    )
    time.sleep(1)
    opener = moderator_opener(base)
    queue = timed(lambda: opener.open(f"{base}/admin/reports/incident/").read(), 15)

    def submit():
        body = {
            "uuid": str(uuid.uuid4()), "station_number": 101, "category": "V2",
            "description": "Карусель", "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        }  # fmt: skip
        request = urllib.request.Request(  # noqa: S310 (our own server on 127.0.0.1)
            f"{base}/api/v1/reports/", json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        urllib.request.urlopen(request).read()  # noqa: S310 (our own server on 127.0.0.1)

    submission = timed(submit, 15)
    hammer.wait()
    return {"moderation_p95": p95(queue), "submission_p95": p95(submission)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk): no measurement made")
    database_create(DATABASE_URL)
    django_start(DATABASE_URL)
    token = data_prepare()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = server_start(port)
    try:
        urllib.request.urlopen(f"{base}/public/").read()  # noqa: S310 (our own server)
        quiet = moderation_quiet(base)
        floor = wrk(f"{base}/healthz", args.seconds)
        city = wrk(f"{base}/public/", args.seconds)
        spike = under_spike(base, token, args.seconds + 5)
    finally:
        server.terminate()
        server.wait()
    ratio = city["rate"] / floor["rate"]
    verdict = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    text = (
        f"- {dt.date.today()}, PostgreSQL + Redis, gunicorn 2 sync workers, "
        f"{platform.machine()} {os.cpu_count()} cores, {INCIDENTS:,} incidents, "
        f"wrk -t2 -c64 -d{args.seconds}s, load average {os.getloadavg()[0]:.1f} at the end\n"
        f"  - /healthz: {floor['rate']:.0f} req/s, p99 {floor['p99_ms']:.1f} ms\n"
        f"  - /public/ (city page): {city['rate']:.0f} req/s, p99 {city['p99_ms']:.1f} ms, "
        f"non-2xx {city['non_2xx']}; {ratio:.2f}× /healthz "
        f"(target ≥ {TARGET_RATIO}×: {verdict(ratio >= TARGET_RATIO)})\n"
        f"  - while /public/ is hammered: moderators' incident queue p95 "
        f"{spike['moderation_p95']:.0f} ms (target ≤ {MODERATION_MS} ms: "
        f"{verdict(spike['moderation_p95'] <= MODERATION_MS)}; {quiet:.0f} ms without the "
        f"spike); report submission (API) p95 "
        f"{spike['submission_p95']:.0f} ms (target ≤ {SUBMISSION_MS} ms: "
        f"{verdict(spike['submission_p95'] <= SUBMISSION_MS)})\n"
    )
    print(text)
    if args.write:
        intro = (
            "The city page under election-night link traffic: `.venv/bin/python "
            "bench/public_spike.py --write` (own database `obs_bench_public`, Redis db 8, "
            "gunicorn started by the benchmark; wrk from Debian). The page is served whole "
            "from the cache (30 s) with ETag and Last-Modified, so in steady state it costs "
            "one Redis read and no database query; /healthz costs a database query and a "
            "Redis ping, so it is the floor of what a worker can answer."
        )
        section_replace(SECTION, f"{intro}\n\n{text}")


if __name__ == "__main__":
    main()
