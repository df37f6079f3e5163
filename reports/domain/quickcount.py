"""Quick count (parallel vote tabulation) and the home-voting analysis, on numpy arrays.

Pure functions, no database. Methods and their sources:

- The sample: a stratified simple random sample of stations without replacement, strata the
  okrugs, allocation proportional to the number of stations with at least two per stratum
  (so each stratum's variance can be estimated), drawn from a seeded generator so the same
  seed gives the same sample. M. Estok, N. Nevitte & G. Cowan, *The Quick Count and Election
  Observation*, NDI 2002, ch. 5.
- The estimate: every share is a ratio of two totals (a candidate's votes over ballots in
  boxes; ballots issued over voters), estimated by the combined ratio estimator of a
  stratified sample, R = Σ_h N_h ȳ_h / Σ_h N_h x̄_h. Stations are clusters of voters, so its
  variance comes from the between-station spread of the residuals d = y − R·x within each
  stratum: v(R) = Σ_h N_h² (1 − n_h/N_h) s²_dh / n_h / X², with X = Σ_h N_h x̄_h (W. G.
  Cochran, *Sampling Techniques*, 3rd ed. 1977, §6.11–6.12, eq. 6.46). Strata with fewer than
  two reported stations are pooled for the variance (collapsed strata, Cochran §5A.12). The
  95 % interval is R ± 1.96 √v; the probability that the leader is above a threshold t is
  Φ((R − t)/√v). A binomial variance on voters would be far too narrow and is not used.
- Home voting: weighted least squares of the station's leader share on its home-voting
  share, weighted by ballots in boxes, with heteroscedasticity-robust (HC1) standard errors
  (H. White, Econometrica 48(4), 1980). If the leader's share were p_home among home ballots
  and p_room among the rest at every station, the station share would be p_room + (p_home −
  p_room)·h, so the intercept estimates p_room (the share without home votes) and intercept +
  slope estimates p_home. This is ecological inference (L. Goodman, American Sociological
  Review 18(6), 1953): it holds only if stations with more home voting do not differ
  otherwise; it is evidence to weigh, not a verdict.
"""

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

Z95 = float(norm.ppf(0.975))
# Spread of the residuals d = y − R·x between stations over the mean of x, for planning a
# sample's size. Measured for the leader on the Moscow files: 0.056 (2012), 0.038 (2018);
# rounded up for elections with more varied stations (home voting, temporary stations).
PLANNING_CV = 0.08
MIN_PER_STRATUM = 2


@dataclass(frozen=True)
class Estimate:
    share: float
    low: float
    high: float
    se: float

    def as_dict(self) -> dict:
        return {"share": self.share, "ci95": [self.low, self.high], "se": self.se}


def sample_draw(strata: list[str], size: int, seed: int) -> list[int]:
    """Indices of a stratified random sample of `size` stations (two per stratum, the
    rest in proportion to the stations left; see `allocate`); reproducible by seed."""
    rng = np.random.default_rng(seed)
    labels, codes = np.unique(np.asarray(strata, dtype=str), return_inverse=True)
    counts = np.bincount(codes, minlength=len(labels))
    allocation = allocate(counts, size)
    chosen = []
    for code, take in enumerate(allocation):
        members = np.flatnonzero(codes == code)
        chosen.extend(rng.choice(members, size=take, replace=False).tolist())
    return sorted(chosen)


def allocate(counts: np.ndarray, size: int) -> np.ndarray:
    """MIN_PER_STRATUM stations in each stratum (or all it has), the rest of `size` in
    proportion to the stations left, by largest remainders."""
    take = np.minimum(counts, MIN_PER_STRATUM)
    left = counts - take
    rest = max(0, min(int(size), int(counts.sum())) - int(take.sum()))
    if not rest:
        return take
    exact = left * rest / left.sum()
    extra = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - extra), kind="stable")[: rest - extra.sum()]:
        extra[index] += 1
    return take + extra


def expected_margin(size: int, population: int, cv: float = PLANNING_CV) -> float:
    """The half-width of the 95 % interval expected for a sample of `size` stations out of
    `population`, as a share (0.01 = one point), for residual spread `cv` (Cochran eq. 6.9)."""
    if size <= 0:
        return 1.0
    return Z95 * cv * float(np.sqrt(max(0.0, 1 - size / population) / size))


def size_for_margin(margin: float, population: int, cv: float = PLANNING_CV) -> int:
    """The smallest sample whose expected 95 % margin is at most `margin` (Cochran eq. 4.2)."""
    first = (Z95 * cv / margin) ** 2
    return min(population, int(np.ceil(first / (1 + first / population))))


