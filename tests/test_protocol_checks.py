"""Protocol templates: a correct protocol passes, every single-line error is caught and the
failing relation names its lines, soft checks warn, and every official row in shared/data
satisfies the hard relations."""

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from reports.domain.protocol_checks import ProtocolTemplate, template_load
from reports.importers.results import csv_header, line_count_guess, protocol_headers, rows_parse

DATA = Path(settings.BASE_DIR).parent / "shared" / "data"

# Real rows: Moscow 2011 station 843 (18 lines), Moscow 2018 station 850 (12 lines).
FEDERAL_18 = [1909, 1290, 0, 855, 16, 419, 16, 854, 51, 819, 13, 13, 61, 0, 7, 0, 0, 0]
VOTES_2011 = [139, 114, 15, 215, 95, 235, 6]
FEDERAL_12 = [2382, 2000, 0, 1390, 64, 546, 64, 1386, 23, 1427, 0, 0]
VOTES_2018 = [12, 172, 73, 988, 76, 14, 32, 60]
MOSCOW_2013 = [2000, 1500, 700, 60, 740, 60, 700, 10, 750, 0, 0, 5, 5, 60, 25, 200, 455]


def template_and_values(key: str) -> tuple[ProtocolTemplate, dict[str, int]]:
    if key == "federal-18":
        data, numbers = template_load(key, ["p"] * 7), FEDERAL_18 + VOTES_2011
    elif key == "federal-12":
        data, numbers = template_load(key, ["c"] * 8), FEDERAL_12 + VOTES_2018
    else:
        data, numbers = template_load(key), MOSCOW_2013
    template = ProtocolTemplate(data)
    return template, dict(zip(template.keys, numbers, strict=True))


def related_lines(key: str) -> list[tuple[str, str]]:
    template, _values = template_and_values(key)
    involved = set()
    for relation in template.data["relations"]:
        involved |= {line for _sign, line in template.terms(relation["left"] + relation["right"])}
    return [(key, line) for line in template.keys if line in involved]


TEMPLATES = ["federal-18", "federal-12", "moscow-2013"]
SINGLE_LINE_ERRORS = [case for key in TEMPLATES for case in related_lines(key)]


@pytest.mark.parametrize("key", TEMPLATES)
def test_a_correct_protocol_passes_every_relation(key):
    template, values = template_and_values(key)
    check = template.check(values)
    assert check.ok
    assert check.failure_keys == []


@pytest.mark.parametrize(("key", "line"), SINGLE_LINE_ERRORS)
def test_a_single_line_typo_is_caught_and_its_line_named(key, line):
    template, values = template_and_values(key)
    # Line 1 only bounds the others from above: the typo that breaks it is a dropped digit.
    values[line] = values[line] // 10 if line == "voters" else values[line] + 7
    check = template.check(values)
    assert not check.ok
    assert any(template.number(line) in outcome.lines for outcome in check.outcomes_failed)


def test_the_failure_message_names_the_relation_and_both_sides():
    template, values = template_and_values("federal-18")
    values["valid"] += 1  # now 7 + 8 ≠ 9 + 10 and 10 ≠ the candidates' sum
    with translation.override("en"):
        messages = [outcome.message for outcome in template.check(values).outcomes_failed]
    assert "line 7 + 8 = 9 + 10 does not hold: 870 against 871" in messages
    assert "line 10 = the sum of the candidates' votes does not hold: 820 against 819" in messages


def test_the_message_is_in_russian_for_russian_observers():
    template, values = template_and_values("federal-12")
    values["voters"] = 10
    with translation.override("ru"):
        (outcome,) = template.check(values).outcomes_failed
    assert outcome.message == "строка 1 ≥ 3 + 4 + 5 не выполняется: 10 против 1454"


def test_more_ballots_in_portable_boxes_than_issued_outside_only_warns():
    template, values = template_and_values("federal-12")
    values["portable"] += 5
    values["stationary"] -= 5
    check = template.check(values)
    assert check.ok
    assert check.warning_keys == ["portable_within_outside"]


def test_ballots_in_boxes_above_ballots_issued_only_warns():
    template, values = template_and_values("moscow-2013")
    values.update(portable=70, invalid=20)  # 70 + 700 > 700 + 60 issued
    check = template.check(values)
    assert check.ok
    assert set(check.warning_keys) == {"portable_within_outside", "boxes_within_issued"}


def test_candidates_are_numbered_after_the_last_line():
    template = ProtocolTemplate(template_load("federal-12", ["Бабурин", "Грудинин"]))
    assert [template.number(key) for key in template.candidate_keys] == ["13", "14"]
    assert template.label("c2") == "Грудинин"


def test_a_template_without_lines_is_refused():
    with pytest.raises(ValueError, match="lines"):
        ProtocolTemplate({})


def official_files() -> list[Path]:
    if not DATA.is_dir():
        pytest.skip(f"real data: {DATA} absent (shared/data is not part of the repository)")
    return sorted(DATA.glob("*_uik.csv")) + sorted(DATA.glob("russia_federal_*_uik.csv.zip"))


@pytest.mark.parametrize(
    "name",
    [
        "moscow_2011_uik.csv", "moscow_2012_uik.csv", "moscow_2016_uik.csv",
        "moscow_2018_uik.csv", "russia_federal_2011_uik.csv.zip",
        "russia_federal_2012_uik.csv.zip", "russia_federal_2016_uik.csv.zip",
        "russia_federal_2018_uik.csv.zip",
    ],
)  # fmt: skip
def test_every_official_row_satisfies_the_hard_relations(name):
    path = next((p for p in official_files() if p.name == name), None)
    assert path is not None, f"{name} missing from {DATA}"
    header = csv_header(path)
    key = line_count_guess(header)
    lines = len(template_load(key)["lines"])
    template = ProtocolTemplate(template_load(key, protocol_headers(header)[lines:]))
    failures, rows = [], 0
    for parsed, issues in rows_parse(path, template):
        assert parsed is not None, [str(issue) for issue in issues]
        rows += 1
        if not template.check(parsed.lines).ok:
            failures.append(parsed.uik)
    assert rows > 3000
    assert failures == []
