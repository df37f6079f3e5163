"""The headquarters dashboard: live figures read from the tallies, never by counting reports.

The page embeds the figures as JSON and `static/reports/admin/dashboard.js` draws them as
SVG, then fetches `dashboard.json` again every `REFRESH_SECONDS`. Every read is a handful of
indexed queries on small tables (tallies: one row per key and hour; alerts; the oldest open
incidents by index), so the page costs the same with a million reports as with ten.

Charts of the whole city (per hour by phase, top categories, totals) are shown to every
staff member; what names places (okrug × category, alerts, waiting incidents) is limited to
the okrugs a staff member works on.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.domain.clustering import tallies_totals
from reports.models import Alert, Category, Election, Phase, ReviewStatus, Severity, Tally
from reports.selectors import claim_holder, incidents_for, okrugs_for, staff_okrug_ids

REFRESH_SECONDS = 15
TOP_CATEGORIES = 10
WAITING_SHOWN = 10
ALERTS_SHOWN = 15
# Tally dimension with keys "<okrug id>:<category code>" (see reports.models.aggregates).
OKRUG_CATEGORY = "okrug_category"


def dashboard_election(request: HttpRequest) -> Election | None:
    elections = Election.objects.order_by("-is_active", "-date")
    chosen = request.GET.get("election", "")
    if chosen.isdigit():
        return elections.filter(pk=int(chosen)).first()
    return elections.first()


def hourly_by_phase(election: Election) -> list[dict]:
    rows = Tally.objects.filter(election=election, dimension=Tally.Dimension.PHASE).exclude(count=0)
    hours: dict = {}
    for row in rows.only("key", "hour", "count"):
        hours.setdefault(row.hour, {})[row.key] = row.count
    return [
        {
            "hour": hour.isoformat(),
            "label": timezone.localtime(hour, election.tz).strftime("%H:%M"),
            "counts": counts,
        }
        for hour, counts in sorted(hours.items())
    ]


def top_categories(election: Election, names: dict[str, str]) -> list[dict]:
    totals = tallies_totals(election_id=election.pk, dimension=Tally.Dimension.CATEGORY)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:TOP_CATEGORIES]
    return [{"code": code, "name": names.get(code, code), "count": n} for code, n in ranked]


def okrug_by_category(election: Election, request: HttpRequest, names: dict[str, str]) -> dict:
    okrugs = {okrug.pk: okrug.name for okrug in okrugs_for(request.user).filter(election=election)}
    cells: dict[str, dict[str, int]] = {}
    for key, total in tallies_totals(election_id=election.pk, dimension=OKRUG_CATEGORY).items():
        okrug_id, _sep, code = key.partition(":")
        if okrug_id.isdigit() and int(okrug_id) in okrugs:
            cells.setdefault(okrug_id, {})[code] = total
    codes = sorted({code for row in cells.values() for code in row}, key=list(names).index)
    return {
        "okrugs": [{"id": str(pk), "name": name} for pk, name in okrugs.items()],
        "categories": [{"code": code, "name": names[code]} for code in codes],
        "cells": cells,
    }


def open_alerts(election: Election, request: HttpRequest) -> list[dict]:
    alerts = Alert.objects.filter(election=election).select_related("okrug", "station", "tik")
    okrug_ids = staff_okrug_ids(request.user)
    if okrug_ids is not None:
        alerts = alerts.filter(okrug_id__in=okrug_ids)
    return [
        {
            "message": alert.message(),
            "okrug": alert.okrug.name,
            "raised_at": timezone.localtime(alert.raised_at, election.tz).strftime("%H:%M"),
            "url": reverse("admin:reports_incident_change", args=[alert.incident_id])
            if alert.incident_id
            else "",
        }
        for alert in alerts.order_by("-raised_at")[:ALERTS_SHOWN]
    ]


def waiting_longest(election: Election, request: HttpRequest) -> list[dict]:
    now = timezone.now()
    incidents = (
        incidents_for(request.user)
        .filter(election=election, status=ReviewStatus.NEW)
        .select_related("station", "category", "claimed_by")
        .order_by("first_at")[:WAITING_SHOWN]
    )
    result = []
    for incident in incidents:
        holder = claim_holder(incident, now)
        result.append(
            {
                "id": incident.pk,
                "url": reverse("admin:reports_incident_change", args=[incident.pk]),
                "station": incident.station.number,
                "category": incident.category_id,
                "category_name": incident.category.name,
                "severity": incident.severity,
                "minutes": int((now - incident.first_at).total_seconds() // 60),
                "holder": (holder.get_full_name() or holder.get_username()) if holder else "",
            }
        )
    return result


def dashboard_figures(election: Election, request: HttpRequest) -> dict:
    names = {category.code: category.name for category in Category.objects.all()}
    by_status = tallies_totals(election_id=election.pk, dimension=Tally.Dimension.STATUS)
    by_severity = tallies_totals(election_id=election.pk, dimension=Tally.Dimension.SEVERITY)
    return {
        "election": {"id": election.pk, "name": election.name},
        "generated_at": timezone.localtime(timezone.now(), election.tz).strftime("%H:%M:%S"),
        "refresh_seconds": REFRESH_SECONDS,
        "totals": {
            "reports": sum(by_status.values()),
            "status": [
                {"key": key, "label": str(label), "count": by_status.get(key, 0)}
                for key, label in ReviewStatus.choices
            ],
            "severity": [
                {"key": key, "label": str(label), "count": by_severity.get(key, 0)}
                for key, label in Severity.choices
            ],
        },
        "phases": [{"key": key, "label": str(label)} for key, label in Phase.choices],
        "hours": hourly_by_phase(election),
        "top_categories": top_categories(election, names),
        "okrug_category": okrug_by_category(election, request, names),
        "alerts": open_alerts(election, request),
        "waiting": waiting_longest(election, request),
    }


def dashboard_allowed(request: HttpRequest) -> None:
    if not request.user.has_perm("reports.view_incident"):
        raise PermissionDenied


def dashboard(request: HttpRequest) -> HttpResponse:
    dashboard_allowed(request)
    election = dashboard_election(request)
    context = {
        "title": _("Dashboard"),
        "election": election,
        "figures": dashboard_figures(election, request) if election else None,
        "data_url": reverse("admin:reports_dashboard_data")
        + (f"?election={election.pk}" if election else ""),
    }
    return TemplateResponse(
        request, "admin/reports/dashboard.html", {**admin.site.each_context(request), **context}
    )


def dashboard_data(request: HttpRequest) -> JsonResponse:
    dashboard_allowed(request)
    election = dashboard_election(request)
    if election is None:
        return JsonResponse({"election": None})
    return JsonResponse(dashboard_figures(election, request))
