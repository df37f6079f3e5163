"""Coverage pages: the observer's one-tap check-in, the coordinators' live coverage page and
the mobile groups' board.

The coverage page reads only what the worker stored (station rows and tallies, a few small
indexed queries) and embeds it as JSON; `static/reports/coverage/coverage.js` draws it and
fetches `coverage/data.json` again every COVERAGE_PAGE_SECONDS. The groups' board is plain
HTML forms, each calling one service of `reports.services.coverage`.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reports.admin.dashboard import dashboard_election
from reports.domain.coverage_rules import Figures, groups_for
from reports.forms.coverage import (
    SILENT,
    CheckInForm,
    CoverageFilterForm,
    DispatchForm,
    DispatchUpdateForm,
    LeaveForm,
)
from reports.models import (
    Assignment,
    CoverageRules,
    CoverageTally,
    Dispatch,
    Election,
    Escalation,
    Incident,
    ReviewStatus,
    StationCoverage,
)
from reports.selectors import incidents_for, okrugs_for, severity_rank
from reports.services.coverage import CoverageRefused, assignment_set_status, observer_check_in
from reports.services.mobile_groups import (
    DispatchAcrossOkrugs,
    dispatch_update,
    group_dispatch,
)
from reports.services.quickcount import sample_coverage
from reports.views.volunteers import observer_required

STATIONS_SHOWN = 50
NOBODY_SHOWN = 500
NEEDED_SHOWN = 30
DONE_SHOWN = 20
State = StationCoverage.State


# The observer's check-in


@observer_required
def checkin(request: HttpRequest) -> HttpResponse:
    observer = request.observer
    form = CheckInForm(request.POST or None, election=observer.election)
    if request.method == "POST" and form.is_valid():
        station = form.cleaned_data["station_number"]
        try:
            _assignment, changed = observer_check_in(observer=observer, station=station)
        except CoverageRefused as refusal:
            messages.error(request, refusal.message)
        else:
            text = _("You are checked in at station %(number)s. Thank you!")
            if not changed:
                text = _("You were already checked in at station %(number)s.")
            messages.success(request, text % {"number": station.number})
        return redirect("coverage:checkin")
    assignments = observer.assignments.select_related("station").order_by("station__number")
    context = {"assignments": assignments, "form": form}
    return TemplateResponse(
        request, "coverage/checkin.html", context, status=400 if form.errors else 200
    )


@require_POST
@observer_required
def checkin_left(request: HttpRequest) -> HttpResponse:
    form = LeaveForm(request.POST, observer=request.observer)
    if form.is_valid():
        assignment = form.cleaned_data["assignment"]
        assignment_set_status(
            assignment=assignment, status=Assignment.Status.LEFT, actor=request.user
        )
        messages.info(
            request,
            _("You have left station %(number)s. Check in again when you arrive anywhere.")
            % {"number": assignment.station.number},
        )
    return redirect("coverage:checkin")


# Headquarters


def staff_permission_required(permission: str) -> Callable:
    """Staff only (others are sent to sign in), and only with `permission` (else 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return staff_member_required(wrapper)

    return decorator


def hhmm(moment, election: Election) -> str:
    return timezone.localtime(moment, election.tz).strftime("%H:%M") if moment else ""


def area_rows(request: HttpRequest, election: Election, okrug, tik) -> list[dict]:
    """The okrugs in the staff member's scope, or the TIKs of the chosen okrug."""
    query = f"?election={election.pk}"
    tallies = CoverageTally.objects.filter(
        election=election, okrug__in=okrugs_for(request.user)
    ).select_related("okrug", "tik")
    if okrug is None:
        tallies = tallies.filter(level=CoverageTally.Level.OKRUG).order_by("okrug__name")
        return [
            {
                "name": t.okrug.name,
                "url": f"{query}&okrug={t.okrug_id}",
                "figures": Figures.of_tally(t),
            }
            for t in tallies
        ]
    tallies = tallies.filter(level=CoverageTally.Level.TIK, okrug=okrug).order_by("tik__name")
    if tik is not None:
        tallies = tallies.filter(tik=tik)
    return [
        {
            "name": t.tik.name,
            "url": f"{query}&okrug={t.okrug_id}&tik={t.tik_id}",
            "figures": Figures.of_tally(t),
        }
        for t in tallies
    ]


def state_total(figures: Figures, state: str) -> int:
    """How many stations of these figures a state filter matches, read from the tallies."""
    return {
        "": figures.stations,
        State.NOBODY: figures.nobody,
        State.ABSENT: figures.absent,
        State.PRESENT: figures.present,
        State.REMOVED: figures.removed,
        SILENT: figures.silent,
    }[state]


# The stations table leads with what needs a call: silent stations, then removed observers,
# stations whose observer has not checked in, nobody assigned, and the checked in last.
STATE_ORDER = Case(
    When(state=State.REMOVED, then=Value(0)),
    When(state=State.ABSENT, then=Value(1)),
    When(state=State.NOBODY, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def station_page(request: HttpRequest, election: Election, filters: dict) -> Page:
    """One page (?page=N) of the filtered stations, STATIONS_SHOWN a page, silent first."""
    rows = StationCoverage.objects.filter(
        election=election, okrug__in=okrugs_for(request.user)
    ).select_related("tik")
    if filters["okrug"] is not None:
        rows = rows.filter(okrug=filters["okrug"])
    if filters["tik"] is not None:
        rows = rows.filter(tik=filters["tik"])
    if filters["state"] == SILENT:
        rows = rows.filter(silent=True)
    elif filters["state"]:
        rows = rows.filter(state=filters["state"])
    rows = rows.order_by("-silent", STATE_ORDER, "number")
    return Paginator(rows, STATIONS_SHOWN).get_page(request.GET.get("page"))


def station_rows(page: Page, election: Election) -> list[dict]:
    return [
        {
            "number": row.number,
            "tik": row.tik.name,
            "state": row.state,
            "state_label": row.get_state_display(),
            "present": row.present,
            "assigned": row.assigned,
            "removed": row.removed,
            "checked_in": hhmm(row.checked_in_at, election),
            "last_message": hhmm(row.last_message_at, election),
            "silent": row.silent,
            "opening": row.opening_reported,
            "checkpoints": row.checkpoints,
            "protocol": row.protocol,
        }
        for row in page
    ]


def nobody_numbers(request: HttpRequest, election: Election, filters: dict) -> list[int]:
    rows = StationCoverage.objects.filter(
        election=election, okrug__in=okrugs_for(request.user), state=State.NOBODY
    )
    if filters["okrug"] is not None:
        rows = rows.filter(okrug=filters["okrug"])
    if filters["tik"] is not None:
        rows = rows.filter(tik=filters["tik"])
    return list(rows.order_by("number").values_list("number", flat=True)[:NOBODY_SHOWN])


def incidents_needing_group(request: HttpRequest, election: Election) -> QuerySet[Incident]:
    """Open incidents that asked for a mobile group (by the flag or an escalation) and have
    had none sent: the most severe first, then the longest waiting."""
    asked = Escalation.objects.filter(kind=Escalation.Kind.MOBILE_GROUP).values("incident_id")
    return (
        incidents_for(request.user)
        .filter(election=election)
        .filter(Q(needs_mobile_group=True) | Q(pk__in=asked))
        .exclude(status=ReviewStatus.REJECTED)
        .exclude(Exists(Dispatch.objects.filter(incident=OuterRef("pk"))))
        .select_related("station__okrug", "category")
        .order_by(severity_rank(), "first_at", "pk")
    )


def needed_page(request: HttpRequest, election: Election) -> Page:
    """One page of `incidents_needing_group` (?needed=N), NEEDED_SHOWN a page."""
    paginator = Paginator(incidents_needing_group(request, election), NEEDED_SHOWN)
    return paginator.get_page(request.GET.get("needed"))


def groups_with_trips(request: HttpRequest, election: Election) -> list:
    """The groups in scope, each with its open trip (or None) as `trip` and the number of
    its trips so far as `trips` (its load)."""
    groups = list(
        groups_for(request.user, election)
        .select_related("okrug", "station")
        .annotate(trips=Count("dispatches"))
        .order_by("okrug__name", "name")
    )
    trips = Dispatch.objects.filter(group__in=groups).exclude(status=Dispatch.Status.DONE)
    by_group = {trip.group_id: trip for trip in trips.select_related("incident", "station")}
    for group in groups:
        group.trip = by_group.get(group.pk)
    return groups


def incident_url(incident_id: int | None) -> str:
    if incident_id is None:
        return ""
    return reverse("admin:reports_incident_change", args=[incident_id])


def groups_json(request: HttpRequest, election: Election) -> list[dict]:
    return [
        {
            "name": group.name,
            "okrug": group.okrug.name,
            "car": group.car,
            "status": group.status,
            "status_label": group.get_status_display(),
            "station": group.station.number if group.station_id else None,
            "incident": group.trip.incident_id if group.trip else None,
            "incident_url": incident_url(group.trip.incident_id if group.trip else None),
            "since": hhmm(group.updated_at, election),
        }
        for group in groups_with_trips(request, election)
    ]


def needed_json(request: HttpRequest, election: Election) -> list[dict]:
    page = needed_page(request, election)
    return [
        {
            "incident": incident.pk,
            "url": incident_url(incident.pk),
            "station": incident.station.number,
            "category": incident.category_id,
            "category_name": incident.category.name,
            "severity": incident.severity,
            "since": hhmm(incident.first_at, election),
        }
        for incident in page
    ]


def coverage_filters(request: HttpRequest, election: Election) -> dict:
    form = CoverageFilterForm(request.GET, user=request.user, election=election)
    if not form.is_valid():
        return {"okrug": None, "tik": None, "state": "", "form": form}
    return {**form.cleaned_data, "form": form}


def coverage_figures(request: HttpRequest, election: Election, filters: dict) -> dict:
    areas = area_rows(request, election, filters["okrug"], filters["tik"])
    total = Figures.total(area["figures"] for area in areas)
    computed = CoverageTally.objects.filter(election=election, level="election").first()
    stations = station_page(request, election, filters)
    return {
        "election": {"id": election.pk, "name": election.name},
        "computed_at": hhmm(computed.computed_at, election) if computed else "",
        "generated_at": timezone.localtime(timezone.now(), election.tz).strftime("%H:%M:%S"),
        "refresh_seconds": settings.COVERAGE_PAGE_SECONDS,
        "checkpoints": CoverageRules.of(election).checkpoints,
        "total": total.as_fields() | {"absent": total.absent},
        "areas": [
            {**area, "figures": area["figures"].as_fields() | {"absent": area["figures"].absent}}
            for area in areas
        ],
        "stations": station_rows(stations, election),
        "stations_total": state_total(total, filters["state"]),
        "stations_page": stations.number,
        "stations_pages": stations.paginator.num_pages,
        "nobody": nobody_numbers(request, election, filters),
        "groups": groups_json(request, election),
        "needed": needed_json(request, election),
        "needed_total": incidents_needing_group(request, election).count(),
    }


def query_without(request: HttpRequest, name: str) -> str:
    query = request.GET.copy()
    query.pop(name, None)
    return query.urlencode()


@staff_permission_required("reports.view_assignment")
def coverage_page(request: HttpRequest) -> HttpResponse:
    election = dashboard_election(request)
    filters = coverage_filters(request, election) if election else None
    context = {
        **admin.site.each_context(request),
        "title": _("Coverage"),
        "election": election,
        "filters": filters and filters["form"],
        "figures": coverage_figures(request, election, filters) if election else None,
        "data_url": f"{reverse('coverage:data')}?{request.GET.urlencode()}",
        "query_without_page": query_without(request, "page"),
        "quickcount": sample_coverage(election) if election else None,
    }
    return TemplateResponse(request, "coverage/coverage.html", context)


@staff_permission_required("reports.view_assignment")
def coverage_data(request: HttpRequest) -> JsonResponse:
    election = dashboard_election(request)
    if election is None:
        return JsonResponse({"election": None})
    response = JsonResponse(
        coverage_figures(request, election, coverage_filters(request, election))
    )
    response["Cache-Control"] = "no-store"
    return response


# Mobile groups


@staff_permission_required("reports.view_incident")
def groups_page(request: HttpRequest) -> HttpResponse:
    election = dashboard_election(request)
    context = {
        **admin.site.each_context(request),
        "title": _("Mobile groups"),
        "election": election,
        "can_dispatch": request.user.has_perm("reports.add_escalation"),
    }
    if election is None:
        return TemplateResponse(request, "coverage/groups.html", context)
    with timezone.override(election.tz):
        return render(request, "coverage/groups.html", context | groups_board(request, election))


def groups_board(request: HttpRequest, election: Election) -> dict:
    groups = groups_with_trips(request, election)
    done = (
        Dispatch.objects.filter(group__in=groups, status=Dispatch.Status.DONE)
        .select_related("group", "station")
        .order_by("-done_at")[:DONE_SHOWN]
    )
    needed = needed_page(request, election)
    available = [g for g in groups if g.status == g.Status.AVAILABLE]
    for incident in needed:
        incident.groups_here = [g for g in available if g.okrug_id == incident.station.okrug_id]
        incident.groups_elsewhere = [g for g in available if g not in incident.groups_here]
    return {
        "needed": needed,
        "needed_more": needed.paginator.count - needed.end_index(),
        "groups": groups,
        "available": available,
        "statuses": Dispatch.Status.choices,
        "done": done,
        "query": f"?election={election.pk}",
    }


def message_outcome(request: HttpRequest, decision: Callable[[], str]) -> None:
    """Run a decision; say what it did, or why it was refused (a question to confirm, such
    as DispatchAcrossOkrugs, is the caller's to ask)."""
    try:
        done = decision()
    except DispatchAcrossOkrugs:
        raise
    except CoverageRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, done)


def groups_redirect(request: HttpRequest) -> HttpResponse:
    election = request.GET.get("election", "")
    suffix = f"?election={election}" if election.isdigit() else ""
    return redirect(reverse("coverage:groups") + suffix)


@require_POST
@staff_permission_required("reports.add_escalation")
def group_dispatch_view(request: HttpRequest) -> HttpResponse:
    election = dashboard_election(request)
    form = DispatchForm(request.POST, user=request.user, election=election)
    if not form.is_valid():
        messages.error(request, _("Choose an available group for this incident."))
        return groups_redirect(request)
    data = form.cleaned_data

    def send() -> str:
        group_dispatch(
            group=data["group"],
            incident=data["incident"],
            actor=request.user,
            note=data["note"],
            across_okrugs=data["across_okrugs"],
        )
        return _("Group %(group)s sent to station %(station)s (incident #%(id)s).") % {
            "group": data["group"].name,
            "station": data["incident"].station.number,
            "id": data["incident"].pk,
        }

    try:
        message_outcome(request, send)
    except DispatchAcrossOkrugs as question:
        context = {
            **admin.site.each_context(request),
            "title": _("Send a group across okrugs?"),
            "election": election,
            "question": question.message,
            "data": data,
            "query": request.GET.urlencode(),
        }
        return TemplateResponse(request, "coverage/dispatch_confirm.html", context)
    return groups_redirect(request)


@require_POST
@staff_permission_required("reports.add_escalation")
def dispatch_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    election = dashboard_election(request)
    trip = Dispatch.objects.filter(pk=pk, group__in=groups_for(request.user, election)).first()
    form = DispatchUpdateForm(request.POST)
    if trip is None or not form.is_valid():
        messages.error(request, _("This trip cannot be changed."))
        return groups_redirect(request)

    def move_on() -> str:
        moved = dispatch_update(
            dispatch=trip, status=form.cleaned_data["status"], actor=request.user,
            note=form.cleaned_data["note"],
        )  # fmt: skip
        return _("Group %(group)s: %(status)s.") % {
            "group": moved.group.name,
            "status": moved.get_status_display(),
        }

    message_outcome(request, move_on)
    return groups_redirect(request)
