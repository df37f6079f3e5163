"""An observer files an incident report: the form, its validation in Russian and English,
exactly-once acceptance per client UUID, and the page's weight and security headers."""

import datetime as dt
import gzip
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.models import Channel, Report, ReporterRole, Trust

from .services import require_real_services, site_with_redis_down

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def test_form_offers_the_observers_station_first_and_categories_by_phase(observer_client):
    page = observer_client.get("/report/").content.decode()
    assert re.search(r'name="station" value="101"[^>]*checked', page)
    assert page.index('value="101"') < page.index('name="station_number"')
    codes = re.findall(r'name="category" value="(\w+)"', page)
    assert codes[0] == "O1" and codes[-1] == "X1"
    assert "T2" not in codes
    assert "Вброс бюллетеней" in page
    assert "Кто-то опустил пачку бюллетеней в ящик" in page
    assert "«Прочее» только если ничего выше не подходит" in page


def test_form_carries_a_fresh_client_uuid_and_defaults_to_now(observer_client):
    first = observer_client.get("/report/").content.decode()
    second = observer_client.get("/report/").content.decode()
    uuid_pattern = r'name="uuid" value="([0-9a-f-]{36})"'
    assert re.search(uuid_pattern, first)[1] != re.search(uuid_pattern, second)[1]
    assert timezone.localtime().strftime("%Y-%m-%dT%H:") in first


def test_observer_files_a_report_without_javascript(observer_client, observer, report_form_data):
    data = report_form_data(station="101", complaint_filed="on", needs_lawyer="on")
    response = observer_client.post("/report/", data, follow=True)

    report = Report.objects.get(uuid=data["uuid"])
    assert response.redirect_chain == [(f"/my/{report.uuid}/", 302)]
    assert "Сообщение получено. Спасибо!" in response.content.decode()
    assert (report.station.number, report.category_id, report.count) == (101, "V1", 12)
    assert report.observer == observer
    assert (report.channel, report.trust) == (Channel.WEB, Trust.TRAINED)
    assert report.reporter_role == ReporterRole.OBSERVER
    assert report.complaint_filed and report.needs_lawyer and not report.police_called
    assert report.description == "Пачка бюллетеней в урне №2"


def test_any_other_station_can_be_given_by_number(observer_client, report_form_data):
    data = report_form_data(station="other", station_number="3601")
    observer_client.post("/report/", data)
    assert Report.objects.get(uuid=data["uuid"]).station.number == 3601


def test_the_time_typed_is_read_in_the_elections_zone(observer_client, report_form_data, election):
    day = election.date - dt.timedelta(days=1)
    data = report_form_data(occurred_at=f"{day:%Y-%m-%d}T07:45")
    observer_client.post("/report/", data)
    occurred = Report.objects.get(uuid=data["uuid"]).occurred_at
    assert occurred == dt.datetime.combine(day, dt.time(4, 45), tzinfo=dt.UTC)  # 07:45 Moscow


def test_same_uuid_again_returns_the_stored_report(observer_client, report_form_data):
    data = report_form_data()
    observer_client.post("/report/", data)
    response = observer_client.post("/report/", data, follow=True)

    assert Report.objects.filter(uuid=data["uuid"]).count() == 1
    assert response.redirect_chain == [(f"/my/{data['uuid']}/", 302)]
    assert "Это сообщение уже было получено" in response.content.decode()


def test_same_uuid_with_other_content_is_refused(observer_client, report_form_data, language):
    data = report_form_data()
    observer_client.post("/report/", data)
    response = language(observer_client, "en").post("/report/", {**data, "description": "Другое"})

    page = response.content.decode()
    assert response.status_code == 409
    assert "A different report with this identifier was already received" in page
    assert 'name="uuid"' in page and data["uuid"] not in page  # a retry is a new report
    assert Report.objects.get(uuid=data["uuid"]).description == "Пачка бюллетеней в урне №2"


def test_script_gets_json_and_a_replay_is_marked_duplicate(observer_client, report_form_data):
    data = report_form_data()
    first = observer_client.post("/report/", data, **JSON)
    again = observer_client.post("/report/", data, **JSON)

    assert first.status_code == 201 and first.json()["status"] == "received"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert first.json()["url"] == f"/my/{data['uuid']}/?received=received&files=0"
    assert again.json()["url"] == f"/my/{data['uuid']}/?received=duplicate&files=0"
    assert Report.objects.filter(uuid=data["uuid"]).count() == 1


