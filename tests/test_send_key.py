"""The form's script sends incident reports with the phone's send key (views.report_send):
the same answers as the form's own address, the observer found in one query without the
session, and a key that ends when the phone signs out, signs in again or its link is
revoked."""

import datetime as dt
import re

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from reports.models import Channel, Evidence, Report, ReporterRole, SignInSession, Trust
from reports.services.observers import signin_link_revoke
from reports.services.signin import SEND_KEY_SALT
from reports.tasks.housekeeping import sessions_housekeeping

from .test_submit_report import BAD_INPUT

pytestmark = pytest.mark.django_db

SEND = "/report/send/"
OWN_STATION = {"station": "101", "station_number": None}  # as the phone's script sends


def send_key(client: Client) -> str:
    """The key the form page gives its script."""
    page = client.get("/report/").content.decode()
    return re.search(r'data-send-key="([^"]*)"', page)[1]


def script(key: str) -> dict[str, str]:
    return {"HTTP_ACCEPT": "application/json", "HTTP_AUTHORIZATION": f"SendKey {key}"}


def test_the_form_page_gives_its_script_the_key_and_the_address(observer_client):
    page = observer_client.get("/report/").content.decode()
    assert f'data-send="{SEND}"' in page
    assert len(send_key(observer_client)) > 20


def test_a_report_sent_with_the_key_is_stored_once_as_the_observers(
    observer_client, observer, report_form_data
):
    key = send_key(observer_client)
    data = report_form_data(**OWN_STATION, needs_lawyer="on")
    phone = Client()  # the key alone, without the session's cookie
    first = phone.post(SEND, data, **script(key))
    again = phone.post(SEND, data, **script(key))

    assert first.status_code == 201
    assert first.json() == {
        "status": "received",
        "url": f"/my/{data['uuid']}/?received=received&files=0",
        "files": [],
    }
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    report = Report.objects.get(uuid=data["uuid"])
    assert report.observer == observer and report.station.number == 101
    assert (report.channel, report.trust, report.reporter_role) == (
        Channel.WEB,
        Trust.TRAINED,
        ReporterRole.OBSERVER,
    )
    assert report.needs_lawyer and report.description == "Пачка бюллетеней в урне №2"


def test_a_station_typed_by_number_is_found_in_the_observers_election(
    observer_client, report_form_data
):
    data = report_form_data(station="other", station_number="3601")
    response = observer_client.post(SEND, data, **script(send_key(observer_client)))
    assert response.status_code == 201
    assert Report.objects.get(uuid=data["uuid"]).station.number == 3601


def test_a_report_queued_for_a_station_no_longer_assigned_is_accepted(
    observer_client, report_form_data
):
    """A report written at station 201 and sent after the coordinator moved the observer:
    any station of the election is accepted by number."""
    data = report_form_data(station="201", station_number=None)
    response = observer_client.post(SEND, data, **script(send_key(observer_client)))
    assert response.status_code == 201
    assert Report.objects.get(uuid=data["uuid"]).station.number == 201


def test_a_different_report_under_a_used_uuid_is_a_conflict(observer_client, report_form_data):
    key = send_key(observer_client)
    data = report_form_data(**OWN_STATION)
    observer_client.post(SEND, data, **script(key))
    conflict = observer_client.post(SEND, {**data, "count": "13"}, **script(key))
    assert conflict.status_code == 409 and "Другое сообщение с этим" in conflict.json()["error"]
    assert Report.objects.get(uuid=data["uuid"]).count == 12


KEYS_REFUSED = {
    "no header": None,
    "not a key": "SendKey 12345",
    "forged": "SendKey {key}x",
    "signed for something else": "SendKey {other}",
    "another scheme": "Token {key}",
}


