"""Pages of counts and protocols.

Observers: the turnout count and the protocol copy forms, and the list of what they sent.
They speak the same protocol as the report form (JSON when asked, Post/Redirect/Get
otherwise), so `static/reports/report.js` keeps them in its offline outbox too.

Moderators and analysts: results side by side and the statistics with charts, each also as
JSON. Pages only read stored rows; the numbers are computed by the workers.
"""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from reports.domain import charts
from reports.domain.protocol_checks import Figures, ProtocolTemplate, election_template
from reports.domain.uploads import EvidenceRejected
from reports.forms.protocols import ProtocolCopyForm, TurnoutForm
from reports.models import (
    Election,
    OfficialResult,
    ProtocolCopy,
    ResultLevel,
    ResultSource,
    ResultTotal,
    StationFlag,
    StationReconciliation,
    StatisticsRun,
    TurnoutCount,
)
from reports.selectors import in_scope
from reports.services.protocols import (
    protocol_copy_submit,
    protocol_photo_clean,
    protocol_photo_download_log,
    results_refresh_request,
    statistics_run_request,
    turnout_count_submit,
)
from reports.services.submission import ReportConflict
from reports.views.originals import original_response
from reports.views.volunteers import (
    RECEIVED_PARAM,
    observer_required,
    wants_json,
    with_evidence_limits,
)

# Observers


@observer_required
def turnout_new(request: HttpRequest) -> HttpResponse:
    form = TurnoutForm(request.POST or None, observer=request.observer)
    context = {"form": form, "earlier": turnout_earlier(request.observer)}
    if request.method != "POST":
        return render(request, "protocols/turnout_form.html", context)
    if not form.is_valid():
        return invalid(request, "protocols/turnout_form.html", context)
    try:
        _count, created = turnout_count_submit(data=form.turnout_input(), observer=request.observer)
    except ReportConflict:
        return conflict(request, "protocols/turnout_form.html", context)
    return done(request, created=created, kind="turnout")


def turnout_earlier(observer) -> dict[str, list]:
    """The observer's earlier counts by station: [checkpoint, own tally, announced] in
    checkpoint order, so the form can warn of a count far from them (turnout.js)."""
    earlier: dict[str, list] = {}
    counts = (
        TurnoutCount.objects.filter(observer=observer)
        .order_by("received_at")
        .values_list("station_id", "checkpoint", "own_tally", "announced")
    )
    for station_id, checkpoint, own, announced in counts:
        rows = earlier.setdefault(str(station_id), [])
        rows[:] = [row for row in rows if row[0] != checkpoint] + [[checkpoint, own, announced]]
    for rows in earlier.values():
        rows.sort()
    return earlier


@with_evidence_limits
@observer_required
def protocol_copy_new(request: HttpRequest) -> HttpResponse:
    try:
        form = ProtocolCopyForm(
            request.POST or None,
            request.FILES or None,
            observer=request.observer,
            skipped=getattr(request, "evidence_skipped", []),
        )
    except ValueError:
        raise Http404(_("This election has no protocol form yet.")) from None
    context = {"form": form, "template": form.template.for_browser()}
    if request.method != "POST":
        return render(request, "protocols/copy_form.html", context)
    if not form.is_valid():
        return invalid(request, "protocols/copy_form.html", context)
    try:
        _copy, created = protocol_copy_submit(data=form.copy_input(), observer=request.observer)
    except ReportConflict:
        return conflict(request, "protocols/copy_form.html", context)
    except EvidenceRejected as rejection:
        form.add_error("photo", rejection.message)
        return invalid(request, "protocols/copy_form.html", context)
    warnings = [outcome.message for outcome in form.check.outcomes_warned]
    return done(request, created=created, kind="copy", warnings=warnings)


@observer_required
def my_counts(request: HttpRequest) -> HttpResponse:
    done_messages_from_address(request)
    context = {
        "counts": TurnoutCount.objects.filter(observer=request.observer).select_related("station")[
            :100
        ],
        "copies": ProtocolCopy.objects.filter(observer=request.observer).select_related("station")[
            :20
        ],
    }
    return render(request, "protocols/mine.html", context)


