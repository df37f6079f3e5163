"""Elections and their places: okrug → territorial commission (TIK) → polling station.

A station list is applied as a plan: `stations_plan` compares the rows with what the election
already has (read only, so a dry run can show it), and `stations_import` applies that plan
with a handful of bulk queries in one transaction. Importing the same list twice changes
nothing the second time.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from reports.models import Election, Okrug, Station, Tik
from reports.services.audit import audit_record


@dataclass(frozen=True)
class StationRow:
    """One station of a list. `address` None means the list says nothing about it."""

    okrug: str
    tik: str
    number: int
    is_temporary: bool
    has_scanner: bool
    address: str | None = None


@dataclass
class StationPlan:
    """What applying a station list does to an election."""

    rows: list[StationRow]
    new_okrugs: list[str] = field(default_factory=list)
    existing_okrugs: int = 0
    new_tiks: list[tuple[str, str]] = field(default_factory=list)
    existing_tiks: int = 0
    new_stations: list[StationRow] = field(default_factory=list)
    changed_stations: list[tuple[Station, StationRow]] = field(default_factory=list)
    unchanged_stations: int = 0
    not_in_list: int = 0

    def summary(self) -> list[str]:
        lines = [
            _("Okrugs: new %(new)d, already present %(old)d.")
            % {"new": len(self.new_okrugs), "old": self.existing_okrugs},
            _("Territorial commissions: new %(new)d, already present %(old)d.")
            % {"new": len(self.new_tiks), "old": self.existing_tiks},
            _("Stations: new %(new)d, changed %(changed)d, unchanged %(same)d.")
            % {
                "new": len(self.new_stations),
                "changed": len(self.changed_stations),
                "same": self.unchanged_stations,
            },
            _("In the list: %(scanner)d stations with scanners (KOIB), %(temporary)d temporary.")
            % {
                "scanner": sum(row.has_scanner for row in self.rows),
                "temporary": sum(row.is_temporary for row in self.rows),
            },
        ]
        if self.not_in_list:
            lines.append(
                _("Stations of this election missing from the list, left as they are: %(n)d.")
                % {"n": self.not_in_list}
            )
        return lines


def station_differs(station: Station, row: StationRow) -> bool:
    return (
        station.okrug.name != row.okrug
        or station.tik.name != row.tik
        or station.is_temporary != row.is_temporary
        or station.has_scanner != row.has_scanner
        or (row.address is not None and station.address != row.address)
    )


def stations_plan(*, election: Election | None, rows: list[StationRow]) -> StationPlan:
    """Compare a station list with an election's places; None stands for a new election."""
    plan = StationPlan(rows=rows)
    okrugs, tiks, stations = set(), set(), {}
    if election is not None:
        okrugs = set(Okrug.objects.filter(election=election).values_list("name", flat=True))
        tiks = set(Tik.objects.filter(okrug__election=election).values_list("okrug__name", "name"))
        stations = {
            station.number: station
            for station in Station.objects.filter(election=election).select_related("okrug", "tik")
        }
    list_okrugs = dict.fromkeys(row.okrug for row in rows)
    list_tiks = dict.fromkeys((row.okrug, row.tik) for row in rows)
    plan.new_okrugs = [name for name in list_okrugs if name not in okrugs]
    plan.existing_okrugs = len(list_okrugs) - len(plan.new_okrugs)
    plan.new_tiks = [key for key in list_tiks if key not in tiks]
    plan.existing_tiks = len(list_tiks) - len(plan.new_tiks)
    for row in rows:
        station = stations.get(row.number)
        if station is None:
            plan.new_stations.append(row)
        elif station_differs(station, row):
            plan.changed_stations.append((station, row))
        else:
            plan.unchanged_stations += 1
    plan.not_in_list = len(stations.keys() - {row.number for row in rows})
    return plan


@transaction.atomic
def election_create(
    *,
    name: str,
    date: datetime.date,
    time_zone: str = "Europe/Moscow",
    actor: AbstractBaseUser | None = None,
) -> Election:
    election = Election(name=name, date=date, time_zone=time_zone)
    election.full_clean()
    election.save()
    audit_record(
        actor=actor,
        action="election_create",
        obj=election,
        after={"name": name, "date": date.isoformat(), "time_zone": time_zone},
    )
    return election


@transaction.atomic
def stations_import(
    *,
    election: Election,
    rows: list[StationRow],
    actor: AbstractBaseUser | None = None,
    source: str = "",
) -> StationPlan:
    """Create the okrugs, TIKs and stations of a list and update the flags of known ones.

    Imports into one election run one at a time (the election row is locked), so two
    uploads of the same list cannot both create the same okrug.
    """
    Election.objects.select_for_update().filter(pk=election.pk).first()
    plan = stations_plan(election=election, rows=rows)
    Okrug.objects.bulk_create(Okrug(election=election, name=name) for name in plan.new_okrugs)
    okrugs = {okrug.name: okrug for okrug in Okrug.objects.filter(election=election)}
    Tik.objects.bulk_create(Tik(okrug=okrugs[o], name=t) for o, t in plan.new_tiks)
    tiks = {
        (tik.okrug.name, tik.name): tik
        for tik in Tik.objects.filter(okrug__election=election).select_related("okrug")
    }
    Station.objects.bulk_create(
        (
            Station(
                election=election,
                okrug=okrugs[row.okrug],
                tik=tiks[row.okrug, row.tik],
                number=row.number,
                is_temporary=row.is_temporary,
                has_scanner=row.has_scanner,
                address=row.address or "",
            )
            for row in plan.new_stations
        ),
        batch_size=1000,
    )
    for station, row in plan.changed_stations:
        station.okrug = okrugs[row.okrug]
        station.tik = tiks[row.okrug, row.tik]
        station.is_temporary = row.is_temporary
        station.has_scanner = row.has_scanner
        if row.address is not None:
            station.address = row.address
    Station.objects.bulk_update(
        [station for station, _row in plan.changed_stations],
        ["okrug", "tik", "is_temporary", "has_scanner", "address"],
        batch_size=1000,
    )
    audit_record(
        actor=actor,
        action="stations_import",
        obj=election,
        after={
            "okrugs_created": len(plan.new_okrugs),
            "tiks_created": len(plan.new_tiks),
            "stations_created": len(plan.new_stations),
            "stations_changed": [station.number for station, _row in plan.changed_stations],
        },
        note=source,
    )
    return plan
