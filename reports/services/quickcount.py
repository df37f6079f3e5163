"""The quick count: drawing the sample of stations and estimating from the copies sent from
it (DOMAIN.md §7). The arithmetic is in `reports/domain/quickcount.py`; the estimate runs in
a worker (`reports.quickcount_estimate_task`) and is stored on the sample for the pages."""

import secrets
from collections import Counter

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from reports.domain import quickcount
from reports.domain.protocol_checks import ProtocolTemplate, election_template
from reports.models import (
    Channel,
    Election,
    OfficialResult,
    ProtocolCopy,
    QuickCountSample,
    Station,
    StationCoverage,
    StationReconciliation,
)
from reports.services.audit import audit_record
from reports.services.protocols import content_hash, station_reconcile
from reports.services.queue import task_enqueue_on_commit

# Below this fraction of an okrug's sampled stations reported, the estimate is flagged.
REPORTED_FLOOR = 0.5
LINE_KEYS = ("voters", "early", "inside", "outside", "invalid", "valid")


@transaction.atomic
def quickcount_sample_draw(
    *,
    election: Election,
    actor: AbstractBaseUser | None,
    size: int | None = None,
    margin: float | None = None,
    seed: int | None = None,
    threshold: float = 0.5,
) -> QuickCountSample:
    """Draw a stratified sample (by okrug) of `size` stations, or of the size whose expected
    95 % margin is `margin`; the seed, drawn at random unless given, is stored and shown."""
    stations = list(
        Station.objects.filter(election=election).order_by("pk").values_list("pk", "okrug_id")
    )
    if size is None:
        size = quickcount.size_for_margin(margin or 0.01, len(stations))
    seed = secrets.randbelow(10**9) if seed is None else seed
    chosen = quickcount.sample_draw([str(okrug) for _pk, okrug in stations], size, seed)
    sample = QuickCountSample.objects.create(
        election=election,
        seed=seed,
        size=len(chosen),
        expected_margin=quickcount.expected_margin(len(chosen), len(stations)),
        threshold=threshold,
        drawn_by=actor,
    )
    sample.stations.set([stations[i][0] for i in chosen])
    audit_record(
        actor=actor,
        action="quickcount_sample_draw",
        obj=sample,
        after={"seed": seed, "size": len(chosen)},
    )
    task_enqueue_on_commit("reports.quickcount_estimate_task", sample.pk)
    return sample


def quickcount_refresh_soon(*, station: Station) -> None:
    """Re-estimate the election's current sample when one of its stations got a copy."""
    sample = (
        QuickCountSample.objects.filter(election_id=station.election_id)
        .order_by("-drawn_at")
        .first()
    )
    if sample is not None and sample.stations.filter(pk=station.pk).exists():
        task_enqueue_on_commit("reports.quickcount_estimate_task", sample.pk)


def quickcount_refresh_election(*, election: Election) -> None:
    """Re-estimate the election's current sample (after official results were imported)."""
    sample = QuickCountSample.objects.filter(election=election).order_by("-drawn_at").first()
    if sample is not None:
        task_enqueue_on_commit("reports.quickcount_estimate_task", sample.pk)


def sample_coverage(election: Election) -> list[dict] | None:
    """Coverage of the current sample's stations apart from the rest (the coverage page):
    stations, with an observer assigned, checked in, protocol sent. None without a sample."""
    sample = QuickCountSample.objects.filter(election=election).order_by("-drawn_at").first()
    if sample is None:
        return None
    sampled = set(sample.stations.values_list("pk", flat=True))
    rows = {True: Counter(), False: Counter()}
    coverage = StationCoverage.objects.filter(election=election)
    for station, assigned, present, protocol in coverage.values_list(
        "station_id", "assigned", "present", "protocol"
    ):
        row = rows[station in sampled]
        row.update(stations=1, assigned=assigned > 0, present=present > 0, protocol=protocol)
    fields = ("stations", "assigned", "present", "protocol")
    return [
        {"sampled": key, **{field: rows[key][field] for field in fields}} for key in (True, False)
    ]


