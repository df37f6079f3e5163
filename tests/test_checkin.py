"""An observer's check-in: one tap on "I am at station N" at arrival and after any move."""

import pytest

from reports.models import Assignment, AuditEntry, Election, Okrug, Station, Tik
from reports.services.coverage import CoverageRefused, observer_check_in

pytestmark = pytest.mark.django_db


def assignment_of(observer, station) -> Assignment:
    return Assignment.objects.get(observer=observer, station=station)


def test_the_home_page_leads_an_observer_to_the_check_in(observer_client):
    assert 'href="/checkin/"' in observer_client.get("/").content.decode()


def test_the_page_offers_one_tap_per_assigned_station(observer_client):
    page = observer_client.get("/checkin/").content.decode()
    assert 'name="station_number" value="101"' in page
    assert "Я на участке 101" in page


def test_one_tap_checks_the_observer_in(observer_client, observer, stations):
    response = observer_client.post("/checkin/", {"station_number": "101"}, follow=True)
    assert "Вы отметились на участке 101. Спасибо!" in response.content.decode()
    assignment = assignment_of(observer, stations[101])
    assert assignment.status == Assignment.Status.ARRIVED
    assert assignment.checked_in_at is not None


def test_the_check_in_is_in_the_audit_log_under_the_observer(observer_client, observer):
    observer_client.post("/checkin/", {"station_number": "101"})
    entry = AuditEntry.objects.get(action="observer_check_in")
    assert (entry.actor, entry.before["status"], entry.after["status"]) == (
        observer.user,
        "planned",
        "arrived",
    )
    assert entry.after["observer"] == "Сова"


def test_tapping_again_changes_nothing(observer_client, observer, stations):
    observer_client.post("/checkin/", {"station_number": "101"})
    first = assignment_of(observer, stations[101]).checked_in_at
    response = observer_client.post("/checkin/", {"station_number": "101"}, follow=True)
    assert "Вы уже отметились на участке 101." in response.content.decode()
    assert assignment_of(observer, stations[101]).checked_in_at == first
    assert AuditEntry.objects.filter(action="observer_check_in").count() == 1


def test_checking_in_elsewhere_leaves_the_previous_station(observer_client, observer, stations):
    observer_client.post("/checkin/", {"station_number": "101"})
    observer_client.post("/checkin/", {"station_number": "102"})
    assert assignment_of(observer, stations[101]).status == Assignment.Status.LEFT
    assert assignment_of(observer, stations[102]).status == Assignment.Status.ARRIVED


def test_an_unknown_station_number_is_explained(observer_client, observer):
    response = observer_client.post("/checkin/", {"station_number": "9999"})
    assert response.status_code == 400
    assert "Участка 9999 в этих выборах нет." in response.content.decode()
    assert not observer.assignments.exclude(status=Assignment.Status.PLANNED).exists()


def test_a_station_of_another_election_is_refused(observer):
    other = Election.objects.create(name="Другие выборы", date=observer.election.date)
    okrug = Okrug.objects.create(election=other, name="ЦАО")
    tik = Tik.objects.create(okrug=okrug, name="Арбат")
    station = Station.objects.create(election=other, okrug=okrug, tik=tik, number=101)
    with pytest.raises(CoverageRefused):
        observer_check_in(observer=observer, station=station)


def test_the_observer_can_say_they_left(observer_client, observer, stations):
    observer_client.post("/checkin/", {"station_number": "101"})
    assignment = assignment_of(observer, stations[101])
    observer_client.post("/checkin/left/", {"assignment": assignment.pk})
    assert assignment_of(observer, stations[101]).status == Assignment.Status.LEFT


def test_an_observer_cannot_end_someone_elses_check_in(observer_client, other_observer, stations):
    observer_check_in(observer=other_observer, station=stations[201])
    theirs = assignment_of(other_observer, stations[201])
    observer_client.post("/checkin/left/", {"assignment": theirs.pk})
    assert assignment_of(other_observer, stations[201]).status == Assignment.Status.ARRIVED


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client):
    response = client.get("/checkin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")
