"""Reading official per-station results: CSV in the format of `shared/data` (zipped or not,
UTF-8 with or without a byte-order mark or Windows-1251, comma, semicolon or tab) and the
Golos movement's xlsx layout.

Parsing only: the header is matched to the election's protocol form by name before any row is
read, and a file whose columns do not match is refused whole (`ImportFileError`, naming the
columns). Then every row becomes either a clean `ParsedRow` or one or more `Issue`s naming the
row and the column. The rows are stored by `reports.services.protocols.official_results_import`.

CSV columns (README of `shared/data`): `region`, `tik`, `uik`, optionally `oik` (2016), every
numbered protocol line, one column per candidate or party, then `url`. Lines and candidates are
found by their header (the template's names, the CEC's spellings, the line's number), compared
without regard to case, spacing or ё/е; a file without a header row is read by position, and
only when its number of columns is the form's.
Golos xlsx: `link`, `uik`, `kom1` (region), `kom2` (TIK), `kom3` ("УИК №N"), a few more
`kom*` columns, then numbered columns 1, 2, ... holding the lines and then the candidates.
"""

import csv
import io
import itertools
import re
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

from django.utils.translation import gettext as _

from reports.domain.protocol_checks import ProtocolTemplate
from reports.importers.table import ImportFileError, decode, delimiter_of, normalise

# Place columns: the name in the file -> its role. Region, TIK and station are required.
REQUIRED = ("region", "tik", "uik")
CSV_PLACES = {"region": "region", "tik": "tik", "uik": "uik", "url": "url", "oik": "oik"}
GOLOS_PLACES = {"link": "url", "uik": "uik", "kom1": "region", "kom2": "tik", "kom3": "kom3"}
GOLOS_IGNORED = {name: name for name in ("kom1nmb", "kom4", "kom5")}  # read, not used
STATION_NUMBER = re.compile(r"([0-9]+)")
MAX_STATION_NUMBER = 99_999
# Longer digit strings are beyond every limit: read as 10**MAX_DIGITS, never parsed whole.
MAX_DIGITS = 18
PLACE_LENGTH = 200  # the region and TIK columns of OfficialResult
# What openpyxl raises on a damaged, truncated or foreign file.
XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, OSError, ParseError)


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


@dataclass(frozen=True)
class Layout:
    """Where everything is in a row: place columns by role, protocol columns by line key."""

    place: dict[str, int]  # region, tik, uik, url (and kom3 in xlsx) -> index
    fields: list[tuple[str, int]]  # (line key, index), in the form's order
    headers: list[str]
    spare: list[int] = field(default_factory=list)

    @property
    def index(self) -> dict[str, int]:
        return dict(self.fields)

    def header(self, role: str) -> str:
        return self.headers[self.place[role]] if role in self.place else role


@dataclass
class RawRow:
    """One row as read, before validation."""

    row: int
    cells: list
    layout: Layout

    def cell(self, role: str) -> object:
        index = self.layout.place.get(role)
        return self.cells[index] if index is not None else None


def file_bytes(path: Path) -> bytes:
    """The bytes of a CSV, or of the single CSV inside a zip archive."""
    try:
        if path.suffix.lower() != ".zip":
            return path.read_bytes()
        with zipfile.ZipFile(path) as archive:
            names = [name for name in archive.namelist() if name.lower().endswith(".csv")]
            if len(names) != 1:
                raise ImportFileError(_("the archive must hold exactly one CSV file"))
            return archive.read(names[0])
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as error:
        raise ImportFileError(
            _("the zip archive is damaged or truncated (%(reason)s)") % {"reason": error}
        ) from None
    except OSError as error:
        raise ImportFileError(
            _("the file cannot be read (%(reason)s)") % {"reason": error.strerror or error}
        ) from None


