"""Moderators and analysts see the results side by side and the statistics with charts and
the methods cited, as pages and as JSON; observers and visitors do not."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from reports.models import StationFlag, StationReconciliation, StatisticsRun
from reports.services.protocols import (
    statistics_run_execute,
    statistics_run_request,
)

from .coverage_helpers import tasks_in_process  # noqa: F401 (a fixture)
from .statistics_helpers import official_results_with_full_turnout


@pytest.fixture
def results(election, stations):
    """Thirty stations of one TIK plus the fixture's four, the last one at 100 % turnout."""
    official_results_with_full_turnout(election)
    run = StatisticsRun.objects.create(election=election)
    statistics_run_execute(run_id=run.pk)
    return election


@pytest.fixture
def analyst(moderator) -> Client:
    codenames = ["view_resulttotal", "view_statisticsrun", "add_statisticsrun"]
    moderator.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(moderator)
    return client


def test_the_statistics_page_shows_the_charts_and_cites_the_methods(analyst, results):
    page = analyst.get(f"/protocols/statistics/?election={results.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert page.text.count("<svg") == 5
    assert "Annals of Applied Statistics" in page.text
    assert "Mebane" in page.text and "Shpilkin" in page.text


def test_p_values_read_in_one_notation_however_small(analyst, results):
    run = StatisticsRun.objects.get(election=results)
    run.result["digits"]["all"]["second_digit"]["p_value"] = 1.0032717938862528e-208
    run.result["digits"]["all"]["last_digit"]["p_value"] = 0.25
    run.save()
    page = analyst.get(f"/protocols/statistics/?election={results.pk}")
    assert "<td>1.0e-208</td>" in page.text
    assert "<td>0.250</td>" in page.text
    assert "e-208</td>" not in page.text.replace("<td>1.0e-208</td>", "")


def test_the_statistics_json_has_every_test(analyst, results):
    body = analyst.get(f"/protocols/statistics.json?election={results.pk}").json()
    result = body["result"]
    assert result["stations"] == 31
    assert result["leader"] == "Иванов"
    assert set(result) >= {"shpilkin", "integer_percentages", "digits", "flags"}
    assert "Kobak" in body["methods"]["integer_percentages"]


def test_full_turnout_is_flagged_and_listed_for_moderators(analyst, results):
    assert StationFlag.objects.get(kind="full_turnout").uik == 31
    body = analyst.get(f"/protocols/statistics.json?election={results.pk}").json()
    assert body["result"]["flags"]["full_turnout"] == 1


def test_the_results_page_uses_the_commissions_convention(analyst, results):
    body = analyst.get(f"/protocols/results.json?election={results.pk}").json()
    (row,) = body["levels"]["election"]
    official = row["official"]
    boxes = official["ballots_in_boxes"]
    assert official["shares"]["c1"] == pytest.approx(official["votes"]["c1"] / boxes)
    assert official["stations"] == 31
    page = analyst.get(f"/protocols/results/?election={results.pk}")
    assert f"{100 * official['turnout']:.2f}" in page.text


@pytest.mark.usefixtures("tasks_in_process")
def test_asking_for_statistics_again_computes_a_new_run(
    analyst, results, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = analyst.post(f"/protocols/statistics/run/?election={results.pk}")
    assert response.status_code == 302
    assert StatisticsRun.objects.filter(election=results).count() == 2
    assert not StatisticsRun.objects.filter(status=StatisticsRun.Status.PENDING).exists()


def test_the_service_queues_a_run_for_the_workers(results):
    run = statistics_run_request(election=results)
    assert run.status == StatisticsRun.Status.PENDING


@pytest.mark.parametrize(
    "url", ["/protocols/statistics/", "/protocols/statistics.json", "/protocols/results.json"]
)
def test_observers_and_visitors_see_no_statistics(url, observer_client, client, results):
    assert observer_client.get(url).status_code == 302
    assert client.get(url).status_code == 302


def test_the_charts_fit_their_axes_to_the_data_with_the_full_range_a_click_away(analyst, results):
    fitted = analyst.get(f"/protocols/statistics/?election={results.pk}").content.decode()
    full = analyst.get(f"/protocols/statistics/?election={results.pk}&range=full").content.decode()

    def first_x_label(page: str) -> str:
        return re.findall(r'text-anchor="middle">(\d+)</text>', page)[0]

    # The stations' turnouts lie between 41 % and 100 %: the fitted axis starts at 30.
    assert (first_x_label(fitted), first_x_label(full)) == ("30", "0")
    assert "range=full" in fitted


def test_statistics_of_observers_copies_flag_the_copies_that_differ(results, stations):
    lines = {"voters": 1000, "received": 600, "early": 0, "inside": 590, "outside": 10,
             "cancelled": 0, "portable": 10, "stationary": 590, "invalid": 5, "valid": 595,
             "lost": 0, "unaccounted": 0, "c1": 400, "c2": 195}  # fmt: skip
    for number, differs in [(101, True), (102, False), (201, False)]:
        StationReconciliation.objects.create(
            election=results, station=stations[number], copies=1, lines=lines,
            differs_from_official=differs,
        )  # fmt: skip
    run = StatisticsRun.objects.create(election=results, source="observers")
    statistics_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.result["stations"]) == ("done", 3)
    assert run.result["flags"]["copy_differs"] == 1
    flag = StationFlag.objects.get(run=run, kind="copy_differs")
    assert (flag.uik, flag.tik, flag.station_id) == (101, "Арбат", stations[101].pk)