@pytest.mark.parametrize("header", KEYS_REFUSED.values(), ids=KEYS_REFUSED.keys())
def test_a_missing_or_forged_key_is_asked_to_sign_in_and_nothing_is_stored(
    observer_client, report_form_data, header
):
    """The session's cookie alone is not enough either: another site could make the
    browser send it, but not this header."""
    key = send_key(observer_client)
    other = signing.dumps(SignInSession.objects.get().pk)  # the same id, without the salt
    headers = {"HTTP_ACCEPT": "application/json"}
    if header is not None:
        headers["HTTP_AUTHORIZATION"] = header.format(key=key, other=other)
    response = observer_client.post(SEND, report_form_data(**OWN_STATION), **headers)

    assert response.status_code == 403
    assert response.json() == {
        "error": "Вы вышли из системы. Откройте свою личную ссылку ещё раз.",
        "signin": True,
    }
    assert not Report.objects.exists()


# A plain report is checked by the statement that stores it; one the form must read, by the
# query that finds its observer first (views.report_send): both ways end with the key.
BOTH_WAYS = pytest.mark.parametrize(
    "body", [OWN_STATION, {"station": "other", "station_number": "101"}], ids=["plain", "full"]
)


@BOTH_WAYS
def test_revoking_the_link_ends_its_keys(observer_client, observer_link, report_form_data, body):
    key = send_key(observer_client)
    Client().post(SEND, report_form_data(**body), **script(key))  # the copies are warm
    signin_link_revoke(link=observer_link.link)

    response = Client().post(SEND, report_form_data(**body), **script(key))
    assert response.status_code == 403 and response.json()["signin"] is True
    assert Report.objects.count() == 1


@BOTH_WAYS
def test_signing_out_ends_the_phones_key(observer_client, report_form_data, body):
    key = send_key(observer_client)
    observer_client.post("/signout/")

    response = Client().post(SEND, report_form_data(**body), **script(key))
    assert response.status_code == 403
    assert not Report.objects.exists()


def test_a_report_takes_the_observers_trust_when_it_arrives(
    observer_client, observer, report_form_data
):
    """The key names the observer; their role and trust are read with the report's INSERT."""
    key = send_key(observer_client)
    observer.trust, observer.legal_status = Trust.TRUSTED, ReporterRole.JOURNALIST
    observer.save()

    data = report_form_data(**OWN_STATION)
    assert Client().post(SEND, data, **script(key)).status_code == 201
    report = Report.objects.get(uuid=data["uuid"])
    assert (report.trust, report.reporter_role) == (Trust.TRUSTED, ReporterRole.JOURNALIST)


def test_a_key_issued_before_keys_named_the_observer_still_sends(
    observer_client, observer, report_form_data
):
    """Keys in phones since before issue 18 name only the session's row: the full way."""
    old_key = signing.dumps(SignInSession.objects.get().pk, salt=SEND_KEY_SALT)
    data = report_form_data(**OWN_STATION)
    response = Client().post(SEND, data, **script(old_key))
    assert response.status_code == 201
    assert Report.objects.get(uuid=data["uuid"]).observer == observer


def test_signing_in_again_on_the_phone_replaces_its_key(client, observer_link, report_form_data):
    client.get(f"/signin/{observer_link.token}/")
    old = send_key(client)
    client.get(f"/signin/{observer_link.token}/")
    new = send_key(client)

    assert new != old
    assert client.post(SEND, report_form_data(**OWN_STATION), **script(old)).status_code == 403
    assert client.post(SEND, report_form_data(**OWN_STATION), **script(new)).status_code == 201


@BOTH_WAYS
def test_a_deactivated_observer_can_no_longer_send(
    observer_client, observer, report_form_data, body
):
    key = send_key(observer_client)
    observer.user.is_active = False
    observer.user.save()

    assert Client().post(SEND, report_form_data(**body), **script(key)).status_code == 403
    assert not Report.objects.exists()


def test_a_key_older_than_a_session_may_live_is_refused(
    observer_client, report_form_data, settings
):
    key = send_key(observer_client)
    settings.SESSION_COOKIE_AGE = -1  # every key is older than that

    assert Client().post(SEND, report_form_data(), **script(key)).status_code == 403


