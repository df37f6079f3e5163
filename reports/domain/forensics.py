"""Election statistics over polling stations (DOMAIN.md §7), on numpy arrays.

Pure functions: `Stations` holds one row per station; each test returns plain JSON-ready
dicts. Methods and their sources:

- Shpilkin's turnout-vs-votes estimate of anomalous votes: S. Shpilkin, "Statistical
  study of the results of Russian elections 2007–2011", Troitsky Variant 2011; as used in
  Kobak, Shpilkin & Pshenichnikov, Significance 13(4), 2016.
- The integer-percentage test: D. Kobak, S. Shpilkin, M. Pshenichnikov, "Integer
  percentages as electoral falsification fingerprints", Annals of Applied Statistics 10(1),
  2016. The expected count under binomial noise is computed exactly (a Poisson-binomial sum
  of per-station lattice probabilities) instead of by the paper's simulation.
- Digit tests: W. Mebane, Election Forensics Toolkit (second-digit Benford, last digit);
  B. Beber & A. Scacco, "What the numbers say", Political Analysis 20(2), 2012 (last digit,
  0/5 share). Known to be weak on Russian data: they are shown with that caveat.
- Station flags: robust z = (x − median) / (1.4826 · MAD) within the TIK (or region).
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln
from scipy.stats import chi2

ROBUST_Z = 3.0
MIN_GROUP = 5
INTEGER_WINDOW = 0.05  # percentage points either side of a whole number
NOISE_RADIUS = 6.0  # standard deviations of binomial noise enumerated around each station
BENFORD_SECOND = np.array(
    [sum(np.log10(1 + 1 / (10 * k + d)) for k in range(1, 10)) for d in range(10)]
)
DIGIT_MIN_COUNT = 10


@dataclass
class Stations:
    """One row per station. `votes` has one column per candidate, in template order."""

    voters: np.ndarray
    issued: np.ndarray
    outside: np.ndarray
    in_boxes: np.ndarray
    votes: np.ndarray
    tik: np.ndarray  # group labels (ints) for within-TIK comparisons
    region: np.ndarray  # group labels (ints) for the home-voting norm
    temporary: np.ndarray  # bool; unknown counts as not temporary

    @classmethod
    def build(
        cls,
        *,
        voters,
        issued,
        outside,
        in_boxes,
        votes,
        tik=None,
        region=None,
        temporary=None,
    ) -> "Stations":
        size = len(voters)
        zeros = np.zeros(size, dtype=np.int64)
        return cls(
            voters=np.asarray(voters, dtype=np.int64),
            issued=np.asarray(issued, dtype=np.int64),
            outside=np.asarray(outside, dtype=np.int64),
            in_boxes=np.asarray(in_boxes, dtype=np.int64),
            votes=np.asarray(votes, dtype=np.int64).reshape(size, -1),
            tik=zeros if tik is None else np.asarray(tik),
            region=zeros if region is None else np.asarray(region),
            temporary=np.zeros(size, bool) if temporary is None else np.asarray(temporary, bool),
        )

    def __len__(self) -> int:
        return len(self.voters)

    @property
    def leader(self) -> int:
        """The candidate with the most votes over all stations (column index)."""
        return int(self.votes.sum(axis=0).argmax())

    @property
    def leader_votes(self) -> np.ndarray:
        return self.votes[:, self.leader]

    @property
    def others_votes(self) -> np.ndarray:
        return self.votes.sum(axis=1) - self.leader_votes


def ratio(numerator, denominator) -> np.ndarray:
    """Elementwise ratio, NaN where the denominator is zero."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def share(numerator: float, denominator: float) -> float | None:
    return float(numerator) / float(denominator) if denominator else None


def shpilkin(stations: Stations) -> dict:
    """Anomalous votes for the leader from the turnout histogram.

    1. Bin stations by turnout in 1 % bins (0–100; 100 % has its own bin).
    2. Sum the leader's votes and everyone else's votes per bin.
    3. The peak of the others' curve marks the end of the "honest" turnouts; the leader /
       others ratio k over the bins up to and including the peak is taken as honest.
    4. Above the peak, the leader's votes beyond k × others are anomalous (never negative).
    5. The corrected leader share and turnout remove the anomalous votes from the leader's
       votes, the ballots in boxes and the ballots issued.
    """
    turnout = ratio(stations.issued, stations.voters)
    known = ~np.isnan(turnout)
    bins = np.clip(np.floor(turnout[known] * 100 + 1e-9).astype(int), 0, 100)
    leader = np.bincount(bins, stations.leader_votes[known], minlength=101)
    others = np.bincount(bins, stations.others_votes[known], minlength=101)
    count = np.bincount(bins, minlength=101)
    peak = int(others.argmax())
    honest = share(leader[: peak + 1].sum(), others[: peak + 1].sum()) or 0.0
    excess = np.clip(leader[peak + 1 :] - honest * others[peak + 1 :], 0, None)
    anomalous = float(excess.sum())
    voters, issued = stations.voters.sum(), stations.issued.sum()
    in_boxes, leader_total = stations.in_boxes.sum(), stations.leader_votes.sum()
    return {
        "bins": [
            {
                "turnout": b,
                "stations": int(count[b]),
                "leader": int(leader[b]),
                "others": int(others[b]),
            }
            for b in range(101)
        ],
        "peak_bin": peak,
        "honest_ratio": honest,
        "anomalous_votes": round(anomalous),
        "leader_share": share(leader_total, in_boxes),
        "corrected_leader_share": share(leader_total - anomalous, in_boxes - anomalous),
        "turnout": share(issued, voters),
        "corrected_turnout": share(issued - anomalous, voters),
    }


