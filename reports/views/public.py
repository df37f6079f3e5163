"""The public face: what observers found, for citizens and journalists (issue 20).

Everything here comes from the public dataset (reports/domain/records.py): verified
incidents only, reporters never named, descriptions and result figures embargoed as the API
embargoes them, photos only as their EXIF-free public copies. Pages are whole responses in
the cache for PAGE_SECONDS, with Last-Modified and an ETag so a proxy can keep them too; a
page served from the cache runs no database query.
"""

import datetime as dt
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Count, Max, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_page
from django.views.decorators.http import condition, conditional_page

from reports.domain import charts
from reports.domain.protocol_checks import election_template
from reports.domain.records import (
    PublicReportRecord,
    elections_polls_closed,
    embargo_annotate,
    incident_rows,
    report_rows,
)
from reports.models import (
    Assignment,
    Category,
    Checkpoint,
    Election,
    Evidence,
    ExportScope,
    Incident,
    OfficialResult,
    Okrug,
    ResultLevel,
    ReviewStatus,
    Station,
    StationFlag,
    StationReconciliation,
    TurnoutCount,
)
from reports.views import protocols, volunteers

PAGE_SECONDS = 30
VERIFIED = ReviewStatus.VERIFIED
LATEST = 20


def election_current() -> Election | None:
    return Election.objects.filter(is_active=True, archived_at=None).order_by("-date").first()


def incidents_changed(request: HttpRequest, *args, **kwargs) -> dt.datetime | None:
    """Last-Modified, to the minute: a header must not tell a report's second either."""
    return minute(incident_rows(ExportScope.PUBLIC).aggregate(at=Max("updated_at"))["at"])


