"""The quick count's page and JSON: they read the estimate the worker stored on the
election's latest sample (`reports/services/quickcount.py`) and compute nothing."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import BasePermission

from reports.api.authentication import PartnerTokenAuthentication
from reports.api.permissions import caller_token
from reports.domain import charts
from reports.models import Election, QuickCountSample, TokenScope
from reports.views.protocols import election_chosen, percent

JSON_KEYS = ("method", "sample_size", "stations_reported", "p_leader_above_threshold",
             "threshold", "seed", "expected_margin", "too_few", "unbalanced_okrugs",
             "left_out", "turnout", "candidates", "okrugs", "home_voting")  # fmt: skip


def sample_latest(election: Election) -> QuickCountSample | None:
    return QuickCountSample.objects.filter(election=election).order_by("-drawn_at").first()


def candidate_rows(candidates: list[dict]) -> list[dict]:
    return [
        {
            "name": c.get("name", ""),
            "share": percent(c["share"]),
            "low": percent(c["ci95"][0]) if c["ci95"] else "—",
            "high": percent(c["ci95"][1]) if c["ci95"] else "—",
            "official": percent(c.get("official")),
            "inside": c.get("official_inside"),
        }
        for c in candidates
    ]


def okrug_rows(result: dict) -> list[dict]:
    names = [c["name"] for c in result["candidates"]]
    return [
        {
            "name": okrug["name"],
            "reported": okrug["reported"],
            "rows": candidate_rows(
                [dict(c, name=n) for c, n in zip(okrug["candidates"], names, strict=True)]
            ),
        }
        for okrug in result["okrugs"]
    ]


def home_percent(home: dict | None) -> dict | None:
    if not home:
        return None
    regression = home.get("regression") or {}
    return {
        "home_share": percent(home["home_share"]),
        "among": (
            candidate_rows([regression["leader_share_among_home"]])[0] if regression else None
        ),
        "without": (
            candidate_rows([regression["leader_share_without_home"]])[0] if regression else None
        ),
    }


@permission_required("reports.view_quickcountsample")
def quickcount_page(request: HttpRequest) -> HttpResponse:
    election = election_chosen(request)
    sample = sample_latest(election)
    result = sample.estimate if sample else None
    context = {
        "election": election,
        "elections": Election.objects.exclude(protocol_template={}),
        "sample": sample,
        "result": result,
        "margin": percent(sample.expected_margin) if sample else None,
        "threshold": percent(sample.threshold) if sample else None,
    }
    if result:
        context.update(
            rows=candidate_rows(result["candidates"]),
            turnout=candidate_rows([result["turnout"]])[0],
            okrugs=okrug_rows(result),
            chart=charts.interval_chart(
                result["candidates"],
                sample.threshold,
                _("Estimate and interval (95 %), official share"),
            ),
            p_above=percent(result.get("p_leader_above_threshold")),
            home=result.get("home_voting"),
            home_percent=home_percent(result.get("home_voting")),
        )
    return render(request, "protocols/quickcount.html", context)


class QuickCountReader(BasePermission):
    """Staff allowed to see the quick count, or a partner with a full-read token."""

    def has_permission(self, request, view) -> bool:
        token = caller_token(request)
        if token is not None:
            return token.scope == TokenScope.FULL_READ
        return request.user.has_perm("reports.view_quickcountsample")


# A page's JSON beside the pages, not a record of the API: left out of the API's schema
# (docs/api.md describes it), where its path would also change every operation's name.
@extend_schema(exclude=True)
@api_view(["GET"])
@authentication_classes([PartnerTokenAuthentication, SessionAuthentication])
@permission_classes([QuickCountReader])
def quickcount_json(request) -> JsonResponse:
    election = election_chosen(request)
    sample = sample_latest(election)
    if sample is None or sample.estimate is None:
        return JsonResponse({"election": election.pk, "status": "none"}, status=404)
    body = {"election": election.pk, "estimated_at": sample.estimated_at}
    body.update({key: sample.estimate.get(key) for key in JSON_KEYS})
    return JsonResponse(body)
