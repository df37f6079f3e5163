"""Hostile values at every HTML form and the send endpoint (Hypothesis, derandomized).

Each example keeps a form otherwise valid, puts a value that must be refused into one field
(a time outside the election's window or PostgreSQL's range, an offset beyond ±14 h, a
count out of bounds, a NUL) and hostile values into others (surrogates, NUL bytes, huge
numbers, long text). The answer must be a 4xx whose error messages are in the language the
person chose (the coordinators' board, which answers every form with a redirect, must show
its refusal in that language), and nothing may be written. The number of cases run is
printed. Not here: the sign-in code form (its own tests, tests/test_signin.py).
"""

import html
import io
import re
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from reports.domain.protocol_checks import template_load
from reports.models import (
    AuditEntry,
    Dispatch,
    Evidence,
    ExportJob,
    MobileGroup,
    ProtocolCopy,
    Question,
    Report,
    TurnoutCount,
)
from reports.services.mobile_groups import mobile_group_save

from .moderation_fixtures import client_for, incident_make, staff_user
from .test_send_key import SEND, script, send_key

pytestmark = pytest.mark.django_db

EXAMPLES = 60
NASTY = [
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "-1", "1e309", "NaN", "inf", "١٢٣",
    "１２３", "9" * 30, "-" + "9" * 30, "9" * 5000, "0001-01-01T00:00", "9999-12-31T23:59",
    "2026-01-01T00:00+20:00", "2026-02-30T10:00", "x" * 6000, "<script>alert(1)</script>",
    "' OR 1=1 --", "\u202e", "🗳" * 50, "null", "[]",
]  # fmt: skip
HOSTILE = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(st.characters(categories=["Cs", "Cc", "Nd", "Zs"]), max_size=20),
    st.integers(-(10**40), 10**40).map(str),
)
BAD_TIMES = [
    "0001-01-01T00:00", "0001-01-01T00:00+14:00", "9999-12-31T23:59", "9999-12-31T23:59-14:00",
    "2026-01-01T00:00+20:00", "2026-06-01T00:00-14:30", "2099-12-31T23:59", "0000-00-00T00:00",
    "1999-12-31T23:59", "вчера", "\x00", "1e309",
]  # fmt: skip
BAD_COUNTS = ["-1", "9" * 30, "1000001", "1e309", "NaN", "\x00", "1.5", "--1"]
LANGUAGES = st.sampled_from(["ru", "en"])
CYRILLIC = re.compile("[а-яА-ЯёЁ]")


def form_body(data: dict[str, str]) -> str:
    """URL-encoded as a browser would send it, lone surrogates included as raw bytes."""
    return urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in data.items()])


def written() -> tuple:
    answered = Question.objects.filter(answered_at__isnull=False).count()
    tables = (Report, Evidence, TurnoutCount, ProtocolCopy, ExportJob, AuditEntry, Dispatch)
    return (*(model.objects.count() for model in tables), answered)


def page_errors(response) -> list[str]:
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        return [m for items in body.get("errors", {}).values() for m in items]
    page = response.content.decode()
    lists = re.findall(r'<ul class="(?:errors|errorlist)\b[^>]*>(.*?)</ul>', page, flags=re.S)
    items = [item for block in lists for item in re.findall(r"<li>(.*?)</li>", block, re.S)]
    return [html.unescape(re.sub(r"<[^>]+>", "", item)) for item in items]


def assert_refused_in_language(response, code: str, sent: dict[str, str]) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, sent)
    errors = page_errors(response)
    assert errors, (response.status_code, sent)
    for message in errors:
        for value in sent.values():  # a message may quote what was sent
            message = message.replace(value, "")
        assert bool(CYRILLIC.search(message)) == (code == "ru"), (message, code)


def assert_redirected_with_refusal(response, code: str, sent: dict[str, str]) -> None:
    """Forms of the coordinators' board answer with a redirect and a message on the board."""
    assert response.status_code == 200 and response.redirect_chain, (response.status_code, sent)
    page = response.content.decode()
    errors = [html.unescape(m) for m in re.findall(r'<li class="error">(.*?)</li>', page, re.S)]
    assert errors, sent
    assert all(bool(CYRILLIC.search(message)) == (code == "ru") for message in errors), errors


def run(
    capsys,
    label: str,
    post: Callable[[dict, str], object],
    base: dict,
    must_fail: dict,
    refused: Callable = assert_refused_in_language,
) -> None:
    """Throw hostile values at one form through `post(data, language)`; print the count."""
    cases = []
    breaking = st.sampled_from(sorted(must_fail)).flatmap(
        lambda name: st.tuples(st.just(name), st.sampled_from(must_fail[name]))
    )
    others = st.dictionaries(st.sampled_from(sorted(base)), HOSTILE, max_size=3)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(breaking=breaking, others=others, code=LANGUAGES)
    def attack(breaking, others, code):
        name, value = breaking
        data = {**base, **others, name: value}
        before = written()
        response = post(data, code)
        refused(response, code, data)
        assert written() == before
        cases.append(1)

    attack()
    with capsys.disabled():
        print(f"\nhypothesis: {len(cases)} hostile cases at {label}, no 5xx")


def html_poster(browser: Client, path: str) -> Callable[[dict, str], object]:
    def post(data: dict, code: str):
        browser.cookies["django_language"] = code
        return browser.post(path, form_body(data), content_type="application/x-www-form-urlencoded")

    return post


