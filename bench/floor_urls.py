"""The framework's floor on this machine: a POST that inserts one report row and answers.

No form, no session, no CSRF, no evidence, no task: what any Django view that stores one row
costs here (request parsing, one INSERT on the same table with the same indexes, a JSON
answer). The rows go to the rehearsal's separate floor election, whose stations have the
same numbers as the day's, so they never mix with the day's reports and spread over the
stations as they do; the aggregation counts them like any other report.
"""

import functools
import hashlib

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.rehearsal.world import FLOOR_ELECTION
from reports.models import Channel, Report, ReporterRole, Station, Trust


@functools.cache
def floor_stations() -> dict[str, Station]:
    """The floor election's stations by number, read once per process."""
    return {str(s.number): s for s in Station.objects.filter(election__name=FLOOR_ELECTION)}


def floor_station(number: str) -> Station:
    """The station of that number, as the site's reports name theirs; any one otherwise."""
    stations = floor_stations()
    return stations.get(number) or next(iter(stations.values()))


@csrf_exempt
@require_POST
def insert(request: HttpRequest) -> JsonResponse:
    station = floor_station(request.POST.get("station", ""))
    report = Report.objects.create(
        uuid=request.POST["uuid"],
        election_id=station.election_id,
        station=station,
        category_id=request.POST.get("category", "V3"),
        reporter_role=ReporterRole.CITIZEN,
        trust=Trust.CITIZEN,
        channel=Channel.WEB,
        received_at=timezone.now(),
        description=request.POST.get("description", ""),
        content_hash=hashlib.sha256(request.POST.urlencode().encode()).hexdigest(),
    )
    return JsonResponse({"status": "received", "id": report.pk}, status=201)


urlpatterns = [path("floor/", insert, name="floor")]
