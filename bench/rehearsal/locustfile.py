"""Locust clients of the election-day rehearsal. bench/rehearsal/run.py starts them; see there.

Three kinds of user, chosen by class name on the command line:

- `DayObserver`: plays the simulated day from a schedule built here from the seed (the same
  for every run): the opening burst, a turnout count from every station after each
  checkpoint, incidents all day, and from 20:00 the counting incidents and the protocol
  copies with photos. The day (07:00 to 02:00) is compressed into REHEARSAL_DAY_SECONDS.
- `SubmitObserver`: one observer per user sending reports back to back, for the throughput
  and latency figures beside the floor.
- `FloorClient`: the same load on the bare insert endpoint (bench/floor_urls.py), with the
  same client work (fields, JSON answer, ledger; its items are of kind "floor", which the
  count at the end leaves out).

Every client behaves as the real form's script (static/reports/report.js): it posts with
`Accept: application/json` and the CSRF token (incident reports: the page's send key, to
/report/send/), and keeps an item until the server answers
"received" or "duplicate" (done), 400 (invalid), 409 (conflict) or asks to sign in again
(it signs in and goes on); anything else, a 5xx, a 429 or no answer within 30 s, is retried
with the same UUID and the same content. The script retries every 20 s; here the wait is
1, 2, 4 then 5 s, since the day is compressed. Each item is written to the ledger
(REHEARSAL_OUT/ledger-<mode>-<pid>.jsonl) when first sent and again when it settles.
"""

import datetime as dt
import io
import json
import os
import random
import re
import time
import uuid
import zoneinfo
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import gevent
from locust import HttpUser, constant, events, task
from PIL import Image
from requests.cookies import RequestsCookieJar

OUT = Path(os.environ.get("REHEARSAL_OUT", "var/rehearsal"))
DAY_SECONDS = float(os.environ.get("REHEARSAL_DAY_SECONDS", "600"))
START_AT = float(os.environ.get("REHEARSAL_START_AT", "0")) or time.time() + 5
# After the day ends, items still waiting are retried for this long, then given up.
DRAIN_SECONDS = float(os.environ.get("REHEARSAL_DRAIN_SECONDS", "240"))
SCALE = float(os.environ.get("REHEARSAL_SCALE", "1"))
SEED = 2013
TIMEOUT = 30
ZONE = zoneinfo.ZoneInfo("Europe/Moscow")
DAY_HOURS = 19  # 07:00 to 02:00

OPENING = ["O1", "O2", "O3"]
VOTING = ["V1", "V2", "V3", "V4", "V5", "V6", "H1", "H2", "H3", "R1", "R2", "R3", "R4", "X1"]
COUNTING = ["C1", "C2", "C3", "C4", "C5", "R1", "R2"]
CHECKPOINTS = {"10": 10.0, "12": 12.0, "15": 15.0, "18": 18.0}
# Moscow 2013 form (reports/domain/protocol_templates/moscow_2013.json): a copy that passes every
# hard relation and soft check.
PROTOCOL = {
    "voters": 2000, "received": 1000, "inside": 600, "outside": 30, "cancelled": 370,
    "portable": 30, "stationary": 600, "invalid": 10, "valid": 620, "lost": 0,
    "unaccounted": 0, "c1": 20, "c2": 20, "c3": 60, "c4": 20, "c5": 170, "c6": 330,
}  # fmt: skip


def photo(width: int, height: int, seed: int) -> bytes:
    """A JPEG with enough texture to weigh what a phone's photo of a page weighs."""
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    page = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    picture = Image.blend(page, noise, 0.35 + seed * 0.05)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=88)
    return out.getvalue()


def world() -> dict:
    return json.loads((OUT / "world.json").read_text())


@dataclass
class Item:
    """One thing an observer sends: its URL, fields and file never change between tries."""

    kind: str
    url: str
    fields: dict
    file: str = ""  # a photo's file name; its bytes are PHOTOS[...] of the item's kind
    due: float = 0.0
    observer: int = 0
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: int = 0


def hour_at(hour: float) -> float:
    """Seconds after START_AT at which the simulated clock shows `hour` (7 to 26)."""
    return (hour - 7.0) / DAY_HOURS * DAY_SECONDS


def report_item(rng: random.Random, observer: int, number: int, hour: float, codes) -> Item:
    code = rng.choice(codes)
    fields = {
        "station": str(number),
        "category": code,
        "count": str(rng.randrange(1, 60)),
        "needs_mobile_group": "on" if rng.random() < 0.05 else "",
        "needs_lawyer": "on" if rng.random() < 0.03 else "",
    }
    return Item("report", "/report/", fields, due=hour_at(hour), observer=observer)


