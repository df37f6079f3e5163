"""Incident reports beside the floor, loaded with wrk: a client that costs little CPU.

    .venv/bin/python bench/beside_floor.py                  # 3 rounds of 20 s each way
    .venv/bin/python bench/beside_floor.py --profile        # and a py-spy profile of the site
    .venv/bin/python bench/beside_floor.py --help

Runs as root, on the rehearsal's own services (bench/rehearsal/run.py: PostgreSQL cluster
`rehearsal` on port 5440, redis-server on 6395; the shared ones are never touched) with
the rehearsal's seeded world (a smaller one by default: 1,000 observers, 3,611 stations).
Starts the site and the floor (bench/floor_settings.py: one INSERT, no middleware) under
gunicorn with the same workers, a Celery worker at `nice -n 10` and beat, as the rehearsal.

`--clients` observers (1,000 by default, each at their own station) sign in with their
personal links; their send keys and cookies go to wrk (bench/wrk/report.lua), whose 32
connections take them in turn and post reports as the phone's script does, each with its
own UUID and description: to /report/send/ with the key (and the cookies, as the browser
sends them), and the same bodies to /floor/, which stores each at the floor election's
station of the same number. With only 32 observers, 32 stations would receive hundreds
of reports a second between them, each growing a few incidents without end (an incident
lasts while reports keep coming), which no election day looks like and which makes every
aggregation batch recount thousands of reports; `--clients 32` measures that case.
Rounds alternate floor, submission, floor, … (wrk -t2 -c32 by default); each starts once
the worker has aggregated every report of the rounds before. Each round records throughput,
p50/p90/p99, errors (wrk's socket errors and answers other than 2xx) and the CPU
milliseconds per request of each process: wrk, the site's or the floor's gunicorn, the
worker, PostgreSQL, Redis.

The verdict is the ratio of the medians (submission ÷ floor throughput) and the submission's
median p99, against the targets of issue 18 (≥ 0.85×, p99 ≤ 120 ms). With --profile, one
more submission round runs under py-spy (sampling every gunicorn worker of the site), which
writes var/beside_floor/profile.svg (a flame graph) and profile.txt (collapsed stacks); the
script prints the functions that held the most samples, by their own time and with callees,
and the share of each part of a request (REQUEST_PARTS).
Everything goes to var/beside_floor/results.json.
"""

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zoneinfo
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rehearsal.run import (  # noqa: E402 (the repository on the path first)
    BIN,
    Postgres,
    Processes,
    Redis,
    Stack,
    cpu_by_part,
    log,
    machine,
    site_env,
    world_prepare,
)

LUA = ROOT / "bench" / "wrk" / "report.lua"
CATEGORIES = ["V1", "V2", "V3", "V4", "V5", "V6", "H1", "H2", "H3", "R1", "R2", "R3", "R4", "X1"]
ZONE = zoneinfo.ZoneInfo("Europe/Moscow")  # the rehearsal election's zone
TARGET_RATIO, TARGET_P99_MS = 0.85, 120
DATABASE = "obs_beside_floor"


