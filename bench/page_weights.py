"""What a first visit to headquarters' pages transfers, in a real browser.

Usage: .venv/bin/python bench/page_weights.py [--shots DIR] [--write]

Seeds the demo election (`seed_demo`) in its own PostgreSQL database `obs_bench_pages` (or
BENCH_DATABASE_URL), computes its statistics, then serves the site twice under gunicorn with
DEBUG off: once as a fresh checkout runs it (static files found in place) and once after
`collectstatic` (hashed names, gzip and Brotli, cached for a year). Each page is opened in
a new Chromium context at 1366 × 900 (nothing cached), signed in as the demo administrator,
and the bytes every response put on the wire (headers and encoded body, Playwright's
request.sizes()) are added up. With --shots, a screenshot of each page at 1366 px and at
390 px goes to DIR. With --write, the results go to docs/benchmarks.md.
"""

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from benchdb import ROOT, database_create
from benchdocs import section_replace

SECTION = "## Page weights (issue 19)"
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/obs_bench_pages"
PASSWORD = "bench-admin-password-1"
CHROMIUM = "/usr/bin/chromium"
OBSERVER_PAGES = {
    "report form (observer)": "/report/",
    "my reports (observer)": "/my/",
    "check-in (observer)": "/checkin/",
    "turnout count (observer)": "/protocols/turnout/",
    "protocol copy (observer)": "/protocols/copy/",
}
PAGES = {
    "admin home": "/admin/",
    "coverage": "/coverage/",
    "mobile groups": "/coverage/groups/",
    "results side by side": "/protocols/results/",
    "statistics": "/protocols/statistics/",
}


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout


def election_ready(env: dict) -> str:
    """Migrate, seed the demo once, compute its statistics; returns the election's id."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--base-url", "http://127.0.0.1")
    script = (
        "import django; django.setup()\n"
        "from reports.models import Election, StatisticsRun\n"
        "from reports.services.protocols import statistics_run_request\n"
        "election = Election.objects.get()\n"
        "if not StatisticsRun.objects.filter(election=election, status='done').exists():\n"
        "    statistics_run_request(election=election)\n"
        "from django.utils import timezone\n"
        "from reports.services.coverage import coverage_refresh\n"
        "coverage_refresh(election=election, now=timezone.now())\n"
        "from reports.models import Observer\n"
        "from reports.services.observers import signin_link_issue\n"
        "_link, token = signin_link_issue(observer=Observer.objects.order_by('pk').first())\n"
        "print(token)\n"
        "print(election.pk)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    token, election = done.stdout.strip().splitlines()[-2:]
    return election, token


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def site(env: dict):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "observer.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)


def weigh(base: str, election: str, shots: Path | None, label: str, token: str) -> dict[str, dict]:
    """Bytes on the wire and requests for a first visit of each page."""
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for name, path in {**PAGES, **OBSERVER_PAGES}.items():
            observer = name in OBSERVER_PAGES
            size = {"width": 390, "height": 844} if observer else {"width": 1366, "height": 900}
            context = browser.new_context(viewport=size)
            page = context.new_page()
            # Signed in without the browser (its cache stays empty): the API of the context
            # shares its cookies.
            if observer:
                context.request.get(f"{base}/signin/{token}/")
            else:
                context.request.get(f"{base}/admin/login/")
                csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
                context.request.post(
                    f"{base}/admin/login/?next=/admin/",
                    form={"csrfmiddlewaretoken": csrf, "username": "admin", "password": PASSWORD},
                )
            weighed: list = []
            page.on("requestfinished", lambda request, seen=weighed: seen.append(request))
            query = "" if observer or "admin" in path else f"?election={election}"
            url = f"{base}{path}{query}"
            page.goto(url, wait_until="networkidle")
            total = sum(
                sizes["responseBodySize"] + sizes["responseHeadersSize"]
                for sizes in (request.sizes() for request in weighed)
            )
            outside = [r.url for r in weighed if not r.url.startswith(base)]
            height = page.evaluate("document.documentElement.scrollHeight")
            results[name] = {"bytes": total, "requests": len(weighed), "outside": outside,
                             "height": height}  # fmt: skip
            if shots is not None:
                slug = name.replace(" ", "-").replace("(", "").replace(")", "")
                page.screenshot(
                    path=str(shots / f"{label}-{slug}-{size['width']}.png"), full_page=True
                )
                other = (
                    {"width": 1366, "height": 900} if observer else {"width": 390, "height": 844}
                )
                page.set_viewport_size(other)
                page.screenshot(
                    path=str(shots / f"{label}-{slug}-{other['width']}.png"), full_page=True
                )
            context.close()
        browser.close()
    return results


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} CPUs; Python {platform.python_version()}"


def report(found: dict[str, dict[str, dict]]) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, gunicorn with 2 workers and "
        "DEBUG off, Chromium with nothing cached, headquarters' pages at 1366 × 900 signed in "
        "as the demo administrator, observers' at 390 × 844 signed in through a personal "
        "link, on `make run`'s demo election (3,611 stations). Kilobytes on the "
        "wire (headers and encoded bodies of every response), requests, and the page's "
        "height in pixels:",
        "",
        "| page | as checked out: KB / requests | collected: KB / requests | height, px |",
        "|---|---:|---:|---:|",
    ]
    plain, collected = found["plain"], found["collected"]
    for name in {**PAGES, **OBSERVER_PAGES}:
        lines.append(
            f"| {name} | {plain[name]['bytes'] / 1024:.0f} / {plain[name]['requests']} "
            f"| {collected[name]['bytes'] / 1024:.0f} / {collected[name]['requests']} "
            f"| {collected[name]['height']:,} |"
        )
    outside = sorted(
        {url for run in found.values() for page in run.values() for url in page["outside"]}
    )
    lines += ["", f"Requests to another host: {len(outside)}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=Path, help="write screenshots to this folder")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    options = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DATABASE_URL)
    database_create(url)
    static_root = Path(tempfile.mkdtemp(prefix="bench-static-"))
    env = dict(
        os.environ, DJANGO_SETTINGS_MODULE="observer.settings", DATABASE_URL=url, REDIS_URL="",
        TASKS_IN_PROCESS="1", DEBUG="0",
        SECRET_KEY="bench-only-key", ALLOWED_HOSTS="127.0.0.1", SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0", DEMO_ADMIN_PASSWORD=PASSWORD, STATIC_ROOT=str(static_root),
    )  # fmt: skip
    election, token = election_ready(env)
    if options.shots:
        options.shots.mkdir(parents=True, exist_ok=True)
    found = {}
    with site(env) as base:
        found["plain"] = weigh(base, election, None, "plain", token)
    manage(env, "collectstatic", "--noinput")
    with site(env) as base:
        found["collected"] = weigh(base, election, options.shots, "collected", token)
    text = report(found)
    print(text)
    if options.write:
        section_replace(SECTION, text)


if __name__ == "__main__":
    main()
