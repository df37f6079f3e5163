"""Staff read the quick count on its page and as JSON; partners with a full-read token read
the JSON; a coordinator draws the sample in the admin, seeing the margin each size gives."""

import re

import pytest
from django.urls import reverse

from reports.models import QuickCountSample, TokenScope
from reports.services.coverage import observer_check_in
from reports.services.protocols import stations_reconcile
from reports.services.quickcount import quickcount_estimate, quickcount_sample_draw

from .api_helpers import client as api_client
from .api_helpers import token
from .coverage_helpers import at, sweep
from .moderation_fixtures import client_for, staff_user
from .quickcount_helpers import copy_send, official_import, quickcount_election


@pytest.fixture
def estimated(election):
    truth = quickcount_election(election)
    sample = quickcount_sample_draw(election=election, actor=None, size=24, seed=11)
    for station in sample.stations.all():
        copy_send(station, truth[station.number])
    stations_reconcile(election=election)
    official_import(election, truth)
    quickcount_estimate(sample=sample)
    return sample


def json_url(sample: QuickCountSample) -> str:
    return f"{reverse('protocols:quickcount_json')}?election={sample.election_id}"


@pytest.mark.parametrize(("code", "seed"), [("en", "seed 11"), ("ru", "зерно 11")])
def test_a_moderator_reads_the_estimate_beside_the_official_share(estimated, language, code, seed):
    moderator = language(client_for(staff_user("moderator", "masha")), code)
    page = moderator.get(f"{reverse('protocols:quickcount')}?election={estimated.election_id}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Собянин" in text and seed in text
    assert 'class="interval"' in text and 'class="official"' in text
    assert 'id="home-voting"' in text


def test_the_json_gives_every_share_with_its_interval(estimated):
    body = client_for(staff_user("moderator", "masha")).get(json_url(estimated)).json()
    assert body["sample_size"] == 24 and body["stations_reported"] == 24
    leader = body["candidates"][0]
    low, high = leader["ci95"]
    assert low < leader["share"] < high and leader["official_inside"] in (True, False)
    assert 0 <= body["p_leader_above_threshold"] <= 1
    assert body["turnout"]["ci95"][0] < body["turnout"]["share"]
    assert "Cochran" in body["method"]


def test_a_partner_with_a_full_read_token_reads_the_json_and_a_public_one_does_not(estimated):
    assert api_client(token(TokenScope.FULL_READ)).get(json_url(estimated)).status_code == 200
    assert api_client(token(TokenScope.PUBLIC_READ)).get(json_url(estimated)).status_code == 403


def test_an_observer_cannot_read_the_quick_count(estimated, observer_client):
    assert observer_client.get(json_url(estimated)).status_code == 403
    page = observer_client.get(reverse("protocols:quickcount"))
    assert page.status_code in (302, 403)


def test_a_coordinator_draws_a_sample_from_a_target_margin(election):
    quickcount_election(election)
    coordinator = client_for(staff_user("coordinator", "kolya"))
    form = coordinator.get(reverse("admin:reports_quickcountsample_draw"))
    assert 'id="planning"' in form.content.decode()
    answer = coordinator.post(
        reverse("admin:reports_quickcountsample_draw"),
        {"election": election.pk, "margin": "3", "seed": "42", "threshold": "50"},
    )
    sample = QuickCountSample.objects.get()
    assert answer.status_code == 302 and sample.seed == 42
    assert sample.expected_margin <= 0.03 and sample.stations.count() == sample.size


def test_a_moderator_cannot_draw_a_sample(election):
    quickcount_election(election)
    moderator = client_for(staff_user("moderator", "masha"))
    moderator.post(
        reverse("admin:reports_quickcountsample_draw"),
        {"election": election.pk, "size": "10", "threshold": "50"},
    )
    assert not QuickCountSample.objects.exists()


def test_the_coverage_page_shows_the_sample_apart_from_the_rest(election, stations, observer):
    quickcount_election(election)
    sample = quickcount_sample_draw(election=election, actor=None, size=10, seed=4)
    sample.stations.add(stations[101])
    observer_check_in(observer=observer, station=stations[101], now=at(election, "07:20"))
    sweep(election, at(election, "07:30"))
    page = client_for(staff_user("coordinator", "kolya")).get("/coverage/").content.decode()
    section = page.split('id="quickcount-coverage"')[1].split("</section>")[0]
    sampled, rest = re.findall(r"<tr><th>[^<]*</th>((?:<td>\d+</td>)+)</tr>", section)
    assert re.findall(r"\d+", sampled)[:3] == [str(sample.stations.count()), "1", "1"]
    assert re.findall(r"\d+", rest)[:3] == [str(64 - sample.stations.count()), "0", "0"]
