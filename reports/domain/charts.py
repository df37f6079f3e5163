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


def x_of(value: float, high: float, low: float = 0) -> float:
    return round(scale(value, low, high, LEFT, WIDTH - RIGHT), 1)


def y_of(value: float, high: float) -> float:
    return round(scale(value, 0, high, HEIGHT - BOTTOM, TOP), 1)


def line_path(
    values: list[float], top: float, x_high: float, x_step: float = 1, x_low: float = 0
) -> str:
    points = [
        f"{x_of(i * x_step, x_high, x_low)},{y_of(v, top)}"
        for i, v in enumerate(values)
        if x_low <= i * x_step <= x_high
    ]
    return "M" + " L".join(points) if points else ""


def bars_path(
    values: list[float], top: float, x_high: float, width: float, x_low: float = 0
) -> str:
    """One closed rectangle per value, `width` units wide, as a single path."""
    base = y_of(0, top)
    parts = []
    for i, value in enumerate(values):
        if not value or not x_low <= i * width < x_high:
            continue
        x0, x1 = x_of(i * width, x_high, x_low), x_of((i + 1) * width, x_high, x_low)
        parts.append(f"M{x0},{base} V{y_of(value, top)} H{x1} V{base} Z")
    return " ".join(parts)


def ticks(high: float, count: int = 5, fmt: str = "{:,.0f}") -> list[dict]:
    return [
        {"y": y_of(high * i / count, high), "label": fmt.format(high * i / count)}
        for i in range(count + 1)
    ]


def x_ticks(high: float, step: float, fmt: str = "{:.0f}", low: float = 0) -> list[dict]:
    values = [low + i * step for i in range(int((high - low) / step) + 1)]
    return [{"x": x_of(v, high, low), "label": fmt.format(v)} for v in values]


def occupied_range(values: list[float], width: float, full: bool) -> tuple[float, float]:
    """The x range (in percent) of the non-empty bins, widened to whole tens; (0, 100) when
    `full` or when nothing is there. Data in 20–40 % then fills the chart."""
    occupied = [i * width for i, value in enumerate(values) if value]
    if full or not occupied:
        return 0, 100
    return fitted_range([min(occupied), max(occupied) + width - 1e-9])


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


def shpilkin_chart(shpilkin: dict, full: bool = False) -> dict:
    """Votes per 1 % turnout bin: the leader, everyone else, and k × others above the peak."""
    bins = shpilkin["bins"]
    leader = [b["leader"] for b in bins]
    others = [b["others"] for b in bins]
    low, high = occupied_range([a + b for a, b in zip(leader, others, strict=True)], 1, full)
    top = max([*leader, *others, 1]) * 1.05
    peak = shpilkin["peak_bin"]
    honest = [shpilkin["honest_ratio"] * value for value in others]
    honest_points = [
        f"{x_of(i + 0.5, high, low)},{y_of(v, top)}"
        for i, v in enumerate(honest)
        if i >= peak and low <= i + 0.5 <= high
    ]
    return frame(
        title=_("Votes by turnout (1 % bins)"),
        leader=line_path(leader, top, high, x_low=low),
        others=line_path(others, top, high, x_low=low),
        honest="M" + " L".join(honest_points) if honest_points else "",
        peak_x=x_of(peak + 0.5, high, low),
        y_ticks=ticks(top),
        x_ticks=x_ticks(high, 10, low=low),
    )


def fine_chart(counts: list[int], title, full: bool = False) -> dict:
    """Stations per 0.1-point bin of a percentage: spikes at whole numbers stand out."""
    low, high = occupied_range(counts, 0.1, full)
    top = max([*counts, 1]) * 1.05
    return frame(
        title=title,
        bars=bars_path(counts, top, high, 0.1, x_low=low),
        y_ticks=ticks(top, fmt="{:.0f}"),
        x_ticks=x_ticks(high, 10 if high - low > 30 else 5, low=low),
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


def statistics_charts(result: dict, full: bool = False) -> dict:
    """Every chart of the statistics page; percentage axes fitted to the data unless `full`."""
    digits = result["digits"]["all"]
    second = digits.get("second_digit")
    return {
        "shpilkin": shpilkin_chart(result["shpilkin"], full),
        "turnout_fine": fine_chart(
            result["integer_percentages"]["turnout_histogram"],
            _("Stations by turnout, 0.1 % bins"),
            full,
        ),
        "leader_fine": fine_chart(
            result["integer_percentages"]["leader_histogram"],
            _("Stations by the leader's share, 0.1 % bins"),
            full,
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


# Results side by side: horizontal bars, one group per measure, one bar per source.
BAR_ROW, BAR_GAP, LABEL_WIDTH = 14, 10, 200


def fitted_range(values: list[float], step: float = 10) -> tuple[float, float]:
    """An axis from a round number below the smallest value to one above the largest, so that
    differences of a few points are visible (the full 0–100 squeezes them)."""
    present = [v for v in values if v is not None]
    if not present:
        return 0, 100
    low = max(0.0, step * int(min(present) // step) - step)
    high = min(100.0, step * (int(max(present) // step) + 1))
    return (low, high) if high > low else (0, 100)


def comparison_chart(measures: list[tuple[str, dict[str, float | None]]], sources: list) -> dict:
    """`measures`: (label, {source: percent}) rows, e.g. turnout and each candidate's share;
    `sources`: (key, label) pairs in drawing order. The axis is fitted to the data."""
    low, high = fitted_range([v for _label, values in measures for v in values.values()])
    per_group = len(sources) * BAR_ROW + BAR_GAP
    height = TOP + BOTTOM + per_group * len(measures)
    right = WIDTH - RIGHT

    def x(value: float) -> float:
        return round(scale(value, low, high, LABEL_WIDTH, right), 1)

    groups = []
    for index, (label, values) in enumerate(measures):
        top = TOP + index * per_group
        bars = []
        for row, (key, source_label) in enumerate(sources):
            value = values.get(key)
            if value is None:
                continue
            bars.append(
                {
                    "source": key,
                    "label": source_label,
                    "y": top + row * BAR_ROW,
                    "width": max(0.5, x(value) - LABEL_WIDTH),
                    "end": x(value),
                    "value": f"{value:.1f}",
                }
            )
        groups.append({"label": label, "y": top + len(sources) * BAR_ROW / 2, "bars": bars})
    step = (high - low) / 5
    return {
        "width": WIDTH,
        "height": height,
        "left": LABEL_WIDTH,
        "right": right,
        "top": TOP,
        "bottom": height - BOTTOM,
        "bar": BAR_ROW - 3,
        "groups": groups,
        "x_ticks": [{"x": x(low + i * step), "label": f"{low + i * step:.0f}"} for i in range(6)],
        "sources": sources,
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
