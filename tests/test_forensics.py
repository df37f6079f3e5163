"""Election statistics on small inputs whose answers are known by construction, and end to
end on the shared Moscow files (skipped when shared/data is absent)."""

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command
from scipy.stats import binom

from reports.domain import forensics
from reports.domain.forensics import Stations
from reports.models import Election, StationFlag, StatisticsRun
from reports.services.protocols import statistics_run_execute

DATA = Path(settings.BASE_DIR).parent / "shared" / "data"


def stations_of(voters, issued, leader, others, **extra) -> Stations:
    leader, others = np.asarray(leader), np.asarray(others)
    return Stations.build(
        voters=voters,
        issued=issued,
        outside=extra.pop("outside", np.zeros(len(leader))),
        in_boxes=leader + others,
        votes=np.column_stack([leader, others]),
        **extra,
    )


# Integer percentages


@pytest.mark.parametrize(
    ("part", "whole", "integer"),
    [(50, 100, True), (1, 1000, False), (3305, 10000, True), (3306, 10000, False),
     (3295, 10000, True), (3294, 10000, False), (0, 500, True), (1, 3, False)],
)  # fmt: skip
def test_a_percentage_within_a_twentieth_of_a_point_is_integer(part, whole, integer):
    assert bool(forensics.is_integer_percent([part], [whole])[0]) is integer


def brute_force_probability(n: int, p: float) -> float:
    """Sum the binomial probabilities of every count whose percentage is integer."""
    counts = np.arange(n + 1)
    return float(binom.pmf(counts, n, p)[forensics.is_integer_percent(counts, n)].sum())


def test_every_count_of_a_hundred_voters_is_a_whole_percent():
    assert forensics.integer_probability([100], [0.37])[0] == pytest.approx(1.0)


def test_two_hundred_voters_give_a_whole_percent_exactly_when_the_count_is_even():
    # P(X even) = (1 + (1 − 2p)^n) / 2 = 1/2 for p = 1/2.
    assert forensics.integer_probability([200], [0.5])[0] == pytest.approx(0.5)


@pytest.mark.parametrize(("n", "p"), [(150, 0.3), (1000, 0.5), (1234, 0.61), (2917, 0.08)])
def test_the_windowed_probability_equals_a_sum_over_every_count(n, p):
    assert forensics.integer_probability([n], [p])[0] == pytest.approx(
        brute_force_probability(n, p), abs=1e-9
    )


def test_injected_integer_turnouts_are_counted_and_the_expectation_is_exact():
    # 40 stations of 1005 voters: 10 at exactly 60 % turnout (603), 30 at 59.70 % (600).
    voters = np.full(40, 1005)
    issued = np.array([603] * 10 + [600] * 30)
    leader = issued * 3 // 7  # 42.79 % and 42.83 %: never integer
    result = forensics.integer_percentages(stations_of(voters, issued, leader, issued - leader))
    expected = sum(brute_force_probability(1005, g / 1005) for g in issued)
    assert result["turnout"]["observed"] == 10
    assert result["turnout"]["expected"] == pytest.approx(expected, abs=1e-6)
    assert result["leader"]["observed"] == 0


def test_an_injected_excess_stands_out_from_binomial_noise():
    rng = np.random.default_rng(2016)
    voters = rng.integers(800, 2500, 3000)
    issued = rng.binomial(voters, 0.55)
    leader = rng.binomial(issued, 0.5)
    honest = forensics.integer_percentages(stations_of(voters, issued, leader, issued - leader))
    issued[:150] = np.round(voters[:150] * 0.65).astype(int)  # 150 stations at 65 %
    leader = np.minimum(leader, issued)
    faked = forensics.integer_percentages(stations_of(voters, issued, leader, issued - leader))
    assert abs(honest["turnout"]["z"]) < 4
    assert faked["turnout"]["z"] > 5


def test_stations_outside_the_inclusion_rules_are_left_out():
    voters = [99, 1000, 1000, 1000]
    issued = [50, 995, 500, 500]  # under 100 voters; turnout above 99 %
    leader = [25, 500, 496, 250]  # the third: leader above 99 %
    others = [25, 495, 4, 250]
    assert (
        forensics.integer_percentages(stations_of(voters, issued, leader, others))["stations"] == 1
    )


# Digits


def test_second_digit_mean_of_benfords_law_is_4_187():
    assert (forensics.BENFORD_SECOND * np.arange(10)).sum() == pytest.approx(4.187, abs=5e-4)


def test_every_two_digit_number_once_gives_uniform_second_digits():
    summary = forensics.digit_summary(np.arange(1, 100))  # 1–9 are below the cut and ignored
    expected = 90 * forensics.BENFORD_SECOND
    assert summary["counts"] == 90
    assert summary["second_digit"]["mean"] == 4.5
    assert summary["second_digit"]["chi2"] == pytest.approx(((9 - expected) ** 2 / expected).sum())


def test_a_geometric_sequence_follows_benford():
    counts = np.round(10 ** np.linspace(4, 9, 100_000)).astype(np.int64)
    summary = forensics.digit_summary(counts)
    assert summary["second_digit"]["mean"] == pytest.approx(4.187, abs=0.02)


def test_a_hundred_consecutive_counts_have_uniform_last_digits():
    summary = forensics.digit_summary(np.arange(10, 110))
    assert summary["last_digit"]["mean"] == 4.5
    assert summary["last_digit"]["share_0_or_5"] == 0.2
    assert summary["last_digit"]["chi2"] == 0
    assert summary["last_digit"]["p_value"] == pytest.approx(1.0)