def test_the_page_the_script_opens_next_says_received(observer_client, report_form_data):
    data = report_form_data()
    first = observer_client.post("/report/", data, **JSON)
    again = observer_client.post("/report/", data, **JSON)

    received = observer_client.get(first.json()["url"]).content.decode()
    duplicate = observer_client.get(again.json()["url"]).content.decode()
    plain = observer_client.get(f"/my/{data['uuid']}/").content.decode()
    assert "Сообщение получено. Спасибо!" in received
    assert "уже было получено" in duplicate and "Сообщение получено" not in duplicate
    assert "Сообщение получено" not in plain and "уже было получено" not in plain


def test_an_outbox_sent_without_pages_between_leaves_no_messages_behind(
    observer_client, report_form_data
):
    """Messages for JSON answers would pile up in the cookie until a page is shown."""
    for _ in range(5):
        response = observer_client.post("/report/", report_form_data(), **JSON)
        assert response.status_code == 201
        assert "messages" not in response.cookies

    page = observer_client.get("/report/").content.decode()
    assert "Сообщение получено" not in page


def test_script_gets_field_errors_and_conflicts_as_json(observer_client, report_form_data):
    data = report_form_data()
    invalid = observer_client.post("/report/", {**data, "count": "-1"}, **JSON)
    observer_client.post("/report/", data, **JSON)
    conflict = observer_client.post("/report/", {**data, "count": "13"}, **JSON)

    assert invalid.status_code == 400
    assert list(invalid.json()["errors"]) == ["count"]
    assert conflict.status_code == 409 and "Другое сообщение с этим" in conflict.json()["error"]


BAD_INPUT = [
    # field, value, Russian message, English message
    ("station_number", "9999", "Участка с номером 9999 нет", "There is no station number 9999"),
    ("station_number", "", "Выберите свой участок или введите его номер", "Choose your station"),
    ("station_number", "abc", "Введите целое число", "Enter a whole number"),
    ("station", "202", "Выберите корректный вариант", "Select a valid choice"),
    ("category", "", "Выберите, что произошло", "Choose what happened"),
    ("category", "T2", "Выберите корректный вариант", "Select a valid choice"),
    ("category", "Z9", "Выберите корректный вариант", "Select a valid choice"),
    ("occurred_at", "вчера", "Введите правильную дату и время", "Enter a valid date/time"),
    ("occurred_at", "2999-01-01T10:00", "Это время в будущем", "This time is in the future"),
    ("occurred_at", "0001-01-01T00:00", "Это время раньше выборов", "This time is before the"),
    ("occurred_at", "2026-01-01T00:00+20:00", "Смещение часового пояса", "A time zone offset"),
    ("description", "ы" * 5001, "не более 5000 символов", "at most 5000 characters"),
    ("count", "-3", "больше либо равно 0", "greater than or equal to 0"),
    ("count", "100001", "меньше либо равно 100000", "less than or equal to 100000"),
    ("count", "много", "Введите целое число", "Enter a whole number"),
    ("uuid", "not-a-uuid", "Введите правильный UUID", "Enter a valid UUID"),
]


@pytest.mark.parametrize(("field", "value", "russian", "english"), BAD_INPUT)
@pytest.mark.parametrize("code", ["ru", "en"])
def test_bad_input_is_explained_in_the_observers_language(
    observer_client, report_form_data, language, field, value, russian, english, code
):
    data = report_form_data(**{field: value})
    if field == "station_number":
        data["station"] = "other"
    response = language(observer_client, code).post("/report/", data)

    assert response.status_code == 400
    assert (russian if code == "ru" else english) in response.content.decode()
    assert not Report.objects.exists()


@pytest.mark.parametrize("code", ["ru", "en"])
def test_other_needs_a_description(observer_client, report_form_data, language, code):
    data = report_form_data(category="X1", description="")
    response = language(observer_client, code).post("/report/", data)
    expected = "Опишите, что произошло" if code == "ru" else "Describe what happened"
    assert expected in response.content.decode()
    assert not Report.objects.exists()


