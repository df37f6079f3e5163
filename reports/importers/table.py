"""Reading an uploaded CSV table: encoding, delimiter, headers, and errors that name the row.

Spreadsheets export CSV in UTF-8 (with or without a byte-order mark) or, on Russian Windows,
in Windows-1251 with semicolons; both are accepted. Rows are numbered as a spreadsheet shows
them: the header is row 1.
"""

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from django.utils.translation import gettext as _

MAX_BYTES = 5 * 1024 * 1024
DELIMITERS = (",", ";", "\t")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportFileError(Exception):
    """The file as a whole cannot be read: nothing in it is imported."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    names: tuple[str, ...]  # accepted spellings of the header; the first is shown to users
    required: bool = True


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        if not self.column:
            return _("Row %(row)d: %(reason)s") % {"row": self.row, "reason": self.reason}
        return _("Row %(row)d, column “%(column)s”: %(reason)s") % {
            "row": self.row,
            "column": self.column,
            "reason": self.reason,
        }


@dataclass
class Table:
    headers: dict[str, str]  # column key -> the header as written in the file
    rows: list[tuple[int, dict[str, str]]]
    warnings: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Rows with content: those read and those rejected for their number of cells."""
        return len(self.rows) + len(self.errors)

    def error(self, row: int, key: str, reason: str) -> RowError:
        return RowError(row=row, column=self.headers.get(key, ""), reason=reason)


def normalise(header: str) -> str:
    return " ".join(header.replace("ё", "е").replace("Ё", "Е").split()).casefold()


