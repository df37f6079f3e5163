"""The quick count's estimators on inputs with known answers, and their coverage on the real
Moscow results of 2012 and 2018 treated as observers' copies from random samples (skipped
when shared/data is absent)."""

import csv
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from reports.domain import quickcount

DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
# Column of line 1 (voters) and of the first candidate, per file (shared/data/README.md).
LAYOUT = {"moscow_2012_uik.csv": (3, 21), "moscow_2018_uik.csv": (3, 15)}
STRATA = 12  # Moscow's okrugs; the files have no okrug column, so blocks of TIKs stand in


def moscow(name: str) -> dict:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"real data: {path} absent (shared/data is not part of the repository)")
    first_line, first_candidate = LAYOUT[name]
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    numbers = np.array([[int(v or 0) for v in row[first_line:-1]] for row in rows])
    votes = numbers[:, first_candidate - first_line :]
    leader = votes.sum(axis=0).argmax()
    tiks = np.unique([row[1] for row in rows], return_inverse=True)[1]
    return {
        "voters": numbers[:, 0],
        "issued": numbers[:, 2:5].sum(axis=1),
        "in_boxes": numbers[:, 8:10].sum(axis=1),
        "leader": votes[:, leader],
        "strata": np.array([f"block {tik * STRATA // (tiks.max() + 1)}" for tik in tiks]),
    }


def sampled_estimates(data: dict, size: int, repeats: int) -> tuple[list, float]:
    labels, counts = np.unique(data["strata"], return_counts=True)
    population = dict(zip(labels.tolist(), counts.tolist(), strict=True))
    truth = data["leader"].sum() / data["in_boxes"].sum()
    estimates = []
    for seed in range(repeats):
        rows = quickcount.sample_draw(data["strata"].tolist(), size, seed)
        estimates.append(
            quickcount.ratio_estimate(
                data["leader"][rows], data["in_boxes"][rows], data["strata"][rows], population
            )
        )
    return estimates, truth


@pytest.mark.parametrize("name", LAYOUT)
def test_the_95_interval_holds_the_official_city_share_95_times_in_100(name):
    estimates, truth = sampled_estimates(moscow(name), size=300, repeats=300)
    covered = np.mean([e.low <= truth <= e.high for e in estimates])
    assert 0.91 <= covered <= 0.99


@pytest.mark.parametrize("name", LAYOUT)
def test_the_interval_narrows_as_the_sample_grows(name):
    data = moscow(name)
    widths = [
        np.mean([e.high - e.low for e in sampled_estimates(data, size, repeats=60)[0]])
        for size in (100, 400, 1600)
    ]
    assert widths[0] > widths[1] > widths[2]
    # Four times the stations: about half the width (less, with the finite population).
    assert widths[1] / widths[0] == pytest.approx(0.5, abs=0.08)


def test_a_few_hundred_stations_give_about_a_point_in_a_city_like_moscow():
    assert quickcount.expected_margin(200, 3611) == pytest.approx(0.01, abs=0.002)
    size = quickcount.size_for_margin(0.01, 3611)
    assert quickcount.expected_margin(size, 3611) <= 0.01
    assert quickcount.expected_margin(size - 1, 3611) > 0.01


def test_the_same_seed_draws_the_same_sample_and_every_okrug_gets_two():
    strata = ["A"] * 100 + ["B"] * 50 + ["C"] * 3
    first = quickcount.sample_draw(strata, 30, seed=7)
    assert first == quickcount.sample_draw(strata, 30, seed=7)
    assert first != quickcount.sample_draw(strata, 30, seed=8)
    picked = [strata[i] for i in first]
    assert picked.count("A") == 18 and picked.count("B") == 10 and picked.count("C") == 2


def test_a_full_count_has_the_exact_share_and_no_uncertainty():
    y, x = np.array([10, 30, 20, 40]), np.array([50, 60, 40, 80])
    estimate = quickcount.ratio_estimate(y, x, np.array(list("AABB")), {"A": 2, "B": 2})
    assert estimate.share == pytest.approx(100 / 230)
    assert estimate.se == pytest.approx(0)


def test_the_leader_just_above_the_threshold_is_above_it_with_probability_near_a_half():
    estimate = quickcount.Estimate(share=0.5137, low=0.4937, high=0.5337, se=0.0102)
    assert 0.5 < quickcount.probability_above(estimate, 0.5) < 0.95
    assert quickcount.probability_above(estimate, 0.45) > 0.999


def test_home_regression_recovers_the_leader_share_among_home_and_room_ballots():
    rng = np.random.default_rng(1)
    in_boxes = rng.integers(800, 2000, size=400)
    home = rng.uniform(0.0, 0.15, size=400)
    outside = np.round(in_boxes * home).astype(int)
    leader = rng.binomial(outside, 0.8) + rng.binomial(in_boxes - outside, 0.48)
    result = quickcount.home_voting(leader, in_boxes, outside, in_boxes)
    low, high = result["leader_share_among_home"]["ci95"]
    assert low < 0.8 < high and high - low < 0.2
    low, high = result["leader_share_without_home"]["ci95"]
    assert low < 0.48 < high
