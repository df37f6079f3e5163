"""Reading official per-station results: CSV in the format of `shared/data` (zipped or not)
and the Golos movement's xlsx layout.

Parsing only: every row becomes either a clean `ParsedRow` or one or more `Issue`s naming the
row and the column, so a dirty file is reported precisely while its clean rows are kept. The
rows are stored by `reports.services.protocols.official_results_import`.

CSV columns (README of `shared/data`): `region`, `tik`, `uik`, optionally `oik` (2016), every
numbered protocol line in protocol order, one column per candidate or party, then `url`.
Golos xlsx: `link`, `uik`, `kom1` (region), `kom2` (TIK), `kom3` ("УИК №N"), a few more
`kom*` columns, then numbered columns 1, 2, ... holding the lines and then the candidates.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from reports.domain.protocol_checks import ProtocolTemplate

CSV_PLACE_COLUMNS = ("region", "tik", "uik")
CSV_OPTIONAL_COLUMNS = ("oik",)
GOLOS_PLACE_COLUMNS = ("link", "uik", "kom1", "kom2", "kom3", "kom1nmb", "kom4", "kom5")
# The column right after the candidates holds Golos's region code in every row.
GOLOS_REGION_CODE_COLUMNS = 1
STATION_NUMBER = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Issue:
    """A problem in one row: `column` is the header as written in the file."""

    row: int
    column: str
    message: str
    refused: bool = True

    def __str__(self) -> str:
        where = _("row %(row)s, column “%(column)s”") % {"row": self.row, "column": self.column}
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "refused": self.refused,
        }


@dataclass
class ParsedRow:
    row: int
    region: str
    tik: str
    uik: int
    lines: dict[str, int]
    url: str = ""


@dataclass
class RawRow:
    """One row as read, before validation: place cells, protocol cells, spare cells."""

    row: int
    region: object
    tik: object
    uik: object
    cells: list[tuple[str, object]]
    url: object = ""
    spare: list[tuple[str, object]] = field(default_factory=list)
    # Set when the row could not even be split into cells.
    problem: str = ""
    # Headers of the region, TIK, station and link columns, for the messages.
    columns: tuple[str, str, str, str] = ("region", "tik", "uik", "url")


@dataclass
class Table:
    """A file opened for reading: its protocol column headers and its rows."""

    headers: list[str]
    rows: Iterator[RawRow]


def candidate_names_from_csv(headers: list[str], template_lines: int) -> list[str]:
    """The candidate columns of a CSV header: after the place columns and protocol lines."""
    protocol = protocol_headers(headers)
    return protocol[template_lines:]


def protocol_headers(headers: list[str]) -> list[str]:
    skip = set(CSV_PLACE_COLUMNS) | set(CSV_OPTIONAL_COLUMNS) | {"url"}
    return [header for header in headers if header not in skip]


def line_count_guess(headers: list[str]) -> str:
    """Which federal form a CSV header is: absentee-certificate lines exist only before 2018."""
    if any("открепительн" in header.lower() for header in headers):
        return "federal-18"
    return "federal-12"


def open_text(path: Path) -> io.TextIOBase:
    """A text stream of a CSV, or of the single CSV inside a zip archive."""
    if path.suffix.lower() == ".zip":
        archive = zipfile.ZipFile(path)
        names = [name for name in archive.namelist() if name.lower().endswith(".csv")]
        if len(names) != 1:
            raise ValueError(_("the archive must hold exactly one CSV file"))
        return io.TextIOWrapper(archive.open(names[0]), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def csv_header(path: Path) -> list[str]:
    with open_text(path) as stream:
        return next(csv.reader(stream))


def csv_table(path: Path) -> Table:
    stream = open_text(path)
    reader = csv.reader(stream)
    headers = next(reader)
    missing = [name for name in (*CSV_PLACE_COLUMNS, "url") if name not in headers]
    if missing:
        stream.close()
        raise ValueError(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
    position = {name: headers.index(name) for name in (*CSV_PLACE_COLUMNS, "url")}
    protocol = [i for i, header in enumerate(headers) if header in protocol_headers(headers)]

    def rows() -> Iterator[RawRow]:
        with stream:
            for number, cells in enumerate(reader, start=2):
                if len(cells) != len(headers):
                    problem = _("%(found)s columns where the header has %(expected)s") % {
                        "found": len(cells),
                        "expected": len(headers),
                    }
                    yield RawRow(number, None, None, None, cells=[], problem=problem)
                    continue
                yield RawRow(
                    row=number,
                    region=cells[position["region"]],
                    tik=cells[position["tik"]],
                    uik=cells[position["uik"]],
                    cells=[(headers[i], cells[i]) for i in protocol],
                    url=cells[position["url"]],
                )

    return Table(headers=[headers[i] for i in protocol], rows=rows())


def xlsx_table(path: Path, *, protocol_columns: int) -> Table:
    """Golos's layout; `protocol_columns` (lines + candidates) comes from the template."""
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    headers = ["" if value is None else str(value) for value in next(rows)]
    place = {name: headers.index(name) for name in GOLOS_PLACE_COLUMNS if name in headers}
    first = len(GOLOS_PLACE_COLUMNS)
    protocol = list(range(first, first + protocol_columns))
    spare = list(range(first + protocol_columns + GOLOS_REGION_CODE_COLUMNS, len(headers)))

    def cell(values: tuple, name: str) -> object:
        return values[place[name]] if name in place else None

    def raw_rows() -> Iterator[RawRow]:
        for number, values in enumerate(rows, start=2):
            values = tuple(values) + (None,) * (len(headers) - len(values))
            uik = cell(values, "uik")
            if uik is None and isinstance(cell(values, "kom3"), str):
                found = STATION_NUMBER.search(cell(values, "kom3"))
                uik = found.group(1) if found else None
            yield RawRow(
                row=number,
                region=cell(values, "kom1"),
                tik=cell(values, "kom2"),
                uik=uik,
                cells=[(headers[i], values[i]) for i in protocol],
                url=cell(values, "link"),
                spare=[(headers[i], values[i]) for i in spare],
                columns=("kom1", "kom2", "uik", "link"),
            )

    return Table(headers=[headers[i] for i in protocol], rows=raw_rows())