def is_integer_percent(part, whole) -> np.ndarray:
    """Whether 100·part/whole lies within 0.05 of a whole number, in exact integer arithmetic."""
    part, whole = np.asarray(part, dtype=np.int64), np.asarray(whole, dtype=np.int64)
    remainder = np.mod(100 * part, np.maximum(whole, 1))
    return (20 * remainder <= whole) | (20 * remainder >= 19 * whole)


def integer_probability(trials, p) -> np.ndarray:
    """P(100·X/n is within 0.05 of a whole number) for X ~ Binomial(n, p), per station.

    Enumerates the whole percentages within NOISE_RADIUS standard deviations of 100·p, the
    lattice points X inside each one's window, and sums their exact binomial probabilities.
    """
    n = np.asarray(trials, dtype=np.int64)
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    spread = 100 * np.sqrt(p * (1 - p) / np.maximum(n, 1)) * NOISE_RADIUS
    first = np.clip(np.floor(100 * p - spread) - 1, 0, 100).astype(np.int64)
    last = np.clip(np.ceil(100 * p + spread) + 1, 0, 100).astype(np.int64)
    windows = last - first + 1
    station = np.repeat(np.arange(len(n)), windows)
    percent = first[station] + (
        np.arange(windows.sum()) - np.repeat(windows.cumsum() - windows, windows)
    )
    nn = n[station]
    low = -((-(nn * (100 * percent - 5))) // 10000)  # ceil(n·(k − 0.05) / 100)
    high = (nn * (100 * percent + 5)) // 10000  # floor(n·(k + 0.05) / 100)
    low, high = np.maximum(low, 0), np.minimum(high, nn)
    # Neighbouring windows never overlap (they are 0.9 points apart), so points are distinct.
    points = np.maximum(high - low + 1, 0)
    window = np.repeat(np.arange(len(low)), points)
    x = low[window] + (np.arange(points.sum()) - np.repeat(points.cumsum() - points, points))
    owner = station[window]
    # What depends on the station alone is computed once per station, not once per point.
    with np.errstate(divide="ignore"):
        log_n, log_p, log_q = gammaln(n + 1.0), np.log(p), np.log1p(-p)
    rest = n[owner] - x
    log_pmf = (
        log_n[owner] - gammaln(x + 1.0) - gammaln(rest + 1.0)
        + times_log(x, log_p[owner]) + times_log(rest, log_q[owner])
    )  # fmt: skip
    return np.bincount(owner, np.exp(log_pmf), minlength=len(n))


def times_log(count: np.ndarray, log_value: np.ndarray) -> np.ndarray:
    """count · log_value with 0 · log 0 = 0, as scipy's xlogy."""
    with np.errstate(invalid="ignore"):
        return np.where(count == 0, 0.0, count * log_value)


def excess_summary(observed: np.ndarray, probability: np.ndarray) -> dict:
    expected = float(probability.sum())
    sd = float(np.sqrt((probability * (1 - probability)).sum()))
    count = int(observed.sum())
    return {
        "observed": count,
        "expected": expected,
        "sd": sd,
        "excess": count - expected,
        "z": (count - expected) / sd if sd else None,
    }


def integer_percentages(stations: Stations) -> dict:
    """The integer-percentage test of Kobak, Shpilkin and Pshenichnikov (2016).

    1. Keep stations with ballots in boxes > 0, at least 100 voters, turnout ≤ 99 % and the
       leader's share ≤ 99 %.
    2. A station is "integer" when its turnout % or the leader's % is within 0.05 of a whole
       number.
    3. Under binomial noise (issued ~ Binomial(V, G/V), votes ~ Binomial(B, X/B)) each
       station is integer with probability P = 1 − (1 − P_turnout)(1 − P_leader); the
       expected count is ΣP with variance ΣP(1 − P).
    4. The excess of the observed count over the expected one, in standard deviations, is
       the signal.
    """
    leader = stations.leader_votes
    turnout, leader_share = (
        ratio(stations.issued, stations.voters),
        ratio(leader, stations.in_boxes),
    )
    keep = (
        (stations.in_boxes > 0) & (stations.voters >= 100)
        & (turnout <= 0.99) & (leader_share <= 0.99)
    )  # fmt: skip
    voters, issued = stations.voters[keep], stations.issued[keep]
    in_boxes, votes = stations.in_boxes[keep], leader[keep]
    turnout_integer = is_integer_percent(issued, voters)
    leader_integer = is_integer_percent(votes, in_boxes)
    p_turnout = integer_probability(voters, issued / voters)
    p_leader = integer_probability(in_boxes, votes / in_boxes)
    p_either = 1 - (1 - p_turnout) * (1 - p_leader)
    return {
        "stations": int(keep.sum()),
        "turnout": excess_summary(turnout_integer, p_turnout),
        "leader": excess_summary(leader_integer, p_leader),
        "either": excess_summary(turnout_integer | leader_integer, p_either),
        "turnout_histogram": fine_histogram(issued / voters),
        "leader_histogram": fine_histogram(votes / in_boxes),
    }


def fine_histogram(fractions: np.ndarray) -> list[int]:
    """Stations per 0.1-point bin of a percentage (1000 bins): integer spikes show up."""
    bins = np.clip(np.floor(fractions * 1000 + 1e-9).astype(int), 0, 999)
    return np.bincount(bins, minlength=1000).tolist()


def digit_summary(counts: np.ndarray) -> dict:
    """Second-digit Benford and last-digit statistics of counts ≥ 10."""
    counts = np.asarray(counts, dtype=np.int64)
    counts = counts[counts >= DIGIT_MIN_COUNT]
    size = len(counts)
    if not size:
        return {"counts": 0, "second_digit": None, "last_digit": None}
    magnitude = 10 ** (np.floor(np.log10(counts)).astype(np.int64) - 1)
    second = (counts // magnitude) % 10
    last = counts % 10
    second_observed = np.bincount(second, minlength=10)
    last_observed = np.bincount(last, minlength=10)
    second_expected = BENFORD_SECOND * size
    last_expected = np.full(10, size / 10)
    second_chi2 = float(((second_observed - second_expected) ** 2 / second_expected).sum())
    last_chi2 = float(((last_observed - last_expected) ** 2 / last_expected).sum())
    return {
        "counts": size,
        "second_digit": {
            "mean": float(second.mean()),
            "expected_mean": float((BENFORD_SECOND * np.arange(10)).sum()),
            "frequencies": (second_observed / size).tolist(),
            "expected_frequencies": BENFORD_SECOND.tolist(),
            "chi2": second_chi2,
            "p_value": float(chi2.sf(second_chi2, 9)),
        },
        "last_digit": {
            "mean": float(last.mean()),
            "expected_mean": 4.5,
            "share_0_or_5": float(((last == 0) | (last == 5)).mean()),
            "expected_share_0_or_5": 0.2,
            "frequencies": (last_observed / size).tolist(),
            "chi2": last_chi2,
            "p_value": float(chi2.sf(last_chi2, 9)),
        },
    }


def digits(stations: Stations, names: list[str]) -> dict:
    """Digit tests on every candidate's votes per station, pooled and by candidate."""
    return {
        "all": digit_summary(stations.votes.ravel()),
        "by_candidate": [
            dict(digit_summary(stations.votes[:, column]), name=name)
            for column, name in enumerate(names)
        ],
    }


def group_median(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row median of the row's group and the group's size, ignoring NaN values."""
    valid = ~np.isnan(values)
    median = np.full(len(values), np.nan)
    size = np.zeros(len(values), dtype=np.int64)
    labels, inverse = np.unique(groups[valid], return_inverse=True)
    if not len(labels):
        return median, size
    order = np.lexsort((values[valid], inverse))
    ordered = values[valid][order]
    counts = np.bincount(inverse, minlength=len(labels))
    starts = counts.cumsum() - counts
    medians = (ordered[starts + (counts - 1) // 2] + ordered[starts + counts // 2]) / 2
    median[valid], size[valid] = medians[inverse], counts[inverse]
    return median, size


def robust_z(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(x − group median) / (1.4826 · group MAD); NaN for small groups or zero spread."""
    median, size = group_median(values, groups)
    mad, _size = group_median(np.abs(values - median), groups)
    z = ratio(values - median, 1.4826 * mad)
    z[size < MIN_GROUP] = np.nan
    return z


def station_flags(stations: Stations) -> dict[str, np.ndarray]:
    """Boolean masks of the statistical station flags, with the values that raised them.

    Home-voting share is compared with its region's norm (the city, for Moscow); turnout and
    the leader's share with the station's TIK.
    """
    turnout = ratio(stations.issued, stations.voters)
    leader_share = ratio(stations.leader_votes, stations.in_boxes)
    home_share = ratio(stations.outside, stations.issued)
    home_z = robust_z(home_share, stations.region)
    turnout_z = robust_z(turnout, stations.tik)
    leader_z = robust_z(leader_share, stations.tik)
    full = (stations.voters > 0) & (stations.issued >= stations.voters) & ~stations.temporary
    return {
        "home_voting": (np.nan_to_num(home_z) > ROBUST_Z, home_share),
        "turnout_z": (np.abs(np.nan_to_num(turnout_z)) > ROBUST_Z, turnout_z),
        "leader_z": (np.abs(np.nan_to_num(leader_z)) > ROBUST_Z, leader_z),
        "full_turnout": (full, turnout),
    }
