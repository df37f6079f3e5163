"""Election-day rehearsal: one command, on this machine, with faults, measured.

    .venv/bin/python bench/rehearsal/run.py            # the full day (about 25 minutes)
    .venv/bin/python bench/rehearsal/run.py --help     # smaller days, other ports

Runs as root (it creates and restarts its own PostgreSQL cluster). What it does:

1. Starts its own services, never the shared ones: a PostgreSQL cluster `rehearsal` on port
   5440 (created with pg_createcluster if missing, trust on loopback) and a redis-server on
   port 6395. The database obs_rehearsal is dropped and made anew, migrated, and seeded
   (bench/rehearsal/world.py: 12 okrugs, 127 TIKs, 3,611 stations, 10,000 observers each
   with a personal link).
2. Starts the site under gunicorn (DEBUG off), the bare insert endpoint under a second
   gunicorn with the same workers (bench/floor_settings.py), a Celery worker and beat.
3. Measures submission beside the floor: 32 Locust clients sending reports back to back to
   /report/, then 32 to the floor endpoint; throughput, p50, p99, errors of each.
4. Plays the day with Locust headless (bench/rehearsal/locustfile.py), 07:00–02:00 compressed
   into --day-seconds, with faults at set times of the simulated day: Redis stopped for 60 s
   just before the 12:00 checkpoint, the Celery worker killed with SIGKILL while a task runs
   after 15:00, PostgreSQL restarted during the 18:00 checkpoint.
5. Waits for the aggregation to catch up, then checks the clients' ledger against the
   database and the tallies against a recount, and prints: acknowledged, stored, lost,
   duplicated, tallies equal recount. Everything goes to var/rehearsal/results.json.
"""

import argparse
import csv
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
DAY_HOURS = 19


WORKER_NICE = 10


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not within {timeout:.0f} s")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return response.status < 500
    except OSError:
        return False


@dataclass
class Processes:
    """Children started here, each in its own process group; stopped by their ids."""

    out: Path
    children: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log_file = (self.out / f"{name}.log").open("a")
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.children[name] = process
        return process

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.children.pop(name)
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for name in list(self.children):
            process = self.children[name]
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            del self.children[name]


@dataclass
class Redis:
    port: int
    procs: Processes

    def start(self) -> None:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is taken; the rehearsal runs its own Redis")
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.procs.start("redis", command, dict(os.environ))
        wait_until(lambda: port_open(self.port), 10, "redis-server start")

    def stop(self) -> None:
        self.procs.kill("redis", signal.SIGTERM)


@dataclass
class Postgres:
    """The rehearsal's own cluster, so that restarting it touches nobody else."""

    port: int
    version: str = ""
    name: str = "rehearsal"

    def __post_init__(self) -> None:
        self.version = self.version or sorted(os.listdir("/etc/postgresql"), key=float)[-1]

    def ctl(self, action: str, *extra: str) -> None:
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action]
        subprocess.run([*command, *extra], check=True, capture_output=True)

    def ensure(self) -> None:
        listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
        if not any(line.split()[:2] == [self.version, self.name] for line in listing.splitlines()):
            log(f"creating PostgreSQL cluster {self.version}/{self.name} on port {self.port}")
            subprocess.run(
                ["pg_createcluster", self.version, self.name, "-p", str(self.port)],
                check=True, capture_output=True,
            )  # fmt: skip
            hba = Path(f"/etc/postgresql/{self.version}/{self.name}/pg_hba.conf")
            hba.write_text(
                "local all postgres trust\nhost all all 127.0.0.1/32 trust\n"
                "host all all ::1/128 trust\n"
            )
            conf = Path(f"/etc/postgresql/{self.version}/{self.name}/conf.d/rehearsal.conf")
            conf.write_text("max_connections = 200\nshared_buffers = 512MB\nfsync = on\n")
        if not port_open(self.port):
            self.ctl("start")
        wait_until(lambda: port_open(self.port), 30, "PostgreSQL start")

    def psql(self, sql: str, database: str = "postgres") -> str:
        command = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        command += ["-d", database, "-tAc", sql]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()

    def database_reset(self, database: str) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {database}")

    def postmaster_pid(self) -> int:
        pid_file = Path(f"/var/lib/postgresql/{self.version}/{self.name}/postmaster.pid")
        return int(pid_file.read_text().split()[0])

    def restart(self) -> float:
        started = time.monotonic()
        self.ctl("restart", "-m", "fast")
        wait_until(lambda: port_open(self.port), 60, "PostgreSQL restart")
        return time.monotonic() - started


