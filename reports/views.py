from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    database = "ok" if health.database_ok() else "down"
    broker = health.broker_state()
    status = 200 if database == "ok" else 503
    return JsonResponse({"database": database, "broker": broker}, status=status)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")
