"""A coordinator draws a quick-count sample; copies from sampled stations are estimated by the
worker and compared with the official results once they are imported."""

import pytest

from reports.models import AuditEntry, QuickCountSample
from reports.services.protocols import stations_reconcile
from reports.services.quickcount import quickcount_estimate, quickcount_sample_draw

from .coverage_helpers import tasks_in_process  # noqa: F401 (a fixture)
from .quickcount_helpers import copy_send, official_import, quickcount_election


@pytest.fixture
def truth(election):
    return quickcount_election(election)


def sampled(sample: QuickCountSample) -> list:
    return list(sample.stations.order_by("number"))


def test_a_sample_drawn_again_with_its_seed_is_the_same(election, truth, moderator):
    first = quickcount_sample_draw(election=election, actor=moderator, size=12, seed=5)
    again = quickcount_sample_draw(election=election, actor=moderator, size=12, seed=5)
    assert sampled(first) == sampled(again) and first.size == 12
    okrugs = {station.okrug.name for station in sampled(first)}
    assert okrugs == {"ЗАО", "СВАО", "ЮАО"}
    assert AuditEntry.objects.filter(action="quickcount_sample_draw").count() == 2


def test_a_target_margin_chooses_the_size_and_shows_the_expected_margin(election, truth):
    sample = quickcount_sample_draw(election=election, actor=None, margin=0.03)
    assert 0 < sample.expected_margin <= 0.03
    assert sample.size < 60


def test_the_estimate_narrows_as_copies_arrive_and_holds_the_city_share(election, truth):
    sample = quickcount_sample_draw(election=election, actor=None, size=30, seed=1)
    widths = []
    for count in (10, 30):
        for station in sampled(sample)[:count]:
            copy_send(station, truth[station.number])
        stations_reconcile(election=election)
        result = quickcount_estimate(sample=sample)
        low, high = result["candidates"][0]["ci95"]
        widths.append(high - low)
    assert result["stations_reported"] == 30 and not result["too_few"]
    assert widths[1] < widths[0]
    official_import(election, truth)
    result = quickcount_estimate(sample=sample)
    leader = result["candidates"][0]
    assert leader["official_inside"] is True
    assert 0.45 < leader["official"] < 0.56
    assert len(result["okrugs"]) == 3


def test_copies_failing_control_or_disagreeing_are_left_out(
    election, truth, observer, other_observer
):
    sample = quickcount_sample_draw(election=election, actor=None, size=9, seed=2)
    first, second, third, *_rest = sampled(sample)
    broken = truth[first.number] | {"c1": truth[first.number]["c1"] + 50}
    copy_send(first, broken)
    copy_send(second, truth[second.number], observer)
    copy_send(second, truth[second.number] | {"c1": 1, "c2": 2}, other_observer)
    copy_send(third, truth[third.number])
    stations_reconcile(election=election)
    result = quickcount_estimate(sample=sample)
    assert result["left_out"] == {"control": [first.number], "disagreement": [second.number]}
    assert result["stations_reported"] == 1 and result["too_few"]


@pytest.mark.usefixtures("tasks_in_process")
def test_the_worker_estimates_after_a_sampled_station_sends_its_copy(
    election, truth, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sample = quickcount_sample_draw(election=election, actor=None, size=6, seed=3)
    station = sampled(sample)[0]
    with django_capture_on_commit_callbacks(execute=True):
        copy_send(station, truth[station.number])
    sample.refresh_from_db()
    assert sample.estimate["stations_reported"] == 1
    assert sample.estimate["p_leader_above_threshold"] is not None


def test_home_voting_is_set_against_the_leader_margin(election, truth):
    sample = quickcount_sample_draw(election=election, actor=None, size=6, seed=3)
    official_import(election, truth)
    home = quickcount_estimate(sample=sample)["home_voting"]
    assert home["source"] == "official"
    assert home["home_votes"] == sum(lines["outside"] for lines in truth.values())
    assert home["leader"] == "Собянин"
    assert "ci95" in home["regression"]["leader_share_among_home"]