def report_base() -> dict:
    return {
        "uuid": str(uuid.uuid4()),
        "station": "other",
        "station_number": "101",
        "category": "V1",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "description": "Пачка бюллетеней",
        "count": "3",
    }


REPORT_BREAKERS = {
    "occurred_at": BAD_TIMES,
    "count": BAD_COUNTS,
    "uuid": ["", "\x00", "not-a-uuid"],
}


def test_the_report_form(observer_client, capsys):
    run(
        capsys, "/report/", html_poster(observer_client, "/report/"), report_base(), REPORT_BREAKERS
    )


def test_the_send_endpoint(observer_client, capsys):
    key = send_key(observer_client)
    phone = Client()

    def post(data: dict, code: str):
        phone.cookies["django_language"] = code
        return phone.post(
            SEND, form_body(data), content_type="application/x-www-form-urlencoded", **script(key)
        )

    run(capsys, SEND, post, {**report_base(), "station": "101"}, REPORT_BREAKERS)


def test_the_citizen_form(stations, categories, remote_addr, settings, capsys):
    settings.CITIZEN_REPORT_RATE = "1000000/h"
    base = report_base()
    del base["station"]
    run(capsys, "/citizen/", html_poster(Client(REMOTE_ADDR=remote_addr), "/citizen/"), base,
        REPORT_BREAKERS)  # fmt: skip


def test_the_check_in_form(observer_client, capsys):
    breakers = {"station_number": ["0", "-1", "9" * 30, "100000", "1e309", "\x00", "999"]}
    run(capsys, "/checkin/", html_poster(observer_client, "/checkin/"), {"station_number": "101"},
        breakers)  # fmt: skip


def test_the_turnout_form(observer_client, stations, capsys):
    base = {
        "uuid": str(uuid.uuid4()),
        "station": str(stations[101].pk),
        "checkpoint": "10",
        "own_tally": "120",
        "announced": "118",
    }
    breakers = {"own_tally": BAD_COUNTS, "announced": BAD_COUNTS}
    run(capsys, "/protocols/turnout/", html_poster(observer_client, "/protocols/turnout/"), base,
        breakers)  # fmt: skip


def test_the_protocol_copy_form(observer_client, stations, election, capsys):
    election.protocol_template = template_load("federal-12", ["Иванов", "Петров"])
    election.save()
    keys = ["voters", "received", "early", "inside", "outside", "cancelled", "portable",
            "stationary", "invalid", "valid", "lost", "unaccounted", "c1", "c2"]  # fmt: skip
    lines = [1000, 600, 0, 480, 20, 100, 20, 480, 10, 490, 0, 0, 300, 190]
    base = {f"line_{k}": str(v) for k, v in zip(keys, lines, strict=True)}
    base |= {"uuid": str(uuid.uuid4()), "station": str(stations[101].pk)}
    photo = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(photo, "JPEG")

    def post(data: dict, code: str):
        observer_client.cookies["django_language"] = code
        # Multipart as the browser sends it: text the server would decode with replacement.
        fields = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in
                  data.items()}  # fmt: skip
        photo.seek(0)
        photo.name = "copy.jpg"
        return observer_client.post("/protocols/copy/", {**fields, "photo": photo})

    breakers = {"line_voters": BAD_COUNTS, "line_c1": BAD_COUNTS}
    run(capsys, "/protocols/copy/", post, base, breakers)


def test_the_answer_form(observer_client, observer, report_form_data, moderator, capsys):
    observer_client.post("/report/", report_form_data())
    report = Report.objects.get()
    question = Question.objects.create(report=report, asked_by=moderator, text="Сколько?")
    field = f"q{question.pk}-answer"
    path = f"/my/questions/{question.pk}/answer/"
    breakers = {field: ["", " ", "x" * 5001, "a\x00b"]}
    run(capsys, path, html_poster(observer_client, path), {field: "Двенадцать"}, breakers)


def test_the_export_form(stations, capsys):
    staff = get_user_model().objects.create_user(username="analyst", is_staff=True)
    browser = Client()
    browser.force_login(staff)
    base = {"shape": "incidents", "format": "csv", "scope": "public", "after": "", "before": ""}
    times = [t for t in BAD_TIMES if not t.startswith("2099")]  # 2099 is a fine filter
    breakers = {"after": times, "before": times, "election": ["9" * 30, "\x00"]}
    run(capsys, "/exports/", html_poster(browser, "/exports/"), base, breakers)


def test_the_mobile_group_dispatch_form(stations, categories, capsys):
    coordinator = staff_user("coordinator", "coordinator")
    group = mobile_group_save(
        group=MobileGroup(okrug=stations[101].okrug, name="МГ-1", car="Лада", members="Иван"),
        actor=coordinator,
    )
    incident = incident_make(stations[101], categories["V1"], needs_mobile_group=True)
    board = client_for(coordinator)

    def post(data: dict, code: str):
        board.cookies["django_language"] = code
        return board.post(
            "/coverage/groups/dispatch/", form_body(data),
            content_type="application/x-www-form-urlencoded", follow=True,
        )  # fmt: skip

    base = {"incident": str(incident.pk), "group": str(group.pk), "note": "Едем"}
    wrong_ids = ["", "\x00", "-1", "9" * 30, "1e309", "abc"]  # "١" is a valid 1
    breakers = {"incident": wrong_ids, "group": wrong_ids}
    run(capsys, "/coverage/groups/dispatch/", post, base, breakers,
        refused=assert_redirected_with_refusal)  # fmt: skip