@pytest.mark.parametrize(
    ("field", "value", "russian", "english"),
    [row for row in BAD_INPUT if row[0] != "station"],
)
@pytest.mark.parametrize("code", ["ru", "en"])
def test_bad_input_is_explained_in_the_observers_language(
    observer_client, report_form_data, language, field, value, russian, english, code
):
    key = send_key(observer_client)
    data = report_form_data(**{field: value})
    response = language(observer_client, code).post(SEND, data, **script(key))

    assert response.status_code == 400
    messages = [m for items in response.json()["errors"].values() for m in items]
    assert any((russian if code == "ru" else english) in m for m in messages), messages
    assert not Report.objects.exists()


def test_a_photo_sent_with_the_key_is_attached(observer_client, report_form_data, jpeg_bytes):
    data = report_form_data(**OWN_STATION)
    data["evidence"] = SimpleUploadedFile("ящик.jpg", jpeg_bytes(), "image/jpeg")
    response = observer_client.post(SEND, data, **script(send_key(observer_client)))

    assert response.status_code == 201
    assert response.json()["files"] == [{"name": "ящик.jpg", "accepted": True, "message": ""}]
    assert Evidence.objects.get().report.uuid == Report.objects.get().uuid


def statements_of(client: Client, data: dict, key: str) -> list[str]:
    executed = []

    def record(execute, sql, params, many, context):
        executed.append(" ".join(sql.split()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.post(SEND, data, **script(key))
    assert response.status_code == 201
    return [sql for sql in executed if "SAVEPOINT" not in sql]


def test_a_plain_report_costs_one_statement_that_also_checks_the_key(
    observer_client, report_form_data
):
    """The INSERT … SELECT stores the report only while the key's session holds; the
    session is not read although its cookie comes along: what the throughput beside the
    floor rests on (docs/benchmarks.md)."""
    key = send_key(observer_client)
    observer_client.post(SEND, report_form_data(**OWN_STATION), **script(key))  # warm copies
    [statement] = statements_of(observer_client, report_form_data(**OWN_STATION), key)
    assert statement.startswith('INSERT INTO "reports_report"')
    assert "reports_signinsession" in statement and "django_session" not in statement


def test_a_report_the_form_must_read_costs_two_queries(observer_client, report_form_data):
    """The full way (here: a station number beside the chosen station, which the form
    checks): the observer with the station, then the INSERT."""
    key = send_key(observer_client)
    data = {"station": "101", "station_number": "101"}
    observer_client.post(SEND, report_form_data(**data), **script(key))  # warm caches
    statements = statements_of(observer_client, report_form_data(**data), key)
    assert [sql.split()[0] for sql in statements] == ["SELECT", "INSERT"]
    assert "reports_signinsession" in statements[0] and "django_session" not in statements[0]
    assert "reports_report" in statements[1]


def test_postgresql_prepares_the_statements_of_a_report(observer_client, report_form_data):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's; .ci/run sets DATABASE_URL")
    key = send_key(observer_client)
    for _ in range(2):
        observer_client.post(SEND, report_form_data(**OWN_STATION), **script(key))
        observer_client.post(SEND, report_form_data(), **script(key))

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any(s.startswith("\n        SELECT") and "reports_signinsession" in s for s in prepared)
    assert any(
        s.startswith('INSERT INTO "reports_report"') and "reports_signinsession" not in s
        for s in prepared
    )
    assert any(
        s.startswith('INSERT INTO "reports_report"') and "reports_signinsession" in s
        for s in prepared
    )


def test_housekeeping_forgets_sessions_older_than_a_session_may_live(
    observer_client, report_form_data, settings
):
    key = send_key(observer_client)
    recent = SignInSession.objects.create(
        link=SignInSession.objects.get().link, session_key="recent"
    )
    SignInSession.objects.exclude(pk=recent.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    )

    assert sessions_housekeeping() == 1

    assert list(SignInSession.objects.all()) == [recent]
    assert Client().post(SEND, report_form_data(), **script(key)).status_code == 403