def quickcount_estimate(*, sample: QuickCountSample) -> dict:
    """Estimate every share and turnout from the sampled stations' settled copies, compare
    with the official results if any, analyse home voting, and store it on the sample."""
    template = election_template(sample.election)
    result = estimate_compute(sample, template)
    QuickCountSample.objects.filter(pk=sample.pk).update(
        estimate=result, estimated_at=timezone.now()
    )
    return result


def settled_rows(sample: QuickCountSample) -> tuple[list, dict]:
    """The consensus lines of sampled stations with a copy, and those left out, with why."""
    sampled = set(sample.stations.values_list("pk", flat=True))
    failing = set(
        ProtocolCopy.objects.filter(station_id__in=sampled)
        .exclude(control_failures=[])
        .values_list("station_id", flat=True)
    )
    rows, left_out = [], {"disagreement": [], "control": []}
    for station, number, okrug, lines, disagree in StationReconciliation.objects.filter(
        station_id__in=sampled, copies__gt=0
    ).values_list(
        "station_id", "station__number", "station__okrug__name", "lines", "has_disagreement"
    ):
        if disagree:
            left_out["disagreement"].append(number)
        elif station in failing:
            left_out["control"].append(number)
        else:
            rows.append((okrug, lines))
    return rows, {kind: sorted(numbers) for kind, numbers in left_out.items()}


def matrix_of(lines: list[dict], template: ProtocolTemplate) -> dict[str, np.ndarray]:
    keys = [*LINE_KEYS, *template.candidate_keys]
    table = np.array([[row.get(key) or 0 for key in keys] for row in lines], dtype=float).reshape(
        len(lines), len(keys)
    )
    return {
        "voters": table[:, 0],
        "issued": table[:, 1:4].sum(axis=1),
        "outside": table[:, 3],
        "in_boxes": table[:, 4:6].sum(axis=1),
        "votes": table[:, 6:],
    }


def estimate_compute(sample: QuickCountSample, template: ProtocolTemplate) -> dict:
    population = dict(
        Counter(
            Station.objects.filter(election=sample.election).values_list("okrug__name", flat=True)
        )
    )
    sampled = Counter(sample.stations.values_list("okrug__name", flat=True))
    rows, left_out = settled_rows(sample)
    okrugs = np.array([okrug for okrug, _lines in rows], dtype=str)
    data = matrix_of([lines for _okrug, lines in rows], template)
    reported = Counter(okrugs.tolist())
    result = {
        "method": (
            "Combined ratio estimator of a stratified cluster sample (strata: okrugs; clusters: "
            "stations), variance from the residuals between stations (Cochran, Sampling "
            "Techniques, 3rd ed., §6.11, eq. 6.46); NDI, The Quick Count and Election "
            "Observation (2002)"
        ),
        "sample_size": sample.size,
        "seed": sample.seed,
        "threshold": sample.threshold,
        "expected_margin": sample.expected_margin,
        "stations_reported": len(rows),
        "left_out": left_out,
        "unbalanced_okrugs": quickcount.balance_warning(
            dict(reported), dict(sampled), REPORTED_FLOOR
        ),
        "candidates": [],
    }
    result["too_few"] = len(rows) < sample.size * REPORTED_FLOOR or bool(
        result["unbalanced_okrugs"]
    )
    official = official_figures(sample.election, template)
    result["turnout"] = estimate_of(
        data["issued"], data["voters"], okrugs, population, official["city"]["turnout"]
    )
    for index, key in enumerate(template.candidate_keys):
        figure = estimate_of(
            data["votes"][:, index],
            data["in_boxes"],
            okrugs,
            population,
            official["city"]["shares"].get(key),
        )
        result["candidates"].append({"key": key, "name": template.label(key), **figure})
    result["okrugs"] = okrug_comparison(data, okrugs, population, official, template)
    estimated = [c for c in result["candidates"] if c.get("share") is not None]
    if estimated:
        leader = max(estimated, key=lambda c: c["share"])
        result["leader"] = leader["name"]
        result["p_leader_above_threshold"] = quickcount.probability_above(
            quickcount.Estimate(leader["share"], *leader["ci95"], leader["se"]), sample.threshold
        )
    result["home_voting"] = home_analysis(sample, template)
    return result