def table_open(path: Path, *, protocol_columns: int) -> Table:
    if path.suffix.lower() == ".xlsx":
        return xlsx_table(path, protocol_columns=protocol_columns)
    return csv_table(path)


def whole_number(value: object) -> int | None:
    """An int from a cell, or None for blank, fractional or non-numeric content."""
    if type(value) is str:  # the CSV case, first: it runs millions of times
        text = value.strip()
        return int(text) if text.isdigit() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def text_cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def row_parse(raw: RawRow, template: ProtocolTemplate) -> tuple[ParsedRow | None, list[Issue]]:
    """Validate one row; return the clean row (or None when refused) and its problems."""
    if raw.problem:
        return None, [Issue(raw.row, "—", raw.problem)]
    lines, bad = {}, []
    for key, (header, value) in zip(template.keys, raw.cells, strict=True):
        number = whole_number(value)
        if number is None or number < 0:
            bad.append((header, text_cell(value)))
        else:
            lines[key] = number
    if len(bad) == len(raw.cells) and not any(text for _h, text in bad) and not text_cell(raw.uik):
        return None, [Issue(raw.row, "—", _("empty row"))]
    issues = place_issues(raw) + [
        Issue(raw.row, header, cell_problem(text)) for header, text in bad
    ]
    url = text_cell(raw.url)
    if url and not url.startswith("http"):
        issues.append(Issue(raw.row, raw.columns[3], _("not a link; ignored"), refused=False))
        url = ""
    for header, value in raw.spare:
        if text_cell(value):
            message = _("unexpected value “%(value)s” in a spare column; ignored") % {
                "value": text_cell(value)
            }
            issues.append(Issue(raw.row, header, message, refused=False))
    if any(issue.refused for issue in issues):
        return None, issues
    region, tik, uik = text_cell(raw.region), text_cell(raw.tik), whole_number(raw.uik)
    return ParsedRow(raw.row, region, tik, uik, lines, url), issues


def cell_problem(text: str) -> str:
    if not text:
        return _("the cell is empty")
    return _("not a whole number: “%(value)s”") % {"value": text}


def place_issues(raw: RawRow) -> list[Issue]:
    issues = []
    if not text_cell(raw.region):
        issues.append(Issue(raw.row, raw.columns[0], _("the region is empty")))
    if not text_cell(raw.tik):
        issues.append(Issue(raw.row, raw.columns[1], _("the territorial commission is empty")))
    if raw.uik in (None, "") or whole_number(raw.uik) is None:
        message = _("not a station number: “%(value)s”") % {"value": text_cell(raw.uik)}
        issues.append(Issue(raw.row, raw.columns[2], message))
    return issues


def rows_parse(
    table: Table, template: ProtocolTemplate, *, region: str = ""
) -> Iterator[tuple[ParsedRow | None, list[Issue]]]:
    """Parse every row, refusing repeated stations (the first one is kept)."""
    if len(table.headers) != len(template.keys):
        raise ValueError(
            _("the file has %(found)s protocol columns, the election's form %(expected)s")
            % {"found": len(table.headers), "expected": len(template.keys)}
        )
    seen: dict[tuple[str, int], int] = {}
    for raw in table.rows:
        parsed, issues = row_parse(raw, template)
        if parsed is not None and region and parsed.region.casefold() != region.casefold():
            continue
        if parsed is not None:
            key = (parsed.region.casefold(), parsed.uik)
            if key in seen:
                message = _("station %(uik)s repeats row %(first)s; the first row was kept") % {
                    "uik": parsed.uik,
                    "first": seen[key],
                }
                issues.append(Issue(raw.row, raw.columns[2], message))
                parsed = None
            else:
                seen[key] = raw.row
        yield parsed, issues