def schedule(observers: list[dict]) -> list[Item]:
    """The day, in order of due time. Turnout counts and copies come from the first
    observer of each station; incidents from anyone."""
    rng = random.Random(SEED)
    first_of_station: dict[int, int] = {}
    for index, person in enumerate(observers):
        first_of_station.setdefault(person["station"], index)
    items: list[Item] = []

    def incidents(count: int, start: float, end: float, mode: float, codes) -> None:
        for _ in range(int(count * SCALE)):
            index = rng.randrange(len(observers))
            hour = rng.triangular(start, end, mode)
            items.append(report_item(rng, index, observers[index]["number"], hour, codes))

    people = len(observers)
    incidents(people * 0.15, 7.0, 8.5, 7.6, OPENING)
    incidents(people * 0.5, 8.0, 20.0, 14.0, VOTING)
    incidents(people * 0.1, 20.0, 25.0, 21.5, COUNTING)
    stations = list(first_of_station.items())
    for checkpoint, hour in CHECKPOINTS.items():
        for station, index in stations[: int(len(stations) * SCALE)]:
            announced = rng.randrange(50, 900)
            fields = {
                "station": str(station),
                "checkpoint": checkpoint,
                "own_tally": str(announced - rng.randrange(0, 40)),
                "announced": str(announced),
            }
            due = hour_at(hour + min(rng.expovariate(1 / 0.15), 0.6))
            items.append(Item("turnout", "/protocols/turnout/", fields, due=due, observer=index))
    for station, index in stations[: int(len(stations) * SCALE)]:
        fields = {"station": str(station)} | {f"line_{k}": str(v) for k, v in PROTOCOL.items()}
        hour = min(max(rng.gauss(23.5, 1.0), 21.0), 26.0)
        copy = Item("copy", "/protocols/copy/", fields, "copy.jpg", hour_at(hour), index)
        items.append(copy)
    items.sort(key=lambda item: item.due)
    for item in items:
        if item.kind == "report":
            item.fields["description"] = f"Репетиция {item.uuid}: {item.fields['category']}"
            if rng.random() < 0.1:
                item.file = "photo.jpg"
    return items


class Ledger:
    def __init__(self, mode: str) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        self.file = (OUT / f"ledger-{mode}-{os.getpid()}.jsonl").open("a")

    def write(self, item: Item, ack: bool, outcome: str) -> None:
        entry = {"kind": item.kind, "uuid": item.uuid, "ack": ack, "outcome": outcome}
        entry["attempts"] = item.attempts
        self.file.write(json.dumps(entry) + "\n")
        self.file.flush()


PHOTOS = {"small": photo(1280, 960, 0), "copy": photo(2000, 1500, 1)}
LEDGERS: dict[str, Ledger] = {}
SESSIONS: dict[int, RequestsCookieJar] = {}
SEND_KEYS: dict[int, str] = {}  # the send key each observer's form page carries
STATE = {"queue": deque(), "in_flight": 0}


def ledger(mode: str) -> Ledger:
    if mode not in LEDGERS:
        LEDGERS[mode] = Ledger(mode)
    return LEDGERS[mode]