def estimate_of(y, x, okrugs, population: dict, official: float | None) -> dict:
    estimate = quickcount.ratio_estimate(y, x, okrugs, population)
    figure = estimate.as_dict() if estimate else {"share": None, "ci95": None, "se": None}
    figure["official"] = official
    if estimate and official is not None:
        figure["official_inside"] = bool(estimate.low <= official <= estimate.high)
    return figure


def okrug_comparison(
    data: dict, okrugs, population: dict, official: dict, template: ProtocolTemplate
) -> list:
    rows = []
    for okrug in sorted(population):
        mask = okrugs == okrug
        area = official["okrugs"].get(okrug, {"shares": {}, "turnout": None})
        rows.append(
            {
                "name": okrug,
                "reported": int(mask.sum()),
                "candidates": [
                    estimate_of(data["votes"][mask, index], data["in_boxes"][mask], okrugs[mask],
                                {okrug: population[okrug]}, area["shares"].get(key))
                    for index, key in enumerate(template.candidate_keys)
                ],
            }
        )  # fmt: skip
    return rows


def official_figures(election: Election, template: ProtocolTemplate) -> dict:
    """Shares and turnout of the official results, city-wide and per okrug (empty without)."""
    rows = list(
        OfficialResult.objects.filter(election=election).values_list(
            "station__okrug__name", "lines"
        )
    )
    figures = {"city": shares_of([lines for _o, lines in rows], template), "okrugs": {}}
    for okrug in {okrug for okrug, _lines in rows if okrug}:
        figures["okrugs"][okrug] = shares_of([lines for o, lines in rows if o == okrug], template)
    return figures


def shares_of(lines: list[dict], template: ProtocolTemplate) -> dict:
    if not lines:
        return {"shares": {}, "turnout": None}
    data = matrix_of(lines, template)
    boxes, voters = data["in_boxes"].sum(), data["voters"].sum()
    return {
        "shares": {
            key: float(data["votes"][:, i].sum() / boxes) if boxes else None
            for i, key in enumerate(template.candidate_keys)
        },
        "turnout": float(data["issued"].sum() / voters) if voters else None,
    }


def home_analysis(sample: QuickCountSample, template: ProtocolTemplate) -> dict | None:
    """Home votes against the leader's margin over the threshold, and the regression, on the
    official results when imported, else on the sampled stations' settled copies."""
    official = list(
        OfficialResult.objects.filter(election=sample.election).values_list("lines", flat=True)
    )
    source = "official" if official else "observers"
    lines = official or [lines for _okrug, lines in settled_rows(sample)[0]]
    if not lines or not template.candidate_keys:
        return None
    data = matrix_of(lines, template)
    totals = data["votes"].sum(axis=0)
    leader = int(totals.argmax())
    boxes = float(data["in_boxes"].sum())
    regression = quickcount.home_voting(
        data["votes"][:, leader], data["in_boxes"], data["outside"], data["issued"]
    )
    return {
        "source": source,
        "stations": len(lines),
        "leader": template.label(template.candidate_keys[leader]),
        "home_votes": int(data["outside"].sum()),
        "home_share": float(data["outside"].sum() / data["issued"].sum())
        if data["issued"].sum()
        else None,
        "leader_margin_votes": round(float(totals[leader] - sample.threshold * boxes)),
        "regression": regression,
    }


@transaction.atomic
def quickcount_demo_copies(
    *, sample: QuickCountSample, share: float = 0.8, seed: int = 2013
) -> int:
    """For the demo: copies equal to the official result from `share` of the sampled stations,
    as observers would send them, reconciled; the estimate follows in a worker."""
    official = list(
        OfficialResult.objects.filter(station__in=sample.stations.all()).select_related(
            "station__election"
        )
    )
    rng = np.random.default_rng(seed)
    chosen = [
        official[i] for i in sorted(rng.permutation(len(official))[: round(share * len(official))])
    ]
    ProtocolCopy.objects.bulk_create(
        ProtocolCopy(election_id=row.election_id, station=row.station, channel=Channel.WEB,
                     lines=row.lines,
                     content_hash=content_hash({"station": row.station_id, "lines": row.lines}))
        for row in chosen
    )  # fmt: skip
    for row in chosen:
        station_reconcile(station=row.station)
    task_enqueue_on_commit("reports.quickcount_estimate_task", sample.pk)
    return len(chosen)
