"""Whatever is done to a real results file (columns swapped, renamed, dropped or given twice,
names in another case or spacing, bad bytes, odd digits or huge numbers at random rows, a
truncated file), `import_results` either stores exactly the clean file's totals or stores
nothing and says what is wrong. It never ends in a traceback."""

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from reports.models import Election, OfficialResult

SOURCE = Path(settings.BASE_DIR).parent / "shared" / "data" / "moscow_2018_uik.csv"
ROWS = 120
FIRST_LINE = 3  # region, tik, uik, then the protocol lines and candidates, then url
ODD_DIGITS = ["²", "٣", "３", "½", "-", "1.5", " "]


@pytest.fixture(scope="module")
def clean() -> list[list[str]]:
    if not SOURCE.exists():
        pytest.skip(f"real data: {SOURCE} absent (shared/data is not part of the repository)")
    with SOURCE.open(encoding="utf-8", newline="") as stream:
        return [row for _number, row in zip(range(ROWS + 1), csv.reader(stream), strict=False)]


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def totals(election: Election) -> tuple[int, dict[str, int]]:
    sums: dict[str, int] = {}
    lines = OfficialResult.objects.filter(election=election).values_list("lines", flat=True)
    for row in lines:
        for key, value in row.items():
            sums[key] = sums.get(key, 0) + value
    return len(lines), sums


def import_into(election: Election | None, path: Path) -> Election:
    options = {"election": election.pk} if election else {"name": "clean", "date": "2018-03-18"}
    with translation.override("en"):
        call_command("import_results", str(path), stdout=io.StringIO(), **options)
    return election or Election.objects.get(name="clean")


@st.composite
def corrupted(draw, rows: list[list[str]]) -> bytes:
    """The clean file with one kind of damage, as bytes."""
    rows = [list(row) for row in rows]
    width = len(rows[0])
    protocol = st.integers(FIRST_LINE, width - 2)
    data_row = st.integers(1, len(rows) - 1)
    kind = draw(
        st.sampled_from(
            ["swap", "rename", "drop", "duplicate", "case", "bytes", "digit", "huge", "truncate"]
        )
    )
    event(kind)
    if kind == "swap":
        first, second = draw(protocol), draw(protocol)
        for row in rows:
            row[first], row[second] = row[second], row[first]
    elif kind == "rename":
        rows[0][draw(protocol)] = draw(st.text(min_size=1, max_size=20).filter(str.strip))
    elif kind == "drop":
        column = draw(st.integers(0, width - 1))
        rows = [row[:column] + row[column + 1 :] for row in rows]
    elif kind == "duplicate":
        column = draw(st.integers(0, width - 1))
        rows = [[*row, row[column]] for row in rows]
    elif kind == "case":
        rows[0] = [respelled(draw, name) for name in rows[0]]
        for at in draw(st.lists(data_row, max_size=20)):
            rows[at][:2] = [respelled(draw, name) for name in rows[at][:2]]
    elif kind in ("digit", "huge"):
        number = draw(st.integers(10**19, 10**30)) if kind == "huge" else None
        text = str(number) if number else draw(st.sampled_from(ODD_DIGITS))
        column = draw(st.sampled_from([2, *range(FIRST_LINE, width - 1)]))
        at = draw(data_row)
        rows[at][column] = text if number or not rows[at][column] else text + rows[at][column]
    content = csv_bytes(rows)
    if kind == "bytes":
        lines = content.split(b"\n")
        at = draw(data_row)
        cut = draw(st.integers(0, len(lines[at])))
        bad = draw(st.sampled_from([b"\xff", b"\xc0\xc1", "Город".encode("cp1251"), b"\x00"]))
        lines[at] = lines[at][:cut] + bad + lines[at][cut:]
        content = b"\n".join(lines)
    if kind == "truncate":
        lines = content.split(b"\n")
        at = draw(data_row)
        url = lines[at].rindex(b",http")
        start = lines[at].index(b",", lines[at].index(b",", lines[at].index(b",") + 1) + 1)
        content = b"\n".join([*lines[:at], lines[at][: draw(st.integers(start, url - 1))]])
    return content


def respelled(draw, name: str) -> str:
    change = draw(st.sampled_from(["upper", "lower", "spaces", "yo"]))
    if change == "upper":
        return name.upper()
    if change == "lower":
        return name.lower()
    if change == "spaces":
        return "  " + name.replace(" ", "   ") + " "
    return name.replace("е", "ё")


@pytest.mark.django_db
def test_a_damaged_file_imports_the_clean_totals_or_nothing(clean, tmp_path):
    reference = import_into(None, write(tmp_path / "clean.csv", csv_bytes(clean)))
    expected = totals(reference)
    assert expected[0] == ROWS

    @hypothesis_settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(content=corrupted(clean))
    def check(content: bytes) -> None:
        election = Election.objects.create(
            name="damaged", date=reference.date, protocol_template=reference.protocol_template
        )
        path = write(tmp_path / "damaged.csv", content)
        try:
            import_into(election, path)
        except CommandError as error:
            event("refused")
            assert str(error).strip()
            assert "Traceback" not in str(error)
            assert not OfficialResult.objects.filter(election=election).exists()
        else:
            event("imported")
            assert totals(election) == expected

    check()


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
