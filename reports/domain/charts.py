"""Chart geometry for the statistics page, drawn as inline SVG by the template (no script,
no outside library): each chart is a box, axis ticks and SVG path strings.
"""

from django.utils.translation import gettext_lazy as _

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28

METHODS = {
    "shpilkin": "S. Shpilkin (2011); D. Kobak, S. Shpilkin, M. Pshenichnikov, "
    "Significance 13(4), 2016",
    "integer_percentages": "D. Kobak, S. Shpilkin, M. Pshenichnikov, Integer percentages as "
    "electoral falsification fingerprints, Annals of Applied Statistics 10(1), 2016",
    "digits": "W. Mebane, Election Forensics Toolkit; B. Beber, A. Scacco, What the numbers "
    "say, Political Analysis 20(2), 2012",
    "flags": "robust z = (x − median) / (1.4826 · MAD) within the TIK or region",
}


def scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    if high == low:
        return out_low
    return out_low + (value - low) * (out_high - out_low) / (high - low)


def x_of(value: float, high: float) -> float:
    return round(scale(value, 0, high, LEFT, WIDTH - RIGHT), 1)


def y_of(value: float, high: float) -> float:
    return round(scale(value, 0, high, HEIGHT - BOTTOM, TOP), 1)


def line_path(values: list[float], top: float, x_high: float, x_step: float = 1) -> str:
    points = [f"{x_of(i * x_step, x_high)},{y_of(v, top)}" for i, v in enumerate(values)]
    return "M" + " L".join(points) if points else ""


def bars_path(values: list[float], top: float, x_high: float, width: float) -> str:
    """One closed rectangle per value, `width` units wide, as a single path."""
    base = y_of(0, top)
    parts = []
    for i, value in enumerate(values):
        if not value:
            continue
        x0, x1 = x_of(i * width, x_high), x_of((i + 1) * width, x_high)
        parts.append(f"M{x0},{base} V{y_of(value, top)} H{x1} V{base} Z")
    return " ".join(parts)


def ticks(high: float, count: int = 5, fmt: str = "{:,.0f}") -> list[dict]:
    return [
        {"y": y_of(high * i / count, high), "label": fmt.format(high * i / count)}
        for i in range(count + 1)
    ]


def x_ticks(high: float, step: float, fmt: str = "{:.0f}") -> list[dict]:
    values = [i * step for i in range(int(high / step) + 1)]
    return [{"x": x_of(v, high), "label": fmt.format(v)} for v in values]


def frame(**extra) -> dict:
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        **extra,
    }


def shpilkin_chart(shpilkin: dict) -> dict:
    """Votes per 1 % turnout bin: the leader, everyone else, and k × others above the peak."""
    bins = shpilkin["bins"]
    leader = [b["leader"] for b in bins]
    others = [b["others"] for b in bins]
    top = max([*leader, *others, 1]) * 1.05
    peak = shpilkin["peak_bin"]
    honest = [shpilkin["honest_ratio"] * value for value in others]
    honest_points = [
        f"{x_of(i + 0.5, 101)},{y_of(v, top)}" for i, v in enumerate(honest) if i >= peak
    ]
    return frame(
        title=_("Votes by turnout (1 % bins)"),
        leader=line_path(leader, top, 101),
        others=line_path(others, top, 101),
        honest="M" + " L".join(honest_points) if honest_points else "",
        peak_x=x_of(peak + 0.5, 101),
        y_ticks=ticks(top),
        x_ticks=x_ticks(100, 10),
    )


def fine_chart(counts: list[int], title) -> dict:
    """Stations per 0.1-point bin of a percentage: spikes at whole numbers stand out."""
    top = max([*counts, 1]) * 1.05
    return frame(
        title=title,
        bars=bars_path(counts, top, 100, 0.1),
        y_ticks=ticks(top, fmt="{:.0f}"),
        x_ticks=x_ticks(100, 10),
    )


def digit_chart(summary: dict | None, observed_key: str, expected: list[float], title) -> dict:
    if not summary:
        return {}
    observed = summary[observed_key]["frequencies"]
    top = max([*observed, *expected]) * 1.15
    expected_marks = [
        {"x1": x_of(d + 0.15, 10), "x2": x_of(d + 0.85, 10), "y": y_of(value, top)}
        for d, value in enumerate(expected)
    ]
    return frame(
        title=title,
        bars=bars_path(observed, top, 10, 1),
        expected=expected_marks,
        y_ticks=ticks(top, fmt="{:.2f}"),
        x_ticks=[{"x": x_of(d + 0.5, 10), "label": str(d)} for d in range(10)],
    )


def statistics_charts(result: dict) -> dict:
    digits = result["digits"]["all"]
    second = digits.get("second_digit")
    return {
        "shpilkin": shpilkin_chart(result["shpilkin"]),
        "turnout_fine": fine_chart(
            result["integer_percentages"]["turnout_histogram"], _("Stations by turnout, 0.1 % bins")
        ),
        "leader_fine": fine_chart(
            result["integer_percentages"]["leader_histogram"],
            _("Stations by the leader's share, 0.1 % bins"),
        ),
        "second_digit": digit_chart(
            digits,
            "second_digit",
            second["expected_frequencies"] if second else [],
            _("Second digits of vote counts ≥ 10 against Benford's law"),
        ),
        "last_digit": digit_chart(
            digits, "last_digit", [0.1] * 10, _("Last digits of vote counts ≥ 10 against uniform")
        ),
    }


def interval_chart(candidates: list[dict], threshold: float, title) -> dict:
    """The quick count: one row per candidate, the 95 % interval as a bar, the estimate as a
    dot and the official share, when known, as a tick; the run-off threshold as a line."""
    values = [v for c in candidates for v in (*(c.get("ci95") or ()), c.get("official")) if v]
    high = max(0.1, threshold + 0.05, *values)
    high = min(1.0, (int(high * 10) + 1) / 10)
    step = (HEIGHT - TOP - BOTTOM) / max(1, len(candidates))
    rows = []
    for index, candidate in enumerate(candidates):
        if candidate.get("share") is None:
            continue
        low, top = candidate["ci95"]
        official = candidate.get("official")
        rows.append(
            {
                "name": candidate["name"],
                "y": round(TOP + step * (index + 0.5), 1),
                "x_low": x_of(max(0.0, low), high),
                "x_high": x_of(min(high, top), high),
                "x": x_of(candidate["share"], high),
                "x_official": None if official is None else x_of(official, high),
            }
        )
    return frame(
        title=title,
        rows=rows,
        x_threshold=x_of(threshold, high),
        x_ticks=x_ticks(high * 100, 10 if high > 0.3 else 5),
    )
