"""Mobile groups and their trips to incidents (dispatched → on site → done).

Each change is one audited write. A trip is audited on its incident, so the incident's page
shows the group's trip and notes; a group is taken for a trip by a conditional UPDATE, so of
two moderators sending one group at once exactly one succeeds.
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.models import Dispatch, Incident, MobileGroup, ReviewStatus
from reports.selectors import okrug_in_scope
from reports.services.audit import audit_record
from reports.services.coverage import CoverageRefused


def group_state(group: MobileGroup) -> dict:
    """What the audit log keeps of a group; members' names and phones stay out of it."""
    return {
        "name": group.name,
        "okrug": group.okrug_id,
        "car": group.car,
        "status": group.status,
        "station": group.station_id,
    }


@transaction.atomic
def mobile_group_save(*, group: MobileGroup, actor: AbstractBaseUser) -> MobileGroup:
    """Create a group or change its name, okrug, members and car (not its status)."""
    old = MobileGroup.objects.select_for_update().filter(pk=group.pk).first() if group.pk else None
    if not okrug_in_scope(actor, group.okrug_id) or (
        old is not None and not okrug_in_scope(actor, old.okrug_id)
    ):
        raise CoverageRefused(_("This group's okrug is outside the okrugs you work on."))
    if old is not None:
        group.status, group.station_id = old.status, old.station_id
    group.updated_at = timezone.now()
    group.full_clean()
    group.save()
    after = group_state(group) | {"members_changed": old is None or old.members != group.members}
    audit_record(
        actor=actor,
        action="mobile_group_save",
        obj=group,
        before=group_state(old) if old else None,
        after=after,
    )
    return group


@transaction.atomic
def mobile_group_set_duty(*, group: MobileGroup, on_duty: bool, actor: AbstractBaseUser) -> bool:
    """Put a free group on or off duty; a group on a trip must finish it first."""
    if not okrug_in_scope(actor, group.okrug_id):
        raise CoverageRefused(_("This group's okrug is outside the okrugs you work on."))
    before, after = MobileGroup.Status.OFF_DUTY, MobileGroup.Status.AVAILABLE
    if not on_duty:
        before, after = after, before
    changed = MobileGroup.objects.filter(pk=group.pk, status=before).update(
        status=after, updated_at=timezone.now()
    )
    if changed:
        audit_record(
            actor=actor, action="mobile_group_set_duty", obj=group,
            before={"status": before}, after={"status": after},
        )  # fmt: skip
    return bool(changed)


def dispatch_state(dispatch: Dispatch) -> dict:
    return {
        "dispatch": dispatch.pk,
        "group": dispatch.group.name,
        "station": dispatch.station.number,
        "status": dispatch.status,
    }


def _notes_add(dispatch: Dispatch, note: str, now: datetime) -> None:
    if note:
        line = f"{timezone.localtime(now):%H:%M} {note}"
        dispatch.notes = f"{dispatch.notes}\n{line}" if dispatch.notes else line


def _dispatch_audit(dispatch: Dispatch, actor, action: str, before, note: str) -> None:
    """On the incident (its page shows the trip), or on the trip if the incident is gone."""
    target = dispatch.incident if dispatch.incident_id else dispatch
    audit_record(
        actor=actor, action=action, obj=target, before=before,
        after=dispatch_state(dispatch), note=note,
    )  # fmt: skip


class DispatchAcrossOkrugs(CoverageRefused):
    """A group asked for a station of another okrug: the actor must confirm it."""

    def __init__(self, group: MobileGroup, incident: Incident):
        super().__init__(
            _(
                "Group %(group)s works in %(group_okrug)s; station %(station)s is in "
                "%(station_okrug)s. Send it across okrugs?"
            )
            % {
                "group": group.name,
                "group_okrug": group.okrug.name,
                "station": incident.station.number,
                "station_okrug": incident.station.okrug.name,
            }
        )
        self.group = group
        self.incident = incident