def site_env(*, database_url: str, redis_url: str, out: Path) -> dict[str, str]:
    """Production settings (DEBUG off) over plain HTTP on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        MEDIA_ROOT=str(out / "media"),
        PRIVATE_MEDIA_ROOT=str(out / "private"),
        LOG_LEVEL="WARNING",
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        DJANGO_SETTINGS_MODULE="observer.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def log_tail(path: Path, offset: int) -> str:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")


@dataclass
class Stack:
    """The site, the floor, a Celery worker and beat, all against one database and Redis."""

    procs: Processes
    env: dict[str, str]
    site_port: int
    floor_port: int | None = None
    # One more than the cores: both stay busy while one worker waits for PostgreSQL. Five
    # (twice the cores and one) measured worse for the site on two cores and no better for
    # the floor (docs/benchmarks.md).
    gunicorn_workers: int = 3
    worker_concurrency: int = 2
    generation: int = 0
    restarts: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    supervising: threading.Event = field(default_factory=threading.Event)

    def worker_supervise(self) -> None:
        """Restart the worker when it exits by itself, as systemd's Restart=always would
        (docs/task-policy.md: Celery's worker can exit when Redis goes away); each restart
        is logged and reported. Runs in a daemon thread until the rehearsal ends."""
        self.supervising.set()
        while self.supervising.is_set():
            time.sleep(1)
            with self.lock:
                worker = self.procs.children.get("worker")
                if not self.supervising.is_set():
                    break
                if worker is None or worker.poll() is None:
                    continue
                log(f"the Celery worker exited by itself ({worker.returncode}); restarting it")
                self.restarts.append(time.strftime("%H:%M:%S"))
                del self.procs.children["worker"]
                self.worker_start()

    def gunicorn(self, name: str, port: int, env: dict[str, str]) -> None:
        command = [str(BIN / "gunicorn"), "observer.wsgi:application", "-b", f"127.0.0.1:{port}"]
        command += ["-w", str(self.gunicorn_workers), "--timeout", "60", "--graceful-timeout", "5"]
        self.procs.start(name, command, env)

    def start(self) -> None:
        self.gunicorn("site", self.site_port, self.env)
        if self.floor_port:
            floor_env = dict(self.env, DJANGO_SETTINGS_MODULE="bench.floor_settings")
            self.gunicorn("floor", self.floor_port, floor_env)
        schedule = self.procs.out / "celerybeat-schedule"
        beat = [str(BIN / "celery"), "-A", "observer", "beat", f"--schedule={schedule}"]
        self.procs.start("beat", [*beat, "--loglevel=WARNING"], self.env)
        self.worker_start()
        wait_until(lambda: http_ok(f"http://127.0.0.1:{self.site_port}/healthz"), 60, "site")
        if self.floor_port:
            wait_until(lambda: port_open(self.floor_port), 60, "floor")

    def worker_start(self) -> None:
        self.generation += 1
        # Below the site's priority, as docs/task-policy.md advises: when the CPUs are full,
        # a volunteer's request goes before aggregating the reports already stored.
        command = ["nice", "-n", str(WORKER_NICE), str(BIN / "celery"), "-A", "observer"]
        command += ["worker", "--pool=prefork"]
        command += [f"--concurrency={self.worker_concurrency}", "--loglevel=INFO"]
        command += [f"--hostname=rehearsal{self.generation}@%h", "--without-gossip"]
        command += ["--without-mingle", "--without-heartbeat"]
        log_path = self.procs.out / "worker.log"
        offset = log_path.stat().st_size if log_path.exists() else 0
        self.procs.start("worker", command, self.env)
        wait_until(lambda: "ready" in log_tail(log_path, offset), 60, "Celery worker")

    def worker_kill_mid_task(self, timeout: float = 30) -> bool:
        """SIGKILL the worker (and its pool) once a task is running; True if one was.

        Running: a task id whose "received" line came after this call and whose
        "succeeded", "raised" or "retry" line has not come yet."""
        log_path = self.procs.out / "worker.log"
        offset = log_path.stat().st_size
        busy = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not busy:
            started, ended = set(), set()
            for task_id, event in TASK_LINE.findall(log_tail(log_path, offset)):
                (started if event == "received" else ended).add(task_id)
            busy = bool(started - ended)
            if not busy:
                time.sleep(0.02)
        with self.lock:
            self.procs.kill("worker", signal.SIGKILL)
        return busy


TASK_LINE = re.compile(r"Task [\w.]+\[([0-9a-f-]+)\] (received|succeeded|raised|retry)")


@dataclass
class LocustRun:
    user_class: str
    host: str
    users: int
    run_time: int
    csv_prefix: Path
    env: dict[str, str]
    reset_stats: bool = False

    def run(self, procs: Processes, wait: bool = True) -> subprocess.Popen:
        command = [str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless"]
        command += ["-u", str(self.users), "-r", str(max(self.users // 2, 1))]
        command += ["--run-time", f"{self.run_time}s", "--host", self.host]
        command += ["--csv", str(self.csv_prefix), "--stop-timeout", "35", "--loglevel", "WARNING"]
        if self.reset_stats:
            command.append("--reset-stats")
        command.append(self.user_class)
        process = procs.start(f"locust-{self.csv_prefix.name}", command, self.env)
        if wait:
            process.wait()
        return process


def stats_read(csv_prefix: Path) -> dict[str, dict]:
    """Locust's per-request figures by name, and 'Aggregated'."""
    rows = {}
    with open(f"{csv_prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
                "max_ms": float(row["Max Response Time"] or 0),
            }
    return rows


def locust_env(env: dict[str, str], out: Path, **extra: str) -> dict[str, str]:
    return dict(env, REHEARSAL_OUT=str(out), **extra)


def measure_beside_floor(
    stack: Stack, postgres: Postgres, out: Path, seconds: int, clients: int
) -> dict:
    """Submission and the floor at the same concurrency, one after the other; then the
    submission again with the Celery worker stopped, to show what aggregating each report
    costs the same CPUs (the reports wait in Redis and are aggregated once it is back).
    Each measurement also records the CPU milliseconds per request of every part."""
    figures = {}
    for label, user_class, port, name in (
        ("submission", "SubmitObserver", stack.site_port, "POST /report/send/"),
        ("floor", "FloorClient", stack.floor_port, "POST /floor/"),
        ("submission_worker_stopped", "SubmitObserver", stack.site_port, "POST /report/send/"),
    ):
        if label == "submission_worker_stopped":
            with stack.lock:
                stack.procs.kill("worker", signal.SIGTERM)
        log(f"measuring {label}: {clients} clients for {seconds} s")
        run = LocustRun(
            user_class, f"http://127.0.0.1:{port}", clients, seconds, out / label,
            locust_env(stack.env, out), reset_stats=True,
        )  # fmt: skip
        before = cpu_by_part(stack, postgres)
        locust = run.run(stack.procs, wait=False)
        locust_name = f"locust-{label}"
        locust_cpu = 0.0
        while locust.poll() is None:
            (locust_cpu,) = process_tree_cpu(locust.pid)
            time.sleep(0.5)
        after = cpu_by_part(stack, postgres)
        figures[label] = stats_read(out / label)[name]
        requests = max(figures[label]["requests"], 1)
        cpu = {part: after[part] - before.get(part, 0.0) for part in after if part in before}
        cpu = {part: used for part, used in cpu.items() if not part.startswith("locust")}
        cpu["load clients"] = locust_cpu
        figures[label]["cpu_ms_per_request"] = {
            part: round(used * 1000 / requests, 2) for part, used in cpu.items() if used > 0.05
        }
        stack.procs.children.pop(locust_name, None)
    with stack.lock:
        stack.worker_start()
    figures["ratio"] = figures["submission"]["rps"] / max(figures["floor"]["rps"], 0.001)
    return figures


def sim_offset(hour: float, day_seconds: float) -> float:
    return (hour - 7.0) / DAY_HOURS * day_seconds


def process_tree_cpu(*roots: int) -> list[float]:
    """CPU seconds (user + system) used so far by each process and everything under it,
    from one reading of /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = sum(int(value) for value in fields[11:15]) / tick
    used = []
    for root in roots:
        tree, frontier = {root}, [root]
        while frontier:
            parent = frontier.pop()
            children = [pid for pid, ppid in parents.items() if ppid == parent]
            tree.update(children)
            frontier.extend(children)
        used.append(sum(times.get(pid, 0.0) for pid in tree))
    return used


def cpu_by_part(stack: "Stack", postgres: "Postgres") -> dict[str, float]:
    """CPU seconds so far of the load clients, the site, the floor, the worker and
    PostgreSQL, for the share each takes of the two cores during a measurement."""
    parts = {name: process.pid for name, process in stack.procs.children.items()}
    parts["postgres"] = postgres.postmaster_pid()
    return dict(zip(parts, process_tree_cpu(*parts.values()), strict=True))


@dataclass
class Fault:
    hour: float
    name: str
    action: Callable[[], dict]


def play_day(
    stack: Stack,
    out: Path,
    *,
    day_seconds: float,
    users: int,
    scale: float,
    faults: list[Fault],
    lead: float = 15,
) -> dict:
    """Locust plays the day, which starts `lead` seconds from now (the clients start first);
    the faults fire at their simulated hours. Returns what happened."""
    start_at = time.time() + lead
    # Items the server could not take in time are retried after the day, for this long.
    drain = max(180.0, day_seconds)
    env = locust_env(
        stack.env, out,
        REHEARSAL_START_AT=str(start_at), REHEARSAL_DAY_SECONDS=str(day_seconds),
        REHEARSAL_DRAIN_SECONDS=str(drain), REHEARSAL_SCALE=str(scale),
    )  # fmt: skip
    run = LocustRun(
        "DayObserver", f"http://127.0.0.1:{stack.site_port}", users,
        int(day_seconds + drain + 60), out / "day", env,
    )  # fmt: skip
    locust = run.run(stack.procs, wait=False)
    happened = []
    for fault in sorted(faults, key=lambda f: f.hour):
        delay = start_at + sim_offset(fault.hour, day_seconds) - time.time()
        if delay > 0:
            time.sleep(delay)
        log(f"fault at {fault.hour:05.2f} of the day: {fault.name}")
        record = {"hour": fault.hour, "name": fault.name, **fault.action()}
        log(f"  {record}")
        happened.append(record)
    log("waiting for the clients to finish the day")
    locust.wait()
    return {"faults": happened, "stats": stats_read(out / "day")}


def aggregation_drain(postgres_psql: Callable[[str], str], timeout: float) -> float:
    started = time.monotonic()
    wait_until(
        lambda: (
            postgres_psql("SELECT count(*) FROM reports_report WHERE aggregated_at IS NULL") == "0"
        ),
        timeout,
        "aggregation of every report",
    )
    return time.monotonic() - started


def world_command(env: dict[str, str], out: Path, *args: str) -> str:
    command = [sys.executable, "-m", "bench.rehearsal.world", *args, "--out", str(out)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stdout + result.stderr)
    return result.stdout


def migrate(env: dict[str, str]) -> None:
    command = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def world_prepare(
    postgres: Postgres, database: str, env: dict[str, str], out: Path, observers: int,
    stations: int,
) -> None:  # fmt: skip
    """A fresh database with the seeded world. Seeding 10,000 observers through the services
    takes minutes, so the first run keeps a template database and its world.json, and later
    runs of the same size copy them (CREATE DATABASE … TEMPLATE, seconds)."""
    # v2: the floor election has as many stations as the day's (bench/floor_urls.py)
    template = f"{database}_seed_v2_{observers}_{stations}"
    saved = out.parent / f"{template}.json"
    query = f"SELECT 1 FROM pg_database WHERE datname = '{template}'"  # noqa: S608 (integers)
    exists = postgres.psql(query) == "1"
    if exists and saved.exists():
        log(f"copying the seeded world from {template}")
        postgres.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        postgres.psql(f"CREATE DATABASE {database} TEMPLATE {template}")
        (out / "world.json").write_text(saved.read_text())
        migrate(env)  # the template may predate the newest migrations
        return
    postgres.database_reset(database)
    log("migrating and seeding")
    migrate(env)
    started = time.monotonic()
    world_command(env, out, "seed", "--observers", str(observers), "--stations", str(stations))
    log(f"seeded in {time.monotonic() - started:.0f} s")
    postgres.psql(f"DROP DATABASE IF EXISTS {template}")
    postgres.psql(f"CREATE DATABASE {template} TEMPLATE {database}")
    saved.write_text((out / "world.json").read_text())


def summary_lines(result: dict) -> list[str]:
    total = result["verify"]["total"]
    lines = []
    if "beside_floor" in result:
        sub, floor = result["beside_floor"]["submission"], result["beside_floor"]["floor"]
        alone = result["beside_floor"]["submission_worker_stopped"]
        for label, row in (("submission", sub), ("floor", floor), ("(no worker)", alone)):
            lines.append(
                f"{label:<12} {row['rps']:7.1f} req/s  p50 {row['p50_ms']:4.0f} ms  "
                f"p99 {row['p99_ms']:4.0f} ms  errors {row['failures']}"
            )
        lines.append(f"submission / floor throughput: {result['beside_floor']['ratio']:.2f}")
        for label, row in (("submission", sub), ("floor", floor)):
            parts = ", ".join(f"{k} {v:.2f}" for k, v in row["cpu_ms_per_request"].items())
            lines.append(f"CPU ms per request, {label}: {parts}")
    lines.append(f"worker restarts by the supervisor: {len(result.get('worker_restarts', []))}")
    fresh = result["verify"]["freshness_seconds"]
    lines.append(
        f"tally freshness of the day's reports (receipt → aggregated): p50 {fresh['p50']:.1f} s, "
        f"p99 {fresh['p99']:.1f} s, max {fresh['max']:.1f} s"
    )
    for kind, figures in result["verify"]["kinds"].items():
        lines.append(
            f"  {kind:<8} sent {figures['sent']}, acknowledged {figures['acknowledged']}, "
            f"stored {figures['stored']}, never acknowledged {figures['never_acknowledged']} "
            f"(of which never sent: {figures['never_attempted']})"
        )
    lines += [
        f"reports acknowledged: {total['acknowledged']}",
        f"reports stored: {total['stored']}",
        f"lost: {total['lost']}",
        f"duplicated: {total['duplicated']}",
        f"tallies equal recount: {'yes' if result['verify']['tallies_equal_recount'] else 'NO'}",
    ]
    return lines


def machine() -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), "unknown",
    )  # fmt: skip
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(memory_kb / 2**20, 1),
        "load_average_at_start": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observers", type=int, default=10_000)
    parser.add_argument("--stations", type=int, default=3611)
    parser.add_argument("--day-seconds", type=float, default=600, help="the day compressed")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the day's items")
    parser.add_argument("--users", type=int, default=300, help="Locust users playing the day")
    parser.add_argument("--clients", type=int, default=32, help="clients beside the floor")
    parser.add_argument("--measure-seconds", type=int, default=40)
    parser.add_argument("--redis-outage", type=float, default=60)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--pg-port", type=int, default=5440)
    parser.add_argument("--redis-port", type=int, default=6395)
    parser.add_argument("--site-port", type=int, default=8601)
    parser.add_argument("--floor-port", type=int, default=8602)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "rehearsal")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor comparison")
    parser.add_argument("--no-day", action="store_true", help="only the floor comparison")
    args = parser.parse_args()

    out = args.out
    if out.exists():
        subprocess.run(["rm", "-rf", str(out)], check=True)
    out.mkdir(parents=True)
    procs = Processes(out)
    postgres = Postgres(args.pg_port)
    redis = Redis(args.redis_port, procs)
    database = "obs_rehearsal"
    env = site_env(
        database_url=f"postgres://postgres@127.0.0.1:{args.pg_port}/{database}",
        redis_url=f"redis://127.0.0.1:{args.redis_port}/0",
        out=out,
    )
    result: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "machine": machine()}
    stack: Stack | None = None
    try:
        postgres.ensure()
        redis.start()
        world_prepare(postgres, database, env, out, args.observers, args.stations)
        stack = Stack(
            procs, env, args.site_port, None if args.no_floor else args.floor_port,
            gunicorn_workers=args.gunicorn_workers,
        )  # fmt: skip
        stack.start()
        threading.Thread(target=stack.worker_supervise, daemon=True).start()
        if not args.no_floor:
            result["beside_floor"] = measure_beside_floor(
                stack, postgres, out, args.measure_seconds, args.clients
            )
            log(json.dumps(result["beside_floor"]))

        def redis_outage() -> dict:
            redis.stop()
            time.sleep(args.redis_outage)
            redis.start()
            return {"seconds_down": args.redis_outage}

        def worker_kill() -> dict:
            busy = stack.worker_kill_mid_task()
            time.sleep(3)
            with stack.lock:
                stack.worker_start()
            return {"task_running_when_killed": busy}

        def postgres_restart() -> dict:
            return {"restart_seconds": round(postgres.restart(), 1)}

        faults = [
            Fault(11.9, "Redis stopped", redis_outage),
            Fault(15.1, "Celery worker SIGKILLed mid-task", worker_kill),
            Fault(18.05, "PostgreSQL restarted", postgres_restart),
        ]
        if not args.no_day:
            log(f"playing the day in {args.day_seconds:.0f} s with {args.users} clients")
            result["day"] = play_day(
                stack, out, day_seconds=args.day_seconds, users=args.users, scale=args.scale,
                faults=faults,
            )  # fmt: skip
        log("waiting for the aggregation to catch up")
        result["drain_seconds"] = aggregation_drain(
            lambda sql: postgres.psql(sql, database), timeout=600
        )
    finally:
        result["load_average_at_end"] = os.getloadavg()
        if stack is not None:
            stack.supervising.clear()
            with stack.lock:
                result["worker_restarts"] = stack.restarts
                procs.stop_all()
        else:
            procs.stop_all()
    result["verify"] = json.loads(world_command(env, out, "verify"))
    (out / "results.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print()
    for line in summary_lines(result):
        print(line)
    verify = result["verify"]
    ok = verify["total"]["lost"] == 0 and verify["total"]["duplicated"] == 0
    sys.exit(0 if ok and verify["tallies_equal_recount"] else 1)


if __name__ == "__main__":
    main()