def decode(data: bytes) -> str:
    """Return the text of a CSV file in UTF-8 or Windows-1251, or raise ImportFileError.

    A file that is UTF-8 up to some bad bytes is not read as Windows-1251 (which would turn
    all of it into nonsense): the error names the row of the bad bytes.
    """
    zero = data.find(b"\x00")
    if zero > data.find(b"\n") >= 0:
        raise ImportFileError(
            _("Row %(row)d holds a zero byte, which no text does.")
            % {"row": data.count(b"\n", 0, zero) + 1}
        )
    if zero < 0:
        for encoding in ("utf-8-sig", "cp1251"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as error:
                if not data[: error.start].isascii():
                    raise ImportFileError(
                        _("Row %(row)d is not UTF-8 text like the rows before it.")
                        % {"row": data.count(b"\n", 0, error.start) + 1}
                    ) from None
                continue
            if not CONTROL_CHARACTERS.search(text):
                return text
    raise ImportFileError(
        _("This is not a CSV text file (UTF-8 or Windows-1251). Save the table as CSV.")
    )


def delimiter_of(text: str) -> str:
    """Comma, semicolon or tab: whichever the header row holds most of."""
    first_line = text.split("\n", 1)[0]
    return max(DELIMITERS, key=first_line.count)


def read_table(data: bytes, columns: Sequence[Column]) -> Table:
    """Split a CSV file into rows of cells keyed by column; raise ImportFileError if unusable."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text))
    try:
        header = next(reader, [])
        table = Table(headers=match_headers(header, columns), rows=[])
        keys = [key_of(name, columns) for name in header]
        for cells in reader:
            add_row(table, reader.line_num, cells, keys)
    except csv.Error as error:
        raise ImportFileError(
            _("Row %(row)d cannot be read as CSV: %(reason)s")
            % {"row": reader.line_num, "reason": error}
        ) from None
    table.warnings = [
        _("Column “%(name)s” is not known and was ignored.") % {"name": name}
        for name, key in zip(header, keys, strict=True)
        if key is None and name.strip()
    ]
    if not table.rows and not table.errors:
        raise ImportFileError(_("The file has a header but no rows."))
    return table


def key_of(name: str, columns: Sequence[Column]) -> str | None:
    wanted = normalise(name)
    for column in columns:
        if wanted in (normalise(spelling) for spelling in column.names):
            return column.key
    return None


def match_headers(header: list[str], columns: Sequence[Column]) -> dict[str, str]:
    if not any(name.strip() for name in header):
        raise ImportFileError(_("The file is empty: the first row must hold the column names."))
    found: dict[str, str] = {}
    for name in header:
        key = key_of(name, columns)
        if key is not None and key in found:
            raise ImportFileError(
                _("Columns “%(first)s” and “%(second)s” mean the same thing; keep one.")
                % {"first": found[key], "second": name}
            )
        if key is not None:
            found[key] = name
    missing = [column.names[0] for column in columns if column.required and column.key not in found]
    if missing:
        raise ImportFileError(
            _("Missing columns: %(missing)s. The first row must name these columns: %(expected)s.")
            % {
                "missing": ", ".join(f"“{name}”" for name in missing),
                "expected": ", ".join(f"“{column.names[0]}”" for column in columns),
            }
        )
    return found


def add_row(table: Table, line: int, cells: list[str], keys: list[str | None]) -> None:
    if not any(cell.strip() for cell in cells):
        return  # blank lines and rows of empty cells, as spreadsheets leave at the end
    extra = cells[len(keys) :]
    if len(cells) < len(keys) or any(cell.strip() for cell in extra):
        table.errors.append(
            RowError(
                row=line,
                column="",
                reason=_("the row has %(found)d cells, the header has %(expected)d.")
                % {"found": len(cells), "expected": len(keys)},
            )
        )
        return
    values = {key: cell.strip() for key, cell in zip(keys, cells, strict=False) if key}
    table.rows.append((line, values))


class RowReader:
    """The cells of one row; collects errors that name the row and the column."""

    def __init__(self, table: Table, line: int, cells: dict[str, str]) -> None:
        self.table = table
        self.line = line
        self.cells = cells
        self.errors: list[RowError] = []

    def fail(self, key: str, reason: str) -> None:
        self.errors.append(self.table.error(self.line, key, reason))

    def text(self, key: str, *, limit: int, required: bool = True) -> str:
        value = self.cells.get(key, "")
        if required and not value:
            self.fail(key, _("the cell is empty."))
        elif len(value) > limit:
            self.fail(key, _("longer than %(limit)d characters.") % {"limit": limit})
        return value

    def row(self):
        """The row's clean value, or None when `errors` says what is wrong."""
        raise NotImplementedError


def rows_read(
    table: Table, reader: Callable[[int, dict[str, str]], RowReader], unique: str
) -> tuple[list, list[RowError]]:
    """The clean rows without errors, and the errors of all rows sorted by row.

    Two rows with the same value of the `unique` attribute (a station number, a pseudonym)
    are both errors: there is no telling which of them is right.
    """
    errors = list(table.errors)
    parsed = []
    lines_by_value = defaultdict(list)
    for line, cells in table.rows:
        row_reader = reader(line, cells)
        row = row_reader.row()
        errors += row_reader.errors
        if row is not None:
            parsed.append((line, row))
            lines_by_value[getattr(row, unique)].append(line)
    for value, lines in lines_by_value.items():
        if len(lines) == 1:
            continue
        reason = _("“%(value)s” appears more than once, in rows %(rows)s.") % {
            "value": value,
            "rows": ", ".join(map(str, lines)),
        }
        errors += [table.error(line, unique, reason) for line in lines]
    bad_lines = {error.row for error in errors}
    errors.sort(key=attrgetter("row"))
    return [row for line, row in parsed if line not in bad_lines], errors


@dataclass
class ImportOutcome:
    """What an import did or, when nothing was written, what it would have done."""

    total_rows: int
    errors: list[RowError]
    warnings: list[str]
    summary: list[str]
    applied: bool
    dry_run: bool
    notes: list[str] = field(default_factory=list)
    links: list = field(default_factory=list)  # IssuedLink of the observer roster

    @property
    def rejected_rows(self) -> int:
        return len({error.row for error in self.errors})

    def verdict(self) -> str:
        counts = {"bad": self.rejected_rows, "total": self.total_rows}
        if self.dry_run:
            if self.errors:
                return (
                    _("Dry run: nothing was written. %(bad)d of %(total)d rows have errors.")
                    % counts
                )
            return _("Dry run: nothing was written. All %(total)d rows are correct.") % counts
        if not self.applied:
            return (
                _(
                    "Nothing was imported: %(bad)d of %(total)d rows have errors. Fix them, "
                    "or choose to import the good rows anyway."
                )
                % counts
            )
        if self.errors:
            return (
                _("Imported the good rows; %(bad)d of %(total)d rows had errors and were skipped.")
                % counts
            )
        return _("Imported all %(total)d rows.") % counts


def should_write(*, dry_run: bool, import_good_rows: bool, errors: list, good_rows: int) -> bool:
    return not dry_run and good_rows > 0 and (import_good_rows or not errors)