def ratio_estimate(
    y: np.ndarray, x: np.ndarray, strata: np.ndarray, population: dict[str, int]
) -> Estimate | None:
    """The combined ratio estimate of Σy/Σx from a stratified sample of stations, with its
    95 % interval (Cochran eq. 6.46). `population` gives N_h, the stations of each stratum."""
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    strata = np.asarray(strata, dtype=str)
    labels = [label for label in population if (strata == label).any()]
    if not labels:
        return None
    weights = np.array([population[label] / (strata == label).sum() for label in labels])
    weight = np.zeros(len(y))
    for label, w in zip(labels, weights, strict=True):
        weight[strata == label] = w
    total_x = float((weight * x).sum())
    if total_x <= 0:
        return None
    share = float((weight * y).sum() / total_x)
    variance = stratified_variance(y - share * x, strata, labels, population) / total_x**2
    se = float(np.sqrt(variance))
    return Estimate(share=share, low=share - Z95 * se, high=share + Z95 * se, se=se)


def stratified_variance(
    residuals: np.ndarray, strata: np.ndarray, labels: list[str], population: dict[str, int]
) -> float:
    """Σ_h N_h² (1 − f_h) s²_h / n_h, strata with a single station pooled together."""
    groups = [(population[label], residuals[strata == label]) for label in labels]
    lonely = [(size, values) for size, values in groups if len(values) < MIN_PER_STRATUM]
    groups = [(size, values) for size, values in groups if len(values) >= MIN_PER_STRATUM]
    if lonely:
        groups.append(
            (sum(size for size, _ in lonely), np.concatenate([values for _, values in lonely]))
        )
    variance = 0.0
    for size, values in groups:
        n = len(values)
        if n < MIN_PER_STRATUM:
            continue
        variance += size**2 * (1 - n / size) * float(values.var(ddof=1)) / n
    return variance


def probability_above(estimate: Estimate, threshold: float) -> float:
    if estimate.se == 0:
        return float(estimate.share > threshold)
    return float(norm.sf((threshold - estimate.share) / estimate.se))


def balance_warning(reported: dict[str, int], sampled: dict[str, int], floor: float) -> list[str]:
    """Strata whose reported fraction of their sample is below `floor`: an estimate from
    such a part leans on the other okrugs and should not be trusted yet."""
    return sorted(
        label for label, size in sampled.items() if size and reported.get(label, 0) / size < floor
    )


def home_voting(
    leader: np.ndarray, in_boxes: np.ndarray, outside: np.ndarray, issued: np.ndarray
) -> dict | None:
    """The leader's share among home and in-room ballots by weighted regression across
    stations (see the module docstring), with 95 % intervals from HC1 standard errors."""
    keep = (np.asarray(in_boxes) > 0) & (np.asarray(issued) > 0)
    if keep.sum() < 3:
        return None
    weight = np.asarray(in_boxes, dtype=float)[keep]
    share = np.asarray(leader, dtype=float)[keep] / weight
    home = np.asarray(outside, dtype=float)[keep] / np.asarray(issued, dtype=float)[keep]
    design = np.column_stack([np.ones(len(home)), home])
    gram = design.T @ (design * weight[:, None])
    if abs(np.linalg.det(gram)) < 1e-12:
        return None
    inverse = np.linalg.inv(gram)
    coef = inverse @ (design.T @ (weight * share))
    residual = share - design @ coef
    meat = (design * (weight**2 * residual**2)[:, None]).T @ design
    n = len(home)
    cov = inverse @ meat @ inverse * n / (n - 2)
    room_se = float(np.sqrt(cov[0, 0]))
    home_se = float(np.sqrt(cov[0, 0] + cov[1, 1] + 2 * cov[0, 1]))
    room, at_home = float(coef[0]), float(coef[0] + coef[1])
    return {
        "stations": int(n),
        "method": "WLS of leader share on home-voting share, weights = ballots in boxes, HC1",
        "leader_share_without_home": interval(room, room_se),
        "leader_share_among_home": interval(at_home, home_se),
        "slope": float(coef[1]),
    }


def interval(value: float, se: float) -> dict:
    """A share with its 95 % interval, the interval cut to [0, 1] (a share cannot leave it)."""
    low, high = max(0.0, value - Z95 * se), min(1.0, value + Z95 * se)
    return {"share": value, "ci95": [low, high], "se": se}