class Observer(HttpUser):
    """An observer's phone: signs in with the personal link, then sends items."""

    abstract = True
    mode = "day"

    def people(self) -> list[dict]:
        if "world" not in STATE:
            STATE["world"] = world()
        return STATE["world"]["observers"]

    def sign_in(self, observer: int) -> bool:
        jar = SESSIONS.setdefault(observer, RequestsCookieJar())
        self.client.cookies = jar
        token = self.people()[observer]["token"]
        with self.client.get(
            f"/signin/{token}/", name="GET /signin/[token]/ → form", timeout=TIMEOUT,
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code == 200 and "csrftoken" in jar:
                key = re.search(r'data-send-key="([^"]+)"', response.text)
                SEND_KEYS[observer] = key.group(1) if key else ""
                return True
            response.failure(f"sign-in answered {response.status_code}")
            return False

    def deliver(self, item: Item, deadline: float) -> None:
        """Send until the server settles the item or the deadline passes (as report.js)."""
        ledger(self.mode).write(item, False, "sent")
        waits = [1, 2, 4]
        outcome = "gave up"
        while time.time() < deadline:
            item.attempts += 1
            jar = SESSIONS.get(item.observer)
            signed_in = jar is not None and "csrftoken" in jar
            if not signed_in and not self.sign_in(item.observer):
                gevent.sleep(waits.pop(0) if waits else 5)
                continue
            outcome = self.attempt(item)
            if outcome in ("done", "invalid", "conflict"):
                break
            if outcome == "signin":
                SESSIONS.pop(item.observer, None)
                continue
            gevent.sleep(waits.pop(0) if waits else 5)
        ledger(self.mode).write(item, outcome == "done", outcome)

    def attempt(self, item: Item) -> str:
        jar = SESSIONS[item.observer]
        self.client.cookies = jar
        fields = {"uuid": item.uuid, **item.fields}
        if item.kind == "report":
            fields["occurred_at"] = item.fields.get("occurred_at") or now_local()
            item.fields["occurred_at"] = fields["occurred_at"]
        files = None
        if item.file:
            content = PHOTOS["copy" if item.kind == "copy" else "small"]
            field_name = "photo" if item.kind == "copy" else "evidence"
            files = {field_name: (item.file, content, "image/jpeg")}
        # As report.js: an incident report goes with the page's send key to its endpoint.
        url, headers = item.url, dict(JSON_ANSWER)
        if item.kind == "report" and SEND_KEYS.get(item.observer):
            url = "/report/send/"
            headers["Authorization"] = f"SendKey {SEND_KEYS[item.observer]}"
        else:
            headers["X-CSRFToken"] = jar.get("csrftoken", "")
        return post_read(
            self.client, url, data=fields, files=files, headers=headers, allow_redirects=False
        )


JSON_ANSWER = {"Accept": "application/json"}


def post_read(client, url: str, **kwargs) -> str:
    """POST as report.js does and read the answer as it does; Locust counts the request as
    failed unless the item is done."""
    with client.post(
        url, name=f"POST {url}", timeout=TIMEOUT, catch_response=True, **kwargs
    ) as response:
        outcome = classify(response)
        if outcome == "done":
            response.success()
        else:
            response.failure(f"{outcome}: {response.status_code} {response.text[:120]}")
        return outcome


def now_local() -> str:
    return dt.datetime.now(ZONE).strftime("%Y-%m-%dT%H:%M")


def classify(response) -> str:
    """report.js's reading of an answer."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if 200 <= response.status_code < 300 and data.get("status"):
        return "done"
    if response.status_code == 400 and data.get("errors"):
        return "invalid"
    if response.status_code == 409:
        return "conflict"
    if data.get("signin"):
        return "signin"
    return "retry"


class DayObserver(Observer):
    """Takes the next item of the day when it is due and delivers it."""

    wait_time = constant(0)
    mode = "day"

    @task
    def next_item(self) -> None:
        queue = STATE["queue"]
        if not queue:
            gevent.sleep(1)
            return
        item = queue.popleft()
        STATE["in_flight"] += 1
        try:
            gevent.sleep(max(0.0, START_AT + item.due - time.time()))
            self.deliver(item, START_AT + DAY_SECONDS + DRAIN_SECONDS)
        finally:
            STATE["in_flight"] -= 1


class SubmitObserver(Observer):
    """Observer number N (the Nth user) sends reports back to back."""

    wait_time = constant(0)
    mode = "submit"

    def on_start(self) -> None:
        STATE.setdefault("next_observer", 0)
        self.observer = STATE["next_observer"]
        STATE["next_observer"] += 1

    @task
    def send(self) -> None:
        person = self.people()[self.observer]
        item = report_item(random.Random(), self.observer, person["number"], 12.0, VOTING)
        item.fields["description"] = f"Замер {item.uuid}: {item.fields['category']}"
        self.deliver(item, time.time() + TIMEOUT)


class FloorClient(HttpUser):
    """The bare insert endpoint, loaded as SubmitObserver loads /report/send/: the same
    fields, the same reading of the JSON answer and the same ledger, so that the two
    measurements differ only in what the server does (the clients share its two CPUs)."""

    wait_time = constant(0)
    mode = "floor"

    @task
    def insert(self) -> None:
        item = report_item(random.Random(), 0, 0, 12.0, VOTING)
        item.kind, item.url = "floor", "/floor/"
        item.fields["description"] = f"Замер {item.uuid}: {item.fields['category']}"
        ledger(self.mode).write(item, False, "sent")
        item.attempts = 1
        fields = {"uuid": item.uuid, **item.fields, "occurred_at": now_local()}
        outcome = post_read(self.client, item.url, data=fields, headers=JSON_ANSWER)
        ledger(self.mode).write(item, outcome == "done", outcome)


@events.test_start.add_listener
def day_prepare(environment, **kwargs) -> None:
    if environment.parsed_options and "DayObserver" in (environment.parsed_options.user_classes):
        STATE["queue"].extend(schedule(world()["observers"]))
        gevent.spawn(day_end_watch, environment)


def day_end_watch(environment) -> None:
    """Stop Locust once every item of the day has settled (from outside the users)."""
    gevent.sleep(max(0.0, START_AT - time.time()) + 1)
    while STATE["queue"] or STATE["in_flight"]:
        gevent.sleep(1)
    environment.runner.quit()