def csv_rows(path: Path) -> Iterator[list[str]]:
    """Every row of a CSV file, the header first; ImportFileError names an unreadable row."""
    text = decode(file_bytes(path))
    if not text.strip():
        raise ImportFileError(_("the file is empty"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text))
    try:
        yield from reader
    except csv.Error as error:
        raise ImportFileError(
            _("Row %(row)d cannot be read as CSV: %(reason)s")
            % {"row": reader.line_num, "reason": error}
        ) from None


def xlsx_rows(path: Path) -> Iterator[list]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        rows = [list(values) for values in sheet.iter_rows(values_only=True)]
    except (*XLSX_ERRORS, InvalidFileException) as error:
        raise ImportFileError(
            _("the xlsx file is damaged or not a workbook (%(reason)s)")
            % {"reason": type(error).__name__}
        ) from None
    if not rows:
        raise ImportFileError(_("the file is empty"))
    yield from rows


def csv_header(path: Path) -> list[str]:
    """The first row of a CSV file (ImportFileError when there is none)."""
    return next(csv_rows(path))


def fields_display(template: ProtocolTemplate, keys: list[str]) -> str:
    return ", ".join(f"“{template.number(key)} {template.label(key)}”" for key in keys)


def quoted(names: list[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


def protocol_columns(template: ProtocolTemplate) -> dict[str, str]:
    """Normalised header -> line key; names two fields share are left out as ambiguous."""
    owners = defaultdict(set)
    for key in template.keys:
        for name in template.column_names(key):
            owners[normalise(str(name))].add(key)
    return {name: keys.pop() for name, keys in owners.items() if len(keys) == 1}


def header_layout(
    header: list, template: ProtocolTemplate, *, places: dict[str, str], spare_allowed: bool
) -> Layout:
    """Match a header row to the form; ImportFileError naming every missing, unknown or
    repeated column. `places` maps a place column's name to its role."""
    headers = ["" if name is None else str(name).strip() for name in header]
    wanted = protocol_columns(template)
    found: dict[str, list[int]] = defaultdict(list)
    unknown = []
    for index, name in enumerate(headers):
        key = places.get(normalise(name)) or wanted.get(normalise(name))
        if key is not None:
            found[key].append(index)
        elif name:
            unknown.append(index)
    missing_places = [
        name for name, role in places.items() if role in REQUIRED and role not in found
    ]
    missing = [key for key in template.keys if key not in found]
    repeated = [headers[i] for indexes in found.values() for i in indexes[1:]]
    problems = []
    if missing_places or missing:
        names = [quoted(missing_places), fields_display(template, missing)]
        problems.append(
            _("missing columns: %(columns)s") % {"columns": ", ".join(filter(None, names))}
        )
    if unknown and not spare_allowed:
        problems.append(
            _("columns not in the election's form: %(columns)s")
            % {"columns": quoted([headers[i] for i in unknown])}
        )
    if repeated:
        problems.append(_("columns given twice: %(columns)s") % {"columns": quoted(repeated)})
    if problems:
        raise ImportFileError("; ".join(problems))
    return Layout(
        place={role: found[role][0] for role in set(places.values()) if role in found},
        fields=[(key, found[key][0]) for key in template.keys],
        headers=headers,
        spare=unknown,
    )


def whole_number(value: object) -> int | None:
    """An int from a cell, or None for blank, fractional or non-numeric content.

    Only the ASCII digits 0-9: `isdigit()` alone also accepts "²" and Arabic-Indic digits.
    """
    if type(value) is str:  # the CSV case, first: it runs millions of times
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            return None
        if len(text) <= MAX_DIGITS or len(text.lstrip("0")) <= MAX_DIGITS:
            return int(text)
        return 10**MAX_DIGITS
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return None if value is None else whole_number(str(value))


def is_count(value: object) -> bool:
    return whole_number(value) is not None


def positional_layout(first: list, template: ProtocolTemplate) -> Layout:
    """A file without a header: region, TIK, station, every line and candidate, a link."""
    expected = len(REQUIRED) + len(template.keys)
    if len(first) not in (expected, expected + 1):
        raise ImportFileError(
            _(
                "the file has no header row and %(found)d columns; without a header the "
                "columns must be region, TIK, station, the form's %(fields)d lines and "
                "candidates in order, and optionally a link"
            )
            % {"found": len(first), "fields": len(template.keys)}
        )
    place = {role: index for index, role in enumerate(REQUIRED)}
    if len(first) > expected:
        place["url"] = expected
    headers = [*REQUIRED, *(template.number(key) for key in template.keys), "url"]
    return Layout(
        place=place,
        fields=[(key, len(REQUIRED) + i) for i, key in enumerate(template.keys)],
        headers=headers[: len(first)],
    )


def headerless(first: list, template: ProtocolTemplate) -> bool:
    """A first row that is data: no place column names it, and its lines are numbers."""
    names = {normalise(str(cell)) for cell in first}
    return not names & set(CSV_PLACES) and sum(map(is_count, first)) >= len(template.keys)


@dataclass
class Table:
    """A file opened for reading: its layout and its rows (the header already read)."""

    layout: Layout
    rows: Iterator[RawRow]


def table_open(path: Path, template: ProtocolTemplate) -> Table:
    """Open a results file and match its header to the form, before any row is read."""
    xlsx = path.suffix.lower() == ".xlsx"
    rows = xlsx_rows(path) if xlsx else csv_rows(path)
    header = next(rows, None)
    if header is None:
        raise ImportFileError(_("the file is empty"))
    start = 2
    if xlsx:
        places = GOLOS_PLACES | GOLOS_IGNORED
        layout = header_layout(header, template, places=places, spare_allowed=True)
        region_code = max(index for _key, index in layout.fields) + 1
        layout.spare[:] = [index for index in layout.spare if index != region_code]
    elif headerless(header, template):
        layout, start = positional_layout(header, template), 1
        rows = itertools.chain([header], rows)
    else:
        layout = header_layout(header, template, places=CSV_PLACES, spare_allowed=False)
    width = len(layout.headers)

    def raw_rows() -> Iterator[RawRow]:
        for number, cells in enumerate(rows, start=start):
            if xlsx:
                cells = list(cells) + [None] * (width - len(cells))
            yield RawRow(number, cells, layout)

    return Table(layout=layout, rows=raw_rows())


def text_cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def row_parse(raw: RawRow, template: ProtocolTemplate) -> tuple[ParsedRow | None, list[Issue]]:
    """Validate one row; return the clean row (or None when refused) and its problems."""
    layout = raw.layout
    if len(raw.cells) != len(layout.headers):
        if not any(map(text_cell, raw.cells)):
            return None, [Issue(raw.row, "—", _("empty row; skipped"), refused=False)]
        problem = _("%(found)s columns where the header has %(expected)s") % {
            "found": len(raw.cells),
            "expected": len(layout.headers),
        }
        return None, [Issue(raw.row, "—", problem)]
    lines, issues = {}, []
    for key, index in layout.fields:
        cell = raw.cells[index]
        # A plain count, inline: this runs millions of times on a national file.
        if type(cell) is str and cell.isdigit() and cell.isascii() and len(cell) <= MAX_DIGITS:
            lines[key] = int(cell)
            continue
        number = whole_number(cell)
        if number is None:
            issues.append(Issue(raw.row, layout.headers[index], cell_problem(raw.cells[index])))
        else:
            lines[key] = number
    if len(issues) == len(layout.fields) and not any(map(text_cell, raw.cells)):
        return None, [Issue(raw.row, "—", _("empty row; skipped"), refused=False)]
    issues += bound_issues(raw, template, lines) + place_issues(raw)
    url = text_cell(raw.cell("url"))
    if url and not url.startswith("http"):
        issues.append(Issue(raw.row, layout.header("url"), _("not a link; ignored"), refused=False))
        url = ""
    for index in layout.spare:
        if text_cell(raw.cells[index]):
            message = _("unexpected value “%(value)s” in a spare column; ignored") % {
                "value": text_cell(raw.cells[index])
            }
            issues.append(Issue(raw.row, layout.headers[index], message, refused=False))
    if any(issue.refused for issue in issues):
        return None, issues
    region, tik = text_cell(raw.cell("region")), text_cell(raw.cell("tik"))
    return ParsedRow(raw.row, region, tik, station_number(raw), lines, url), issues


def bound_issues(raw: RawRow, template: ProtocolTemplate, lines: dict[str, int]) -> list[Issue]:
    issues = []
    for key, limit in template.over_limits(lines):
        index = raw.layout.index[key]
        message = _("%(value)s is more than this line can hold (at most %(limit)s)") % {
            "value": text_cell(raw.cells[index]),
            "limit": limit,
        }
        issues.append(Issue(raw.row, raw.layout.headers[index], message))
    return issues


def cell_problem(value: object) -> str:
    text = text_cell(value)
    if not text:
        return _("the cell is empty")
    return _("not a whole number in the digits 0–9: “%(value)s”") % {"value": text}


def station_number(raw: RawRow) -> int | None:
    uik = raw.cell("uik")
    if uik is None and isinstance(raw.cell("kom3"), str):
        found = STATION_NUMBER.search(raw.cell("kom3"))
        uik = found.group(1) if found else None
    number = whole_number(uik)
    return number if number is not None and number <= MAX_STATION_NUMBER else None


EMPTY_PLACE = {
    "region": lambda: _("the region is empty"),
    "tik": lambda: _("the territorial commission is empty"),
}


def place_issues(raw: RawRow) -> list[Issue]:
    layout, issues = raw.layout, []
    for role in ("region", "tik"):
        text = text_cell(raw.cell(role))
        if not text:
            issues.append(Issue(raw.row, layout.header(role), EMPTY_PLACE[role]()))
        elif len(text) > PLACE_LENGTH:
            message = _("longer than %(limit)d characters") % {"limit": PLACE_LENGTH}
            issues.append(Issue(raw.row, layout.header(role), message))
    if station_number(raw) is None:
        message = _("not a station number: “%(value)s”") % {"value": text_cell(raw.cell("uik"))}
        issues.append(Issue(raw.row, layout.header("uik"), message))
    return issues


def rows_parse(
    path: Path, template: ProtocolTemplate, *, region: str = ""
) -> Iterator[tuple[ParsedRow | None, list[Issue]]]:
    """Open the file and parse every row, refusing repeated stations (the first is kept).

    ImportFileError is raised by the first step, before any row, when the file or its header
    cannot be used, and later when a row cannot be read at all.
    """
    table = table_open(path, template)
    seen: dict[tuple[str, int], int] = {}
    wanted = normalise(region)
    for raw in table.rows:
        parsed, issues = row_parse(raw, template)
        if parsed is not None and region and normalise(parsed.region) != wanted:
            continue
        if parsed is not None:
            key = (normalise(parsed.region), parsed.uik)
            if key in seen:
                message = _("station %(uik)s repeats row %(first)s; the first row was kept") % {
                    "uik": parsed.uik,
                    "first": seen[key],
                }
                issues.append(Issue(raw.row, table.layout.header("uik"), message))
                parsed = None
            else:
                seen[key] = raw.row
        yield parsed, issues


def protocol_headers(header: list[str]) -> list[str]:
    """The line and candidate columns of a CSV header, in the file's order."""
    return [name for name in header if normalise(name) not in CSV_PLACES]


def line_count_guess(headers: list[str]) -> str:
    """Which federal form a CSV header is: absentee-certificate lines exist only before 2018."""
    if any("открепительн" in header.lower() for header in headers):
        return "federal-18"
    return "federal-12"