@transaction.atomic
def group_dispatch(
    *,
    group: MobileGroup,
    incident: Incident,
    actor: AbstractBaseUser,
    note: str = "",
    across_okrugs: bool = False,
    now: datetime | None = None,
) -> Dispatch:
    """Send an available group to an incident's station.

    Refused when the incident or the group is outside the actor's okrugs, the incident was
    rejected, or the group is not available (one conditional UPDATE takes it, so of two
    moderators sending one group at once exactly one succeeds). A group of another okrug
    than the station's goes only when `across_okrugs` says the actor confirmed it
    (DispatchAcrossOkrugs otherwise): it leaves its own okrug without a group.
    """
    now = now or timezone.now()
    note = note.strip()
    incident = Incident.objects.select_related("station__okrug").get(pk=incident.pk)
    if not okrug_in_scope(actor, incident.station.okrug_id) or not okrug_in_scope(
        actor, group.okrug_id
    ):
        raise CoverageRefused(_("This incident or group is outside the okrugs you work on."))
    if group.okrug_id != incident.station.okrug_id and not across_okrugs:
        raise DispatchAcrossOkrugs(group, incident)
    if incident.status == ReviewStatus.REJECTED:
        raise CoverageRefused(
            _("Incident #%(id)s was rejected; nobody is sent to it.") % {"id": incident.pk}
        )
    taken = MobileGroup.objects.filter(pk=group.pk, status=MobileGroup.Status.AVAILABLE).update(
        status=MobileGroup.Status.DISPATCHED, station=incident.station, updated_at=now
    )
    if not taken:
        raise CoverageRefused(
            _("Group %(name)s is not available: it is on another trip or off duty.")
            % {"name": group.name}
        )
    dispatch = Dispatch(
        group=group,
        incident=incident,
        station=incident.station,
        dispatched_by=actor,
        dispatched_at=now,
    )
    if group.okrug_id != incident.station.okrug_id:
        note = " ".join(filter(None, [note, _("(sent across okrugs, confirmed)")]))
    _notes_add(dispatch, note, now)
    dispatch.save()
    _dispatch_audit(dispatch, actor, "group_dispatch", None, note)
    return dispatch


DISPATCH_ORDER = [Dispatch.Status.DISPATCHED, Dispatch.Status.ON_SITE, Dispatch.Status.DONE]
GROUP_STATUS = {
    Dispatch.Status.DISPATCHED: MobileGroup.Status.DISPATCHED,
    Dispatch.Status.ON_SITE: MobileGroup.Status.ON_SITE,
    Dispatch.Status.DONE: MobileGroup.Status.AVAILABLE,
}


@transaction.atomic
def dispatch_update(
    *,
    dispatch: Dispatch,
    status: str,
    actor: AbstractBaseUser,
    note: str = "",
    now: datetime | None = None,
) -> Dispatch:
    """Move a trip on (dispatched → on site → done) and/or add a note to it.

    The group follows: on site at the station, available again when done (the station stays
    as where it was last seen).
    """
    now = now or timezone.now()
    note = note.strip()
    if status not in DISPATCH_ORDER:
        raise CoverageRefused(_("Unknown status: %(status)s") % {"status": status})
    dispatch = (
        Dispatch.objects.select_for_update(of=("self",))
        .select_related("group", "incident", "station")
        .get(pk=dispatch.pk)
    )
    if not okrug_in_scope(actor, dispatch.station.okrug_id):
        raise CoverageRefused(_("This trip is outside the okrugs you work on."))
    current = dispatch.status
    if DISPATCH_ORDER.index(status) < DISPATCH_ORDER.index(current) or current == "done":
        raise CoverageRefused(
            _("This trip is already %(status)s.") % {"status": dispatch.get_status_display()}
        )
    if status == current and not note:
        raise CoverageRefused(_("Nothing to change: choose a new status or write a note."))
    before = dispatch_state(dispatch)
    dispatch.status = status
    if status == Dispatch.Status.ON_SITE and dispatch.on_site_at is None:
        dispatch.on_site_at = now
    if status == Dispatch.Status.DONE:
        dispatch.done_at = now
    _notes_add(dispatch, note, now)
    dispatch.save()
    MobileGroup.objects.filter(pk=dispatch.group_id).update(
        status=GROUP_STATUS[status], station=dispatch.station, updated_at=now
    )
    _dispatch_audit(dispatch, actor, "dispatch_update", before, note)
    return dispatch
