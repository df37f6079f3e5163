"""Anonymous citizens report without an account: low trust, marked as such, rate-limited per
address, and never shown anything but a thank-you."""

import random

import pytest
from django.test import Client

from reports.models import Channel, Election, Report, ReporterRole, Trust

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen(remote_addr) -> Client:
    return Client(REMOTE_ADDR=remote_addr)


def test_citizen_form_asks_for_the_station_number_and_no_help(citizen, stations):
    page = citizen.get("/citizen/").content.decode()
    assert 'name="station_number"' in page and 'name="station"' not in page
    assert "needs_lawyer" not in page and "needs_mobile_group" not in page
    assert "анонимного гражданина" in page


def test_citizen_report_is_stored_with_citizen_trust_and_channel(citizen, report_form_data):
    data = report_form_data(station_number="201", needs_lawyer="on")
    response = citizen.post("/citizen/", data, follow=True)

    report = Report.objects.get(uuid=data["uuid"])
    assert response.redirect_chain == [("/citizen/thanks/", 302)]
    assert (report.channel, report.trust) == (Channel.CITIZEN, Trust.CITIZEN)
    assert report.reporter_role == ReporterRole.CITIZEN and report.observer is None
    assert report.station.number == 201 and not report.needs_lawyer


def test_thank_you_page_shows_nothing_of_any_report(
    citizen, observer_client, report_form_data, language
):
    observer_client.post("/report/", report_form_data(description="Секрет наблюдателя"))
    response = citizen.post(
        "/citizen/", report_form_data(description="Мой собственный текст"), follow=True
    )
    page = response.content.decode()
    assert "Спасибо" in page
    assert "Секрет наблюдателя" not in page and "Мой собственный текст" not in page
    assert "/my/" not in page


def test_a_replayed_citizen_report_is_stored_once(citizen, report_form_data):
    data = report_form_data()
    citizen.post("/citizen/", data)
    response = citizen.post("/citizen/", data, follow=True)
    assert Report.objects.filter(uuid=data["uuid"]).count() == 1
    assert response.redirect_chain == [("/citizen/thanks/", 302)]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ru", "Слишком много сообщений из вашей сети"),
        ("en", "Too many reports from your network"),
    ],
)
def test_citizen_reports_are_rate_limited_per_address(
    citizen, report_form_data, settings, language, code, message
):
    settings.CITIZEN_REPORT_RATE = "2/h"
    for _ in range(2):
        assert citizen.post("/citizen/", report_form_data()).status_code == 302
    response = language(citizen, code).post("/citizen/", report_form_data())

    assert response.status_code == 429
    assert message in response.content.decode()
    assert Report.objects.count() == 2
    elsewhere = Client(REMOTE_ADDR=f"198.51.100.{random.randrange(1, 255)}").post(
        "/citizen/", report_form_data()
    )
    assert elsewhere.status_code == 302


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ru", "Введите номер избирательного участка"),
        ("en", "Type the number of the polling station"),
    ],
)
def test_citizen_must_give_a_station_number(citizen, report_form_data, language, code, message):
    response = language(citizen, code).post("/citizen/", report_form_data(station_number=""))
    assert message in response.content.decode()
    assert not Report.objects.exists()


def test_citizen_cannot_open_anyones_reports(citizen, observer_client, report_form_data):
    data = report_form_data()
    observer_client.post("/report/", data)
    assert citizen.get("/my/").status_code == 302
    assert citizen.get(f"/my/{data['uuid']}/").status_code == 302


def test_no_form_when_no_election_is_open(citizen, election):
    Election.objects.update(is_active=False)
    assert citizen.get("/citizen/").status_code == 404
