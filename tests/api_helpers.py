"""Builders for the API and export tests: reports through the real services, partner tokens,
clients that carry a token and an address of their own."""

import datetime as dt
import random
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework.test import APIClient

from reports.models import Category, Incident, Observer, Report, Station
from reports.services.aggregation import reports_aggregate
from reports.services.incidents import incident_verify
from reports.services.partners import partner_token_create
from reports.services.submission import ReportInput, report_submit


def report_send(
    station: Station,
    code: str,
    observer: Observer | None = None,
    *,
    description: str = "",
    count: int | None = None,
    occurred_at: dt.datetime | None = None,
) -> Report:
    """A report as a volunteer sends it, then aggregated into an incident."""
    data = ReportInput(
        uuid=uuid.uuid4(),
        station=station,
        category=Category.objects.get(code=code),
        occurred_at=occurred_at or timezone.now(),
        description=description,
        count=count,
    )
    report, _created = report_submit(data=data, observer=observer, channel="web")
    reports_aggregate(report_ids=[report.pk])
    report.refresh_from_db()
    return report


def verify(report: Report, moderator: AbstractBaseUser) -> Incident:
    """A moderator verifies the report's incident (its reports follow)."""
    return incident_verify(incident=report.incident, actor=moderator)


def token(scope: str, name: str = "Партнёр") -> str:
    """A new partner token of this scope; returns the raw value a partner would hold."""
    return partner_token_create(name=name, scope=scope)[1]


def client(raw_token: str | None = None, **extra) -> APIClient:
    """An API client from an address of its own (rate limits are per address)."""
    api = APIClient(
        REMOTE_ADDR=f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    )
    if raw_token:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}", **extra)
    return api