def test_counts_rounded_to_five_show_in_the_last_digit():
    summary = forensics.digit_summary(np.arange(10, 1010, 5))
    assert summary["last_digit"]["share_0_or_5"] == 1.0
    assert summary["last_digit"]["p_value"] < 1e-10


# Shpilkin


def shpilkin_stations() -> tuple[Stations, int]:
    """Turnouts 30–50 %: the leader has exactly as many votes as everyone else (k = 1), and
    most stations sit at 40 %. Turnouts 60–80 %: 3 stations each whose leader has 10·t − 100
    votes against 100 for everyone else, so 10·t − 200 of them are anomalous."""
    voters, issued, leader, others = [], [], [], []
    for t in range(30, 51):
        for _station in range(20 - abs(t - 40)):
            voters.append(1000), issued.append(10 * t)
            leader.append(5 * t), others.append(5 * t)
    anomalous = 0
    for t in range(60, 81):
        for _station in range(3):
            voters.append(1000), issued.append(10 * t)
            leader.append(10 * t - 100), others.append(100)
            anomalous += 10 * t - 200
    return stations_of(voters, issued, leader, others), anomalous


def test_shpilkin_finds_the_peak_and_the_honest_ratio():
    stations, _anomalous = shpilkin_stations()
    result = forensics.shpilkin(stations)
    assert result["peak_bin"] == 40
    assert result["honest_ratio"] == 1.0


def test_shpilkin_counts_exactly_the_votes_added_above_the_peak():
    stations, anomalous = shpilkin_stations()
    result = forensics.shpilkin(stations)
    assert result["anomalous_votes"] == anomalous
    leader, boxes = stations.leader_votes.sum(), stations.in_boxes.sum()
    assert result["corrected_leader_share"] == pytest.approx(
        (leader - anomalous) / (boxes - anomalous)
    )
    assert result["corrected_turnout"] == pytest.approx(
        (stations.issued.sum() - anomalous) / stations.voters.sum()
    )


def test_honest_stations_have_no_anomalous_votes():
    voters = [1000] * 5
    issued = [300, 400, 400, 500, 700]
    result = forensics.shpilkin(stations_of(voters, issued, np.array(issued) // 2,
                                            np.array(issued) // 2))  # fmt: skip
    assert result["anomalous_votes"] == 0


# Station flags


def test_robust_z_measures_distance_in_scaled_median_absolute_deviations():
    z = forensics.robust_z(np.array([1.0, 2, 3, 4, 100]), np.zeros(5))
    assert z[4] == pytest.approx(97 / 1.4826)
    assert z[2] == 0


def test_robust_z_is_not_computed_for_tiny_groups():
    z = forensics.robust_z(np.array([1.0, 2, 3, 4, 100, 5]), np.array([0, 0, 0, 0, 0, 1]))
    assert np.isnan(z[5])


def test_full_turnout_is_flagged_outside_temporary_stations_only():
    flags = forensics.station_flags(
        stations_of(
            [500, 500, 500],
            [500, 500, 300],
            [250, 250, 150],
            [250, 250, 150],
            temporary=[False, True, False],
        )
    )
    mask, _values = flags["full_turnout"]
    assert mask.tolist() == [True, False, False]


def test_a_station_voting_at_home_far_above_its_region_is_flagged():
    outside = [20, 22, 25, 18, 21, 24, 19, 23, 200]
    stations = stations_of([1000] * 9, [500] * 9, [250] * 9, [250] * 9, outside=outside)
    mask, values = forensics.station_flags(stations)["home_voting"]
    assert mask.tolist() == [False] * 8 + [True]
    assert values[8] == pytest.approx(0.4)


# End to end on the shared Moscow files


def moscow_statistics(name: str, date: str) -> dict:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"real data: {path} absent (shared/data is not part of the repository)")
    call_command("import_results", str(path), name=name, date=date, stdout=io.StringIO())
    run = StatisticsRun.objects.create(election=Election.objects.get(name=name))
    assert statistics_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == StatisticsRun.Status.DONE
    return run.result


@pytest.mark.django_db
def test_statistics_of_moscow_2011_run_end_to_end():
    result = moscow_statistics("moscow_2011_uik.csv", "2011-12-04")
    assert result["stations"] == 3374
    assert result["leader"].endswith('ЕДИНАЯ РОССИЯ"')
    assert result["shpilkin"]["anomalous_votes"] > 0
    assert result["integer_percentages"]["stations"] > 3000
    assert StationFlag.objects.filter(kind="turnout_z").exists()


@pytest.mark.django_db
def test_statistics_of_moscow_2012_run_end_to_end():
    result = moscow_statistics("moscow_2012_uik.csv", "2012-03-04")
    assert result["stations"] == 3386
    assert result["leader"] == "Путин Владимир Владимирович"
    assert 0.4 < result["shpilkin"]["leader_share"] < 0.5
    assert result["digits"]["all"]["counts"] > 10_000


def test_a_run_is_computed_once_even_if_asked_twice(db):
    election = Election.objects.create(name="E", date=dt.date(2024, 3, 17))
    run = StatisticsRun.objects.create(election=election, status=StatisticsRun.Status.DONE)
    assert statistics_run_execute(run_id=run.pk) is False
