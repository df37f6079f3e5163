"""An observer roster: pseudonym, contacts, legal status, trust and station numbers.

Legal status and trust are accepted as the site's codes or as the words people write in
Russian and English. Station numbers are separated by spaces, commas or semicolons and must
be stations of the election. Each new observer gets a personal sign-in link, shown once.
"""

import re
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from django.utils.translation import gettext as _

from reports.importers.table import (
    Column,
    ImportOutcome,
    RowError,
    RowReader,
    Table,
    normalise,
    read_table,
    rows_read,
    should_write,
)
from reports.models import Election, LegalStatus, Observer, Station, Trust
from reports.services.observer_import import ObserverRow, observers_import, observers_plan

COLUMNS = (
    Column("pseudonym", ("pseudonym", "псевдоним")),
    Column("full_name", ("full name", "full_name", "ФИО", "имя"), required=False),
    Column("phone", ("phone", "телефон"), required=False),
    Column("email", ("email", "e-mail", "эл. почта", "почта"), required=False),
    Column("legal_status", ("legal status", "legal_status", "status", "статус")),
    Column("trust", ("trust", "доверие"), required=False),
    Column("stations", ("stations", "station numbers", "участки", "номера участков")),
)

LEGAL_STATUS_WORDS = {
    "observer": LegalStatus.OBSERVER,
    "наблюдатель": LegalStatus.OBSERVER,
    "consultative": LegalStatus.CONSULTATIVE,
    "consultative vote": LegalStatus.CONSULTATIVE,
    "псг": LegalStatus.CONSULTATIVE,
    "член псг": LegalStatus.CONSULTATIVE,
    "совещательный": LegalStatus.CONSULTATIVE,
    "совещательный голос": LegalStatus.CONSULTATIVE,
    "член комиссии с правом совещательного голоса": LegalStatus.CONSULTATIVE,
    "deciding": LegalStatus.DECIDING,
    "deciding vote": LegalStatus.DECIDING,
    "прг": LegalStatus.DECIDING,
    "член прг": LegalStatus.DECIDING,
    "решающий": LegalStatus.DECIDING,
    "решающий голос": LegalStatus.DECIDING,
    "член комиссии с правом решающего голоса": LegalStatus.DECIDING,
    "journalist": LegalStatus.JOURNALIST,
    "журналист": LegalStatus.JOURNALIST,
    "сми": LegalStatus.JOURNALIST,
}
TRUST_WORDS = {
    "1": Trust.NEW,
    "new": Trust.NEW,
    "новый": Trust.NEW,
    "2": Trust.TRAINED,
    "trained": Trust.TRAINED,
    "обученный": Trust.TRAINED,
    "3": Trust.TRUSTED,
    "trusted": Trust.TRUSTED,
    "доверенный": Trust.TRUSTED,
}
STATION_SEPARATORS = re.compile(r"[\s,;]+")
PHONE = re.compile(r"\+?[0-9 ()\-]+")


def signin_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + reverse("reports:signin_token", args=[token])


class ObserverRowReader(RowReader):
    def __init__(self, *args, stations: dict[int, Station], taken: set[str]) -> None:
        super().__init__(*args)
        self.stations = stations
        self.taken = taken

    def pseudonym(self) -> str:
        value = self.text("pseudonym", limit=80)
        if value in self.taken:
            self.fail("pseudonym", _("this pseudonym belongs to an observer of another election."))
        return value

    def legal_status(self) -> str | None:
        value = self.cells["legal_status"]
        status = LEGAL_STATUS_WORDS.get(normalise(value))
        if value and status is None:
            self.fail(
                "legal_status",
                _(
                    "“%(value)s” is not a legal status: write observer, consultative, "
                    "deciding or journalist (or наблюдатель, ПСГ, ПРГ, журналист)."
                )
                % {"value": value},
            )
        return status

    def trust(self) -> int | None:
        value = self.cells.get("trust", "")
        trust = TRUST_WORDS.get(normalise(value))
        if value and trust is None:
            self.fail(
                "trust",
                _("“%(value)s” is not a trust level: write 1 (new), 2 (trained) or 3 (trusted).")
                % {"value": value},
            )
        return trust

    def phone(self) -> str:
        value = self.text("phone", limit=40, required=False)
        digits = sum(char.isdigit() for char in value)
        if value and not (PHONE.fullmatch(value) and 7 <= digits <= 15):
            self.fail("phone", _("“%(value)s” is not a phone number.") % {"value": value})
        return value

    def email(self) -> str:
        value = self.text("email", limit=254, required=False)
        try:
            if value:
                validate_email(value)
        except ValidationError:
            self.fail("email", _("“%(value)s” is not an email address.") % {"value": value})
        return value

    def station_list(self) -> tuple[Station, ...]:
        found = {}
        for item in STATION_SEPARATORS.split(self.cells["stations"]):
            if not item:
                continue
            station = self.stations.get(int(item)) if item.isascii() and item.isdigit() else None
            if station is None:
                self.fail(
                    "stations",
                    _("there is no station “%(value)s” in this election.") % {"value": item},
                )
            else:
                found[station.number] = station
        return tuple(found.values())

    def row(self) -> ObserverRow | None:
        row = ObserverRow(
            pseudonym=self.pseudonym(),
            full_name=self.text("full_name", limit=200, required=False),
            phone=self.phone(),
            email=self.email(),
            legal_status=self.legal_status(),
            trust=self.trust(),
            stations=self.station_list(),
        )
        return None if self.errors else row


def parse_observers(table: Table, election: Election) -> tuple[list[ObserverRow], list[RowError]]:
    stations = {
        station.number: station
        for station in Station.objects.filter(election=election).only("id", "number")
    }
    taken = set(
        Observer.objects.filter(pseudonym__in=[cells["pseudonym"] for _, cells in table.rows])
        .exclude(election=election)
        .values_list("pseudonym", flat=True)
    )
    reader = partial(ObserverRowReader, table, stations=stations, taken=taken)
    return rows_read(table, reader, unique="pseudonym")


def observers_file_import(
    *,
    data: bytes,
    election: Election,
    dry_run: bool = False,
    import_good_rows: bool = False,
    reissue_links: bool = False,
    actor: AbstractBaseUser | None = None,
) -> ImportOutcome:
    """Read a roster and apply it, or only say what applying it would do.

    The outcome's `links` holds the sign-in links issued, with their raw tokens: show them
    to the coordinator once. Raises ImportFileError when the file as a whole is unusable.
    """
    table = read_table(data, COLUMNS)
    rows, errors = parse_observers(table, election)
    write = should_write(
        dry_run=dry_run, import_good_rows=import_good_rows, errors=errors, good_rows=len(rows)
    )
    if write:
        plan = observers_import(
            election=election, rows=rows, reissue_links=reissue_links, actor=actor
        )
    else:
        plan = observers_plan(election=election, rows=rows, reissue_links=reissue_links)
    return ImportOutcome(
        total_rows=table.total,
        errors=errors,
        warnings=table.warnings,
        summary=plan.summary(),
        applied=write,
        dry_run=dry_run,
        links=plan.links,
    )
