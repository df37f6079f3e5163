"""The official list of polling stations: okrug, TIK, number, temporary and scanner marks.

The format is that of the Moscow 2013 list published by RosVybory (`Округ`, `Территория
(ТИК)`, `№ участка`, then two mark columns where any non-empty text means yes). A file with
errors changes nothing unless the good rows are imported on purpose.
"""

import datetime
import re
from dataclasses import dataclass
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from reports.importers.table import (
    Column,
    ImportOutcome,
    RowError,
    RowReader,
    Table,
    read_table,
    rows_read,
    should_write,
)
from reports.models import Election
from reports.services.places import StationRow, election_create, stations_import, stations_plan

COLUMNS = (
    Column("okrug", ("Округ", "okrug")),
    Column("tik", ("Территория (ТИК)", "ТИК", "tik")),
    Column("number", ("№ участка", "номер участка", "УИК", "station", "number")),
    Column(
        "temporary",
        ("участки в местах временного пребывания избирателей", "временный", "temporary"),
    ),
    Column("scanner", ("участки с КОИБ", "КОИБ", "scanner")),
    Column("address", ("Адрес", "address"), required=False),
)
# A mark cell means yes unless it is empty or one of these.
NO_WORDS = frozenset({"", "0", "-", "—", "нет", "no", "false"})
STATION_NUMBER = re.compile(r"[0-9]{1,7}")


@dataclass(frozen=True)
class ElectionDraft:
    """An election to import into that may not exist yet: created only when rows are written."""

    name: str
    date: datetime.date
    time_zone: str = "Europe/Moscow"

    def existing(self) -> Election | None:
        return Election.objects.filter(name=self.name, date=self.date).first()

    def get_or_create(self, actor: AbstractBaseUser | None) -> Election:
        return self.existing() or election_create(
            name=self.name, date=self.date, time_zone=self.time_zone, actor=actor
        )


class StationRowReader(RowReader):
    def row(self) -> StationRow | None:
        okrug = self.text("okrug", limit=200)
        tik = self.text("tik", limit=200)
        number = self.text("number", limit=7)
        if number and not (STATION_NUMBER.fullmatch(number) and int(number) > 0):
            self.fail(
                "number",
                _("“%(value)s” is not a station number (a whole number from 1).")
                % {"value": number},
            )
        address = self.text("address", limit=300, required=False)
        if self.errors:
            return None
        return StationRow(
            okrug=okrug,
            tik=tik,
            number=int(number),
            is_temporary=self.cells["temporary"].casefold() not in NO_WORDS,
            has_scanner=self.cells["scanner"].casefold() not in NO_WORDS,
            address=address if "address" in self.cells else None,
        )


def parse_stations(table: Table) -> tuple[list[StationRow], list[RowError]]:
    return rows_read(table, partial(StationRowReader, table), unique="number")


def stations_file_import(
    *,
    data: bytes,
    election: Election | ElectionDraft,
    dry_run: bool = False,
    import_good_rows: bool = False,
    actor: AbstractBaseUser | None = None,
    source: str = "",
) -> ImportOutcome:
    """Read a station list and apply it, or only say what applying it would do.

    Raises ImportFileError when the file as a whole is unusable (not CSV text, missing columns).
    """
    table = read_table(data, COLUMNS)
    rows, errors = parse_stations(table)
    write = should_write(
        dry_run=dry_run, import_good_rows=import_good_rows, errors=errors, good_rows=len(rows)
    )
    if write:
        with transaction.atomic():
            if isinstance(election, ElectionDraft):
                election = election.get_or_create(actor)
            plan = stations_import(election=election, rows=rows, actor=actor, source=source)
        notes = [_("Election: %(name)s (id %(id)d).") % {"name": election, "id": election.pk}]
    else:
        notes = []
        if isinstance(election, ElectionDraft):
            election = election.existing()
        plan = stations_plan(election=election, rows=rows)
    return ImportOutcome(
        total_rows=table.total,
        errors=errors,
        warnings=table.warnings,
        summary=plan.summary(),
        applied=write,
        dry_run=dry_run,
        notes=notes,
    )