def invalid(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    form = context["form"]
    if wants_json(request):
        errors = {
            name: [error["message"] for error in items]
            for name, items in form.errors.get_json_data().items()
        }
        return JsonResponse({"errors": errors}, status=400)
    context["files_lost"] = bool(request.FILES)
    return render(request, template, context, status=400)


def conflict(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    message = str(ReportConflict.message)
    if wants_json(request):
        return JsonResponse({"error": message}, status=409)
    return render(request, template, dict(context, refusal=message), status=409)


WHAT = {"turnout": _lazy("Turnout count"), "copy": _lazy("Protocol copy")}


def done(
    request: HttpRequest, *, created: bool, kind: str, warnings: list[str] = ()
) -> HttpResponse:
    """As the incident form (views.submission_done): the script gets JSON and an address
    that says "received", so a phone sending its outbox leaves no pile of messages."""
    url = reverse("protocols:mine")
    status = "received" if created else "duplicate"
    if wants_json(request):
        if not warnings:
            url = f"{url}?{urlencode({RECEIVED_PARAM: status, 'kind': kind})}"
        else:
            done_messages(request, created=created, kind=kind, warnings=warnings)
        body = {"status": status, "url": url, "files": []}
        return JsonResponse(body, status=201 if created else 200)
    done_messages(request, created=created, kind=kind, warnings=warnings)
    return redirect(url)


def done_messages(
    request: HttpRequest, *, created: bool, kind: str, warnings: list[str] = ()
) -> None:
    for warning in warnings:
        messages.warning(request, warning)
    what = WHAT[kind]
    if created:
        messages.success(request, _("%(what)s received. Thank you!") % {"what": what})
    else:
        messages.info(request, _("%(what)s had already been received.") % {"what": what})


def done_messages_from_address(request: HttpRequest) -> None:
    status, kind = request.GET.get(RECEIVED_PARAM), request.GET.get("kind")
    if status in ("received", "duplicate") and kind in WHAT:
        done_messages(request, created=status == "received", kind=kind)


# Moderators and analysts


def election_chosen(request: HttpRequest) -> Election:
    """The election named by ?election=, or the latest one that has a protocol form."""
    elections = Election.objects.exclude(protocol_template={})
    if request.GET.get("election", "").isdigit():
        return get_object_or_404(elections, pk=request.GET["election"])
    election = elections.order_by("-date", "-pk").first()
    if election is None:
        raise Http404(_("No election has a protocol form yet."))
    return election


def results_rows(election: Election, template: ProtocolTemplate, level: str) -> list[dict]:
    """One row per area, each source's figures side by side."""
    areas: dict[str, dict] = {}
    for total in ResultTotal.objects.filter(election=election, level=level):
        area = areas.setdefault(total.name, {"name": total.name})
        area[total.source] = dict(
            Figures.of(template, total.lines).as_dict(), stations=total.stations
        )
    return [areas[name] for name in sorted(areas)]


def results_data(election: Election) -> dict:
    template = election_template(election)
    return {
        "election": {"id": election.pk, "name": election.name, "date": election.date},
        "candidates": {key: template.label(key) for key in template.candidate_keys},
        "convention": "share = votes / (invalid + valid ballots)",
        "levels": {level: results_rows(election, template, level) for level in ResultLevel},
    }


PAGE_AREAS = 400  # more areas than this (TIKs of a national election): JSON only


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}"


def display_rows(rows: list[dict], candidates: list[str]) -> list[dict]:
    """Rows of the results table: one per area and source, as formatted percentages."""
    table = []
    for area in rows:
        for source in ResultSource:
            figures = area.get(source)
            if figures is None:
                continue
            table.append(
                {
                    "name": area["name"],
                    "source": source.label,
                    "stations": figures["stations"],
                    "voters": figures["voters"],
                    "turnout": percent(figures["turnout"]),
                    "home": percent(figures["home_voting_share"]),
                    "shares": [percent(figures["shares"][key]) for key in candidates],
                }
            )
    return table


def results_chart(data: dict) -> dict | None:
    """Turnout and each candidate's share, city-wide, from each source: the page's lead."""
    [city] = data["levels"][ResultLevel.ELECTION] or [None]
    if city is None:
        return None
    sources = [(source.value, source.label) for source in ResultSource if source in city]

    def measure(read) -> dict[str, float | None]:
        values = {key: read(city[key]) for key, _label in sources}
        return {key: None if value is None else 100 * value for key, value in values.items()}

    measures = [(_("Turnout"), measure(lambda figures: figures["turnout"]))]
    measures += [
        (name, measure(lambda figures, key=key: figures["shares"][key]))
        for key, name in data["candidates"].items()
    ]
    return charts.comparison_chart(measures, sources)


def stations_differing(election: Election, template: ProtocolTemplate) -> list[dict]:
    """Stations whose observers' consensus differs from the official protocol by more than
    PROTOCOL_DIFF_TOLERANCE votes on some line, with the turnout of each and the lines."""
    differing = StationReconciliation.objects.filter(
        election=election, differs_from_official=True
    ).select_related("station__okrug")
    official = {
        result.station_id: result.lines
        for result in OfficialResult.objects.filter(
            election=election, station__in=[row.station_id for row in differing]
        )
    }
    rows = []
    for row in differing.order_by("station__number"):
        copy_figures = Figures.of(template, row.lines)
        official_figures = Figures.of(template, official.get(row.station_id, {}))
        rows.append(
            {
                "station": row.station,
                "url": reverse("admin:reports_stationreconciliation_change", args=[row.pk]),
                "copy_turnout": percent(copy_figures.turnout),
                "official_turnout": percent(official_figures.turnout),
                "lines": [
                    {"label": template.label(key), "copy": pair[0], "official": pair[1]}
                    for key, pair in row.official_differences.items()
                ],
            }
        )
    return rows


@permission_required("reports.view_resulttotal")
def results_page(request: HttpRequest) -> HttpResponse:
    election = election_chosen(request)
    data = results_data(election)
    candidates = list(data["candidates"])
    levels = [
        (level.label, display_rows(data["levels"][level], candidates), len(data["levels"][level]))
        for level in ResultLevel
        if data["levels"][level]
    ]
    context = {
        "election": election,
        "elections": Election.objects.exclude(protocol_template={}),
        "candidates": list(data["candidates"].values()),
        "levels": [
            (label, rows if areas <= PAGE_AREAS else None, areas) for label, rows, areas in levels
        ],
        "computed_at": ResultTotal.objects.filter(election=election)
        .order_by("-computed_at")
        .values_list("computed_at", flat=True)
        .first(),
        "chart": results_chart(data),
        "differing": stations_differing(election, election_template(election)),
        "tolerance": settings.PROTOCOL_DIFF_TOLERANCE,
    }
    return render(request, "protocols/results.html", context)


@permission_required("reports.view_resulttotal")
def results_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(results_data(election_chosen(request)))


@require_POST
@permission_required("reports.view_resulttotal")
def results_refresh(request: HttpRequest) -> HttpResponse:
    election = election_chosen(request)
    results_refresh_request(election=election, actor=request.user)
    messages.info(request, _("The totals are being recomputed; reload the page in a minute."))
    return redirect(f"{reverse('protocols:results')}?election={election.pk}")


def statistics_latest(election: Election) -> StatisticsRun | None:
    runs = StatisticsRun.objects.filter(election=election, status=StatisticsRun.Status.DONE)
    return runs.order_by("-finished_at").first()


@permission_required("reports.view_statisticsrun")
def statistics_page(request: HttpRequest) -> HttpResponse:
    election = election_chosen(request)
    run = statistics_latest(election)
    result = run.result if run else None
    context = {
        "election": election,
        "elections": Election.objects.exclude(protocol_template={}),
        "run": run,
        "result": result,
        "pending": StatisticsRun.objects.filter(
            election=election,
            status__in=[StatisticsRun.Status.PENDING, StatisticsRun.Status.RUNNING],
        ).exists(),
        "flag_kinds": StationFlag.Kind,
    }
    if result and result.get("stations"):
        context["full_range"] = request.GET.get("range") == "full"
        context["charts"] = charts.statistics_charts(result, full=context["full_range"])
        shares = ("leader_share", "corrected_leader_share", "turnout", "corrected_turnout")
        context["shpilkin_percent"] = {key: percent(result["shpilkin"][key]) for key in shares}
    return render(request, "protocols/statistics.html", context)


@permission_required("reports.view_statisticsrun")
def statistics_json(request: HttpRequest) -> JsonResponse:
    election = election_chosen(request)
    run = statistics_latest(election)
    if run is None:
        return JsonResponse({"election": election.pk, "status": "none"}, status=404)
    body = {
        "election": election.pk,
        "status": run.status,
        "finished_at": run.finished_at,
        "methods": charts.METHODS,
        "result": run.result,
    }
    return JsonResponse(body)


@require_POST
@permission_required("reports.add_statisticsrun")
def statistics_request(request: HttpRequest) -> HttpResponse:
    election = election_chosen(request)
    statistics_run_request(election=election, actor=request.user)
    messages.info(request, _("The statistics are being computed; reload the page in a minute."))
    return redirect(f"{reverse('protocols:statistics')}?election={election.pk}")


def copy_with_photo(request: HttpRequest, uuid: str) -> ProtocolCopy:
    copies = in_scope(ProtocolCopy.objects.exclude(photo_path=""), request.user, "station__okrug")
    return get_object_or_404(copies.select_related("station"), uuid=uuid)


@permission_required("reports.view_protocolcopy")
def copy_photo(request: HttpRequest, uuid: str) -> FileResponse:
    """The photo of a copy without its metadata (no GPS, no device), for moderators."""
    clean = protocol_photo_clean(copy_with_photo(request, uuid))
    response = FileResponse(clean.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@permission_required("reports.view_protocolcopy")
def copy_original(request: HttpRequest, uuid: str) -> FileResponse:
    """The untouched photo of a copy, as a download, for those who may download original
    evidence; each download is logged first (chain of custody)."""
    if not request.user.has_perm("reports.download_original"):
        raise PermissionDenied
    copy = copy_with_photo(request, uuid)
    extension = Path(copy.photo_path).suffix
    return original_response(
        relative_path=copy.photo_path,
        log=lambda: protocol_photo_download_log(
            copy=copy, actor=request.user, ip_address=request.META.get("REMOTE_ADDR")
        ),
        filename=f"protocol-{copy.station.number}-{copy.photo_sha256[:12]}{extension}",
        content_type=copy.photo_content_type or mimetypes.guess_type(copy.photo_path)[0],
        sha256=copy.photo_sha256,
    )