def public_page(view: Callable) -> Callable:
    """Cached whole, in the language the visitor asked for with ?lang=, with validators."""

    @wraps(view)
    def in_language(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        code = request.GET.get("lang")
        if code not in dict(settings.LANGUAGES):
            return view(request, *args, **kwargs)
        with translation.override(code):
            request.LANGUAGE_CODE = code
            return view(request, *args, **kwargs)

    cached = cache_page(PAGE_SECONDS)(condition(last_modified_func=incidents_changed)(in_language))
    return conditional_page(cached)


def minute(at: dt.datetime | None) -> dt.datetime | None:
    """Report times are public to the minute only."""
    return at.replace(second=0, microsecond=0) if at else None


def category_name(category: Category) -> str:
    return category.name_ru if translation.get_language() == "ru" else category.name_en


# Reads


def verified_incidents(election: Election):
    return (
        incident_rows(ExportScope.PUBLIC)
        .filter(election=election)
        .select_related("station__okrug", "category")
    )


def incidents_with_reports(incidents) -> list[Incident]:
    """Incidents with their public reports (embargoed as the API does) and public photos."""
    photos = Evidence.objects.exclude(public_path="").only("report_id", "kind", "public_path")
    reports = embargo_annotate(
        report_rows(ExportScope.PUBLIC).prefetch_related(Prefetch("evidence", queryset=photos)),
        PublicReportRecord,
    ).order_by("received_at")
    rows = list(incidents.prefetch_related(Prefetch("reports", queryset=reports)))
    record = PublicReportRecord()
    for incident in rows:
        incident.first_minute = minute(incident.first_at)
        incident.category_name = category_name(incident.category)
        incident.public_reports = [
            {
                "record": record.to_representation(report),
                "received": minute(report.received_at),
                "photos": [
                    {"url": settings.MEDIA_URL + item.public_path, "kind": item.kind}
                    for item in report.evidence.all()
                ],
            }
            for report in incident.reports.all()
        ]
    return rows


def by_category(incidents) -> list[dict]:
    counts = incidents.values("category").annotate(n=Count("id")).order_by("-n", "category")
    names = {category.pk: category_name(category) for category in Category.objects.all()}
    return [
        {"code": row["category"], "name": names[row["category"]], "n": row["n"]} for row in counts
    ]


def covered_stations(stations) -> int:
    active = Q(assignments__status__in=[Assignment.Status.PLANNED, Assignment.Status.ARRIVED])
    return stations.filter(active).distinct().count()


def page_context(request: HttpRequest, election: Election, **extra) -> dict:
    code = request.GET.get("lang")
    return {
        "election": election,
        "results_open": election.pk in elections_polls_closed(),
        "lang_query": f"?lang={code}" if code in dict(settings.LANGUAGES) else "",
        "page_url": request.build_absolute_uri(),
        **extra,
    }


def election_or_404() -> Election:
    election = election_current()
    if election is None:
        raise Http404(_("No election is published yet."))
    return election


# Pages


def front(request: HttpRequest) -> HttpResponse:
    """The site's front page: the city page for anyone not signed in."""
    if request.user.is_authenticated:
        return volunteers.home(request)
    return city(request)


@public_page
def city(request: HttpRequest) -> HttpResponse:
    election = election_current()
    if election is None:
        return render(request, "home.html", {"observer": None})
    incidents = verified_incidents(election)
    okrugs = (
        Okrug.objects.filter(election=election)
        .annotate(n=Count("stations__incidents", filter=Q(stations__incidents__status=VERIFIED)))
        .order_by("name")
    )
    context = page_context(
        request,
        election,
        total=incidents.count(),
        okrugs=okrugs,
        categories=by_category(incidents),
        stations=Station.objects.filter(election=election).count(),
        covered=covered_stations(Station.objects.filter(election=election)),
        latest=incidents_with_reports(incidents.order_by("-first_at", "-pk")[:LATEST]),
    )
    if context["results_open"]:
        context.update(city_results(election))
    return render(request, "public/city.html", context)


def city_results(election: Election) -> dict:
    """After polls close: the city's totals by source, and the latest statistics."""
    if not election.protocol_template:
        return {}
    data = protocols.results_data(election)
    candidates = list(data["candidates"])
    run = protocols.statistics_latest(election)
    result = run.result if run else None
    context = {
        "candidates": list(data["candidates"].values()),
        "totals": protocols.display_rows(data["levels"][ResultLevel.ELECTION], candidates),
        "run": run,
        "result": result,
    }
    if result and result.get("stations"):
        context["charts"] = charts.statistics_charts(result)
        shares = ("leader_share", "corrected_leader_share", "turnout", "corrected_turnout")
        context["shpilkin_percent"] = {
            key: protocols.percent(result["shpilkin"][key]) for key in shares
        }
    return context


@public_page
def okrug(request: HttpRequest, okrug_id: int) -> HttpResponse:
    election = election_or_404()
    place = get_object_or_404(Okrug, pk=okrug_id, election=election)
    incidents = verified_incidents(election).filter(station__okrug=place)
    stations = (
        place.stations.annotate(n=Count("incidents", filter=Q(incidents__status=VERIFIED)))
        .filter(n__gt=0)
        .order_by("number")
    )
    context = page_context(
        request,
        election,
        okrug=place,
        total=incidents.count(),
        categories=by_category(incidents),
        stations=stations,
        covered=covered_stations(place.stations.all()),
        latest=incidents_with_reports(incidents.order_by("-first_at", "-pk")[:LATEST]),
    )
    return render(request, "public/okrug.html", context)


def station_search(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("number", "").strip()
    suffix = f"?lang={request.GET['lang']}" if request.GET.get("lang") else ""
    if not number.isdigit():
        return redirect(reverse("public:city") + suffix)
    return redirect(reverse("public:station", args=[int(number)]) + suffix)


@public_page
def station(request: HttpRequest, number: int) -> HttpResponse:
    election = election_or_404()
    place = get_object_or_404(
        Station.objects.select_related("okrug", "tik"), election=election, number=number
    )
    incidents = verified_incidents(election).filter(station=place).order_by("first_at", "pk")
    context = page_context(request, election, station=place)
    context["incidents"] = incidents_with_reports(incidents)
    if context["results_open"]:
        context.update(station_results(place))
    return render(request, "public/station.html", context)


def station_results(place: Station) -> dict:
    """The observers' consensus copy beside the official protocol, line by line."""
    reconciliation = StationReconciliation.objects.filter(station=place).first()
    official = OfficialResult.objects.filter(station=place).first()
    observed = reconciliation.lines if reconciliation else {}
    published = official.lines if official else {}
    run = protocols.statistics_latest(place.election)
    flags = StationFlag.objects.filter(run=run, station=place) if run else []
    return {
        "reconciliation": reconciliation,
        "official": official,
        "lines": protocol_lines(place.election, observed, published),
        "flags": [flag.get_kind_display() for flag in flags],
        "turnout": TurnoutCount.objects.filter(station=place)
        .order_by("checkpoint", "received_at")
        .values("checkpoint", "own_tally", "announced"),
        "checkpoints": dict(Checkpoint.choices),
    }


def protocol_lines(election: Election, observed: dict, published: dict) -> list[tuple]:
    """(label, observers' figure, official figure) in the order of the election's form."""
    keys = list(dict.fromkeys([*published, *observed]))
    if not election.protocol_template:
        return [(key, observed.get(key), published.get(key)) for key in keys]
    template = election_template(election)
    ordered = [key for key in template.keys if key in keys]
    ordered += [key for key in keys if key not in ordered]
    return [
        (template.label(key) if key in template else key, observed.get(key), published.get(key))
        for key in ordered
    ]


# Feed


class IncidentFeed(Feed):
    """Verified incidents, newest first; ?okrug=<id> and ?category=<code> narrow it."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest):
        self.request = request
        return election_or_404()

    def title(self, election: Election) -> str:
        return _("Verified incidents: %(election)s") % {"election": election.name}

    def link(self) -> str:
        return reverse("public:city")

    def subtitle(self) -> str:
        return _("Violations reported by independent observers and verified by headquarters.")

    def items(self, election: Election) -> list[Incident]:
        incidents = verified_incidents(election)
        if self.request.GET.get("okrug", "").isdigit():
            incidents = incidents.filter(station__okrug_id=int(self.request.GET["okrug"]))
        if self.request.GET.get("category"):
            incidents = incidents.filter(category_id=self.request.GET["category"].upper())
        return list(incidents.order_by("-first_at", "-pk")[:50])

    def item_title(self, item: Incident) -> str:
        return _("Station %(number)s: %(category)s") % {
            "number": item.station.number,
            "category": category_name(item.category),
        }

    def item_description(self, item: Incident) -> str:
        return _("%(okrug)s. Reports: %(reports)s, distinct reporters: %(reporters)s.") % {
            "okrug": item.station.okrug.name,
            "reports": item.report_count,
            "reporters": item.reporter_count,
        }

    def item_link(self, item: Incident) -> str:
        return reverse("public:station", args=[item.station.number]) + f"#incident-{item.pk}"

    def item_pubdate(self, item: Incident) -> dt.datetime:
        return minute(item.first_at)

    def item_updateddate(self, item: Incident) -> dt.datetime:
        return minute(item.last_at)

    def item_categories(self, item: Incident) -> list[str]:
        return [item.category_id]


feed = public_page(IncidentFeed())
