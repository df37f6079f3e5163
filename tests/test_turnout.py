"""Turnout counts at the checkpoints: an observer sends their own tally and the announced
figure, exactly once per client UUID, through the page or its JSON twin."""

import uuid

import pytest

from reports.models import TurnoutCount
from reports.services.protocols import TurnoutInput, turnout_count_submit
from reports.services.submission import ReportConflict

URL = "/protocols/turnout/"


def post(client, station, **fields):
    data = {"uuid": str(uuid.uuid4()), "station": station.pk, "checkpoint": "12"} | fields
    return client.post(URL, data, HTTP_ACCEPT="application/json")


def test_the_form_opens_for_a_signed_in_observer(observer_client):
    page = observer_client.get(URL)
    assert page.status_code == 200
    assert "12:00" in page.text


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert "next=/protocols/turnout/" in response["Location"]


def test_an_observer_sends_a_count(observer_client, observer, stations):
    response = post(observer_client, stations[101], own_tally="412", announced="430")
    assert response.status_code == 201
    count = TurnoutCount.objects.get()
    assert (count.station, count.observer, count.checkpoint) == (stations[101], observer, "12")
    assert (count.own_tally, count.announced) == (412, 430)


def test_sending_the_same_count_twice_stores_it_once(observer_client, stations):
    key = str(uuid.uuid4())
    first = post(observer_client, stations[101], uuid=key, own_tally="412")
    again = post(observer_client, stations[101], uuid=key, own_tally="412")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["status"] == "duplicate"
    assert TurnoutCount.objects.count() == 1


def test_other_content_under_a_used_uuid_is_refused(observer_client, stations):
    key = str(uuid.uuid4())
    post(observer_client, stations[101], uuid=key, own_tally="412")
    response = post(observer_client, stations[101], uuid=key, own_tally="999")
    assert response.status_code == 409
    assert TurnoutCount.objects.get().own_tally == 412


def test_a_count_needs_at_least_one_figure(observer_client, stations):
    response = post(observer_client, stations[101])
    assert response.status_code == 400
    assert "__all__" in response.json()["errors"]
    assert not TurnoutCount.objects.exists()


def test_an_observer_cannot_count_at_a_station_not_theirs(observer_client, stations):
    response = post(observer_client, stations[201], own_tally="10")
    assert response.status_code == 400
    assert "station" in response.json()["errors"]


def test_without_javascript_the_page_redirects_to_the_list(observer_client, stations):
    data = {"uuid": str(uuid.uuid4()), "station": stations[101].pk, "checkpoint": "10"}
    response = observer_client.post(URL, data | {"announced": "120"}, follow=True)
    assert response.redirect_chain[-1][0] == "/protocols/mine/"
    assert "120" in response.text


def test_the_service_refuses_a_replay_with_other_content(observer, stations):
    data = TurnoutInput(uuid=uuid.uuid4(), station=stations[101], checkpoint="15", own_tally=5)
    turnout_count_submit(data=data, observer=observer)
    changed = TurnoutInput(uuid=data.uuid, station=stations[101], checkpoint="18", own_tally=5)
    with pytest.raises(ReportConflict):
        turnout_count_submit(data=changed, observer=observer)
