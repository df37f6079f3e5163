"""Applying an observer roster: new observers get an account and a personal sign-in link;
observers already known (same pseudonym, same election) get their status, trust, stations
and contacts updated, and keep their link unless a new one is asked for.

Stations are replaced by the roster's, except assignments past "planned" (the observer
arrived, left or was removed): those are history and stay.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from reports.models import (
    Assignment,
    Election,
    LegalStatus,
    Observer,
    ObserverContact,
    Station,
    Trust,
)
from reports.services.audit import audit_record
from reports.services.observers import observer_create, signin_link_issue, signin_link_revoke

CONTACT_FIELDS = ("full_name", "phone", "email")


@dataclass(frozen=True)
class ObserverRow:
    """One roster line. None and empty values leave a known observer's data as it is."""

    pseudonym: str
    legal_status: str | None = None
    trust: int | None = None
    stations: tuple[Station, ...] = ()
    full_name: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class IssuedLink:
    pseudonym: str
    short_code: str
    token: str  # shown once; only its hash is stored


@dataclass
class ObserverChange:
    observer: Observer
    row: ObserverRow
    fields: list[str]
    add_stations: list[Station]
    remove_station_ids: set[int]


@dataclass
class RosterPlan:
    new: list[ObserverRow] = field(default_factory=list)
    changed: list[ObserverChange] = field(default_factory=list)
    unchanged: int = 0
    relink: list[Observer] = field(default_factory=list)
    kept_links: int = 0
    links: list[IssuedLink] = field(default_factory=list)

    def summary(self) -> list[str]:
        lines = [
            _("Observers: new %(new)d, changed %(changed)d, unchanged %(same)d.")
            % {"new": len(self.new), "changed": len(self.changed), "same": self.unchanged},
            _("New personal sign-in links: %(n)d.") % {"n": len(self.new) + len(self.relink)},
        ]
        if self.kept_links:
            lines.append(
                _(
                    "Observers already known keep their sign-in links (%(n)d); "
                    "ask to reissue links to replace them."
                )
                % {"n": self.kept_links}
            )
        return lines


def observer_change(observer: Observer, row: ObserverRow) -> ObserverChange:
    fields = []
    if row.legal_status and row.legal_status != observer.legal_status:
        fields.append("legal_status")
    if row.trust is not None and row.trust != observer.trust:
        fields.append("trust")
    fields += [
        name
        for name in CONTACT_FIELDS
        if getattr(row, name) and getattr(row, name) != getattr(observer.contact, name)
    ]
    assigned = {a.station_id for a in observer.assignments.all()}
    planned = {
        a.station_id for a in observer.assignments.all() if a.status == Assignment.Status.PLANNED
    }
    wanted = {station.pk for station in row.stations}
    return ObserverChange(
        observer=observer,
        row=row,
        fields=fields,
        add_stations=[station for station in row.stations if station.pk not in assigned],
        remove_station_ids=planned - wanted,
    )


def observers_plan(
    *, election: Election, rows: list[ObserverRow], reissue_links: bool = False
) -> RosterPlan:
    """Compare a roster with the election's observers (read only, for dry runs)."""
    known = {
        observer.pseudonym: observer
        for observer in Observer.objects.filter(
            election=election, pseudonym__in=[row.pseudonym for row in rows]
        )
        .select_related("contact")
        .prefetch_related("assignments", "links")
    }
    plan = RosterPlan()
    for row in rows:
        observer = known.get(row.pseudonym)
        if observer is None:
            plan.new.append(row)
            continue
        change = observer_change(observer, row)
        if change.fields or change.add_stations or change.remove_station_ids:
            plan.changed.append(change)
        else:
            plan.unchanged += 1
        if reissue_links or not any(link.is_active for link in observer.links.all()):
            plan.relink.append(observer)
        else:
            plan.kept_links += 1
    return plan


def observer_change_apply(*, change: ObserverChange, actor: AbstractBaseUser | None) -> None:
    observer, row = change.observer, change.row
    before = {"legal_status": observer.legal_status, "trust": observer.trust}
    if row.legal_status:
        observer.legal_status = row.legal_status
    if row.trust is not None:
        observer.trust = row.trust
    observer.save(update_fields=["legal_status", "trust"])
    contact = {name: getattr(row, name) for name in CONTACT_FIELDS if name in change.fields}
    if contact:
        ObserverContact.objects.update_or_create(observer=observer, defaults=contact)
    Assignment.objects.filter(
        observer=observer,
        station_id__in=change.remove_station_ids,
        status=Assignment.Status.PLANNED,
    ).delete()
    observer.stations.add(*change.add_stations)
    audit_record(
        actor=actor,
        action="observer_import_update",
        obj=observer,
        before=before,
        # Contact values stay out of the audit log: only which of them changed.
        after={
            "legal_status": observer.legal_status,
            "trust": observer.trust,
            "fields": change.fields,
            "stations_added": [station.number for station in change.add_stations],
            "stations_removed": len(change.remove_station_ids),
        },
    )


def link_issue(observer: Observer, actor: AbstractBaseUser | None) -> IssuedLink:
    link, token = signin_link_issue(observer=observer, actor=actor)
    return IssuedLink(pseudonym=observer.pseudonym, short_code=link.short_code, token=token)


@transaction.atomic
def observers_import(
    *,
    election: Election,
    rows: list[ObserverRow],
    reissue_links: bool = False,
    actor: AbstractBaseUser | None = None,
) -> RosterPlan:
    """Apply a roster; the returned plan carries the links issued, with their raw tokens.

    A known observer gets a new link only when asked (`reissue_links`, which revokes the old
    ones) or when none of their links is active.
    """
    plan = observers_plan(election=election, rows=rows, reissue_links=reissue_links)
    for row in plan.new:
        observer = observer_create(
            election=election,
            pseudonym=row.pseudonym,
            legal_status=row.legal_status or LegalStatus.OBSERVER,
            trust=Trust.NEW if row.trust is None else row.trust,
            stations=list(row.stations),
            full_name=row.full_name,
            phone=row.phone,
            email=row.email,
            actor=actor,
        )
        plan.links.append(link_issue(observer, actor))
    for change in plan.changed:
        observer_change_apply(change=change, actor=actor)
    for observer in plan.relink:
        for link in observer.links.all():
            if link.is_active:
                signin_link_revoke(link=link, actor=actor)
        plan.links.append(link_issue(observer, actor))
    return plan