def sign_in(site: str, token: str) -> dict:
    """Open a personal link as a phone does; the form page carries the send key."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{site}/signin/{token}/", timeout=30) as response:
        page = response.read().decode()
    key = re.search(r'data-send-key="([^"]+)"', page)
    if key is None or not key.group(1):
        raise RuntimeError("the form page after sign-in carries no send key")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return {"key": key.group(1), "cookie": cookie}


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII is a valid Lua string


def senders_write(path: Path, site: str, observers: list[dict], clients: int) -> None:
    people = observers[:clients]
    with ThreadPoolExecutor(max_workers=4) as pool:
        signed = list(pool.map(lambda person: sign_in(site, person["token"]), people))
    senders = [
        {**keys, "station": str(person["number"])}
        for keys, person in zip(signed, people, strict=True)
    ]
    occurred = dt.datetime.now(ZONE).replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    lines = [
        "return {",
        f"  occurred_at = {lua_string(urllib.parse.quote(occurred.strftime('%Y-%m-%dT%H:%M')))},",
        "  categories = {" + ", ".join(lua_string(c) for c in CATEGORIES) + "},",
        "  senders = {",
    ]
    for sender in senders:
        fields = ", ".join(f"{name} = {lua_string(sender[name])}" for name in sender)
        lines.append(f"    {{{fields}}},")
    lines += ["  },", "}"]
    path.write_text("\n".join(lines) + "\n")


def wrk_round(
    *, mode: str, port: int, seconds: int, threads: int, connections: int, senders: Path
) -> dict:
    """One wrk run and the figures its script prints."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(LUA), f"http://127.0.0.1:{port}", "--", mode]
    process = subprocess.Popen(
        command, env=dict(os.environ, WRK_SENDERS=str(senders)), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output, _ = process.communicate()
    match = re.search(r"^WRK_RESULT (.*)$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    figures = json.loads(match.group(1))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["wrk_output"] = output
    return figures


def children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def reports_stored(postgres: Postgres) -> int:
    return int(postgres.psql("SELECT count(*) FROM reports_report", DATABASE))


def aggregation_caught_up(postgres: Postgres, timeout: float = 300) -> float:
    """Wait until the worker has aggregated every report; return how long that took. Each
    round starts with nothing pending, so no round pays for the one before it."""
    started = time.monotonic()
    query = "SELECT count(*) FROM reports_report WHERE aggregated_at IS NULL"
    while postgres.psql(query, DATABASE) != "0":
        if time.monotonic() - started > timeout:
            raise RuntimeError("the aggregation did not catch up")
        time.sleep(0.5)
    return time.monotonic() - started


def measured_round(stack: Stack, postgres: Postgres, label: str, **wrk_args) -> dict:
    """A wrk round with the CPU each part used per request, and how many reports it stored:
    every request carries a new UUID, so each answered one is a new row (a repeated UUID
    would be answered "duplicate" for less work and flatter the figure)."""
    caught_up = aggregation_caught_up(postgres)
    stored_before = reports_stored(postgres)
    before, wrk_before = cpu_by_part(stack, postgres), children_cpu()
    figures = wrk_round(**wrk_args)
    after, wrk_cpu = cpu_by_part(stack, postgres), children_cpu() - wrk_before
    figures["stored"] = reports_stored(postgres) - stored_before
    figures["aggregation_caught_up_before_s"] = round(caught_up, 1)
    requests = max(figures["requests"], 1)
    used = {part: after[part] - before[part] for part in after if part in before}
    used["wrk"] = wrk_cpu
    figures["cpu_ms_per_request"] = {
        part: round(seconds * 1000 / requests, 3) for part, seconds in used.items()
    }
    figures["label"] = label
    errors = sum(figures["errors"].values())
    log(
        f"{label:<10} {figures['rps']:7.1f} req/s  p50 {figures['p50_ms']:6.1f} ms  "
        f"p99 {figures['p99_ms']:6.1f} ms  errors {errors}  stored {figures['stored']}  "
        "CPU ms/request "
        + ", ".join(f"{k} {v:.2f}" for k, v in figures["cpu_ms_per_request"].items() if v > 0.01)
    )
    return figures


def site_workers(stack: Stack) -> list[int]:
    master = stack.procs.children["site"].pid
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            found.append(int(stat.parent.name))
    return found


def profile_round(
    stack: Stack, out: Path, seconds: int, wrk_args: dict, *, gil: bool = False,
    part: str = "site",
) -> dict:  # fmt: skip
    """A submission round under py-spy, sampling the site's gunicorn master and workers
    (without pausing them) while they run Python; collapsed stacks to profile.txt and, in a
    second round, a flame graph to profile.svg."""
    master = stack.procs.children[part].pid
    py_spy = shutil.which("py-spy", path=str(BIN)) or "py-spy"
    figures = {}
    for fmt, name in (("raw", "profile.txt"), ("flamegraph", "profile.svg")):
        spy = subprocess.Popen(
            [py_spy, "record", "--pid", str(master), "--subprocesses", "--rate", "200",
             "--duration", str(seconds + 2), "--format", fmt, "--output", str(out / name),
             "--nonblocking", "--function", *(["--gil"] if gil else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        time.sleep(1)
        figures[fmt] = wrk_round(**wrk_args, seconds=seconds)
        spy.wait(timeout=120)
    return {"wrk": figures["raw"], "part": part, "top": profile_top(out / "profile.txt", part)}


# Parts of a request on the send endpoint, by the frames they run under (a stack counts
# for every part whose pattern it matches); the old code's parts stay for comparisons.
REQUEST_PARTS = {
    "Django's handler and middleware, view included": r"WSGIHandler\.__call__",
    "the view (report_send)": r"report_send \(",
    "validation: ReportForm": r"ReportForm\.__init__|BaseForm\.is_valid",
    "validation: report_input_direct": r"report_input_direct \(",
    "the send key's signature": r"send_key_session_id|send_key_read",
    "finding the observer (send_key_sender)": r"send_key_sender",
    "the election's and stations' copies": r"sender_election|sender_station_id",
    "the health check": r"close_if_health_check_failed",
    "report_submit (the row, the INSERT)": r"report_submit \(",
    "the aggregation kick": r"enqueue_aggregation",
    "the JSON answer": r"submission_done",
}


def profile_top(path: Path, part: str, count: int = 25) -> dict:
    """From collapsed stacks ("frame;frame;… samples"): the frames with the most samples by
    their own time and with what they call, and (for the site) the parts of a request, as
    shares of all samples of request threads."""
    own, total, parts = Counter(), Counter(), Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        n = int(number)
        stack = stack.replace(f"{ROOT}/", "")
        frames = [re.sub(r" \(/.*?/site-packages/", " (", f) for f in stack.split(";")]
        if part == "site" and not any("handle_request" in frame for frame in frames):
            continue  # the master and idle workers waiting for a connection
        samples += n
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
        for name, pattern in REQUEST_PARTS.items():
            if part == "site" and re.search(pattern, stack):
                parts[name] += n
    share = lambda counter: [  # noqa: E731
        (frame, round(100 * n / max(samples, 1), 1)) for frame, n in counter.most_common(count)
    ]
    return {
        "samples": samples,
        "own": share(own),
        "total": share(total),
        "parts": [
            (name, round(100 * parts[name] / max(samples, 1), 1))
            for name in REQUEST_PARTS
            if name in parts
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--clients", type=int, default=1000,
        help="observers signed in; wrk's requests take them in turn (see the docstring)",
    )  # fmt: skip
    parser.add_argument("--observers", type=int, default=1000)
    parser.add_argument("--stations", type=int, default=3611)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="and a py-spy profile")
    parser.add_argument("--profile-only", action="store_true", help="only the profile")
    parser.add_argument(
        "--profile-part", choices=["site", "worker"], default="site",
        help="the processes py-spy samples: the site's gunicorn or the Celery worker",
    )  # fmt: skip
    parser.add_argument(
        "--profile-gil", action="store_true",
        help="profile only samples holding the GIL (Python running, not waiting)",
    )  # fmt: skip
    parser.add_argument("--pg-port", type=int, default=5440)
    parser.add_argument("--redis-port", type=int, default=6395)
    parser.add_argument("--site-port", type=int, default=8611)
    parser.add_argument("--floor-port", type=int, default=8612)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "beside_floor")
    args = parser.parse_args()

    out = args.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    procs = Processes(out)
    postgres = Postgres(args.pg_port)
    redis = Redis(args.redis_port, procs)
    env = site_env(
        database_url=f"postgres://postgres@127.0.0.1:{args.pg_port}/{DATABASE}",
        redis_url=f"redis://127.0.0.1:{args.redis_port}/0",
        out=out,
    )
    result: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "machine": machine()}
    stack = None
    try:
        postgres.ensure()
        redis.start()
        world_prepare(postgres, DATABASE, env, out, args.observers, args.stations)
        stack = Stack(procs, env, args.site_port, args.floor_port, args.gunicorn_workers)
        stack.start()
        site = f"http://127.0.0.1:{args.site_port}"
        observers = json.loads((out / "world.json").read_text())["observers"]
        senders = out / "senders.lua"
        senders_write(senders, site, observers, args.clients)
        common = {
            "threads": args.threads, "connections": args.connections, "senders": senders,
        }  # fmt: skip
        result["rounds"] = []
        if not args.profile_only:
            for number in range(1, args.rounds + 1):
                for label, mode, port in (
                    ("floor", "floor", args.floor_port),
                    ("submission", "send", args.site_port),
                ):
                    figures = measured_round(
                        stack, postgres, label, mode=mode, port=port, seconds=args.seconds,
                        **common,
                    )  # fmt: skip
                    figures["round"] = number
                    result["rounds"].append(figures)
            result["verdict"] = verdict(result["rounds"])
        if args.profile or args.profile_only:
            log("profiling a submission round with py-spy")
            result["profile"] = profile_round(
                stack,
                out,
                args.seconds,
                {"mode": "send", "port": args.site_port, **common},
                gil=args.profile_gil, part=args.profile_part,
            )  # fmt: skip
    finally:
        result["load_average_at_end"] = os.getloadavg()
        procs.stop_all()
    (out / "results.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print()
    for line in summary_lines(result):
        print(line)


def verdict(rounds: list[dict]) -> dict:
    by = {label: [r for r in rounds if r["label"] == label] for label in ("floor", "submission")}
    floor = statistics.median(r["rps"] for r in by["floor"])
    send = statistics.median(r["rps"] for r in by["submission"])
    p99 = statistics.median(r["p99_ms"] for r in by["submission"])
    errors = sum(sum(r["errors"].values()) for r in rounds)
    return {
        "floor_rps_median": round(floor, 1),
        "submission_rps_median": round(send, 1),
        "ratio": round(send / max(floor, 0.001), 3),
        "submission_p99_median_ms": p99,
        "errors": errors,
        "ratio_met": send / max(floor, 0.001) >= TARGET_RATIO,
        "p99_met": p99 <= TARGET_P99_MS,
    }


def summary_lines(result: dict) -> list[str]:
    lines = [f"machine: {result['machine']}"]
    if result.get("rounds"):
        lines.append(
            "| round | endpoint | req/s | p50 | p99 | errors | stored | CPU ms per request |"
        )
        lines.append("|---|---|---:|---:|---:|---:|---:|---|")
        for row in result["rounds"]:
            cpu = " · ".join(
                f"{part} {ms:.2f}" for part, ms in row["cpu_ms_per_request"].items() if ms > 0.01
            )
            lines.append(
                f"| {row['round']} | {row['label']} | {row['rps']:.0f} | {row['p50_ms']:.0f} ms "
                f"| {row['p99_ms']:.0f} ms | {sum(row['errors'].values())} | {row['stored']} "
                f"| {cpu} |"
            )
        v = result["verdict"]
        lines.append(
            f"ratio of medians {v['ratio']:.2f} (target ≥ {TARGET_RATIO}: "
            f"{'met' if v['ratio_met'] else 'MISSED'}); submission p99 median "
            f"{v['submission_p99_median_ms']:.0f} ms (target ≤ {TARGET_P99_MS} ms: "
            f"{'met' if v['p99_met'] else 'MISSED'}); errors {v['errors']}"
        )
    if "profile" in result:
        top = result["profile"]["top"]
        part = result["profile"]["part"]
        lines.append(f"py-spy: {top['samples']} samples of the {part}")
        lines.append("own time:")
        lines += [f"  {share:5.1f} %  {frame}" for frame, share in top["own"]]
        lines.append("with callees:")
        lines += [f"  {share:5.1f} %  {frame}" for frame, share in top["total"]]
        if top["parts"]:
            lines.append("parts of a request:")
            lines += [f"  {share:5.1f} %  {name}" for name, share in top["parts"]]
    lines.append(f"load average at the end: {result['load_average_at_end']}")
    return lines


if __name__ == "__main__":
    main()