def test_files_sent_with_an_invalid_form_must_be_attached_again(
    observer_client, report_form_data, jpeg_bytes
):
    photo = SimpleUploadedFile("photo.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = observer_client.post("/report/", report_form_data(count="-1", evidence=photo))
    assert "прикрепите их снова" in response.content.decode()


BROKER_DOWN_SCRIPT = """
import json, sys, django
django.setup()
from django.test import Client
token, data = sys.argv[1], json.loads(sys.argv[2])
client = Client()
client.get(f"/signin/{token}/")
response = client.post("/report/", data, follow=True)
print(json.dumps({"chain": response.redirect_chain, "page": response.content.decode()}))
"""


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_report_is_committed_before_received_even_with_the_broker_down(
    observer_link, report_form_data
):
    """The site runs in its own process with REDIS_URL pointing where nothing listens:
    publishing the aggregation task fails, the cache too; the observer still sees
    "received" and the report is in the database, waiting for the sweep."""
    require_real_services()
    data = report_form_data()
    outcome = site_with_redis_down(BROKER_DOWN_SCRIPT, observer_link.token, json.dumps(data))

    assert outcome["chain"] == [[f"/my/{data['uuid']}/", 302]]
    assert "Сообщение получено" in outcome["page"]
    assert Report.objects.get(uuid=data["uuid"]).aggregated_at is None


def test_a_post_without_the_csrf_token_is_refused(observer_client, report_form_data):
    client = observer_client
    client.handler.enforce_csrf_checks = True
    client.get("/report/")
    data = report_form_data()
    assert client.post("/report/", data).status_code == 403
    token = client.cookies["csrftoken"].value
    assert client.post("/report/", data, HTTP_X_CSRFTOKEN=token).status_code == 302
    assert Report.objects.filter(uuid=data["uuid"]).count() == 1


def test_signed_out_script_gets_json_asking_to_sign_in_again(client, report_form_data):
    response = client.post("/report/", report_form_data(), **JSON)
    assert response.status_code == 403 and response.json()["signin"] is True
    assert not Report.objects.exists()


def test_pages_have_a_strict_csp_and_no_inline_script_or_style(observer_client):
    for path in ["/", "/report/", "/my/", "/citizen/", "/signin/"]:
        response = observer_client.get(path)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, path
        page = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert "<style" not in page and " style=" not in page, path
        assert "//cdn" not in page and 'src="http' not in page and 'href="http' not in page


def test_language_can_be_switched_to_english(observer_client):
    response = observer_client.post(
        "/i18n/setlang/", {"language": "en", "next": "/report/"}, follow=True
    )
    page = response.content.decode()
    assert '<html lang="en">' in page and "New report" in page and "Ballot stuffing" in page


def test_form_page_with_its_assets_stays_under_100_kb(observer_client):
    """Everything a phone downloads to show the form: page, stylesheet, scripts, worker."""
    page = observer_client.get("/report/").content
    assets = re.findall(rb'(?:src|href)="(/static/[^"]+)"', page)
    sizes = {"/report/": page, "/sw.js": observer_client.get("/sw.js").content}
    for url in assets:
        path = finders.find(url.decode().removeprefix("/static/"))
        sizes[url.decode()] = open(path, "rb").read()  # noqa: SIM115
    total = sum(len(body) for body in sizes.values())
    compressed = sum(len(gzip.compress(body)) for body in sizes.values())
    for url, body in sizes.items():
        print(f"{url}: {len(body)} bytes")
    print(f"form page total: {total} bytes, {compressed} bytes gzipped")
    assert len(assets) >= 2
    assert total < 100_000


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/report/")
    assert response.status_code == 302 and response["Location"].startswith("/signin/")


def test_a_uuid_another_observer_used_is_refused_and_never_shown(
    observer_client, other_observer_client, report_form_data
):
    data = report_form_data()
    observer_client.post("/report/", data)
    assert other_observer_client.post("/report/", data).status_code == 409
    assert Report.objects.get(uuid=data["uuid"]).observer.pseudonym == "Сова"
    assert other_observer_client.get(f"/my/{data['uuid']}/").status_code == 404


def test_a_category_closed_in_the_admin_is_refused_at_once(
    observer_client, report_form_data, categories
):
    """Categories are validated from a copy kept per process; a change clears it."""
    assert (
        observer_client.post("/report/", report_form_data(category="V3"), **JSON).status_code == 201
    )
    closed = categories["V3"]
    closed.system_only = True
    closed.save()

    refused = observer_client.post("/report/", report_form_data(category="V3"), **JSON)
    assert refused.status_code == 400 and "category" in refused.json()["errors"]
    assert Report.objects.filter(category_id="V3").count() == 1


def test_a_report_from_the_script_costs_four_queries(observer_client, report_form_data):
    """The session, the user with observer and election, the observer's stations, the
    INSERT: what the rehearsal's throughput rests on (docs/benchmarks.md)."""
    own_station = {"station": "101", "station_number": None}  # as the phone's script sends
    observer_client.post("/report/", report_form_data(**own_station), **JSON)  # warm caches
    with CaptureQueriesContext(connection) as queries:
        response = observer_client.post("/report/", report_form_data(**own_station), **JSON)

    assert response.status_code == 201
    statements = [
        q["sql"].split()[0] + " " + q["sql"].split('"')[1]
        for q in queries
        if "SAVEPOINT" not in q["sql"]
    ]
    assert statements == [
        "SELECT django_session",
        "SELECT auth_user",
        "SELECT reports_station",
        "INSERT reports_report",
    ]
