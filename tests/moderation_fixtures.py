"""Builders for the moderation panel's tests: staff in role groups, incidents with reports,
evidence files; and the fixtures `english` and `anna` (import english_fixture, anna_fixture).

Reports are written directly (already aggregated): these tests are about what moderators do
with incidents, not about how reports become incidents.
"""

import hashlib
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from reports.models import (
    Category,
    Evidence,
    Incident,
    Observer,
    Okrug,
    Report,
    ReviewStatus,
    StaffScope,
    Station,
)
from reports.services.roles import role_groups_ensure

from . import aggregation_helpers


@pytest.fixture(name="english")
def english_fixture(settings):
    """Pages and messages in English, whatever LANGUAGE_CODE the suite runs with."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(name="anna")
def anna_fixture(stations):
    """A moderator for every okrug."""
    return staff_user("moderator", "anna")


def staff_user(
    role: str | None,
    username: str,
    *,
    okrugs: tuple[Okrug, ...] = (),
    password: str | None = None,
):
    """A staff member in a role group (None: staff without any role), maybe limited to okrugs.

    Without a password (hashing one is slow) sign them in with `client_for`.
    """
    if role is not None and not Group.objects.filter(name=role).exists():
        role_groups_ensure()
    user = get_user_model().objects.create_user(
        username=username, password=password, is_staff=True, first_name=username.title()
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    for okrug in okrugs:
        StaffScope.objects.create(user=user, okrug=okrug)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def report_make(
    station: Station,
    category: Category,
    *,
    received_at: datetime | None = None,
    channel: str | None = None,
    trust: int | None = None,
    **fields,
) -> Report:
    """A report already aggregated; channel and trust may differ from the reporter's."""
    report = aggregation_helpers.report_make(
        station=station,
        category=category,
        at=received_at or timezone.now(),
        aggregated_at=timezone.now(),
        **fields,
    )
    changes = {"channel": channel, "trust": trust}
    changes = {field: value for field, value in changes.items() if value is not None}
    if changes:
        Report.objects.filter(pk=report.pk).update(**changes)
        report.refresh_from_db()
    return report


def incident_make(
    station: Station,
    category: Category,
    *,
    reports: int = 1,
    observer: Observer | None = None,
    status: str = ReviewStatus.NEW,
    severity: str | None = None,
    minutes_ago: int = 5,
    description: str = "Пачка бюллетеней в ящике",
    **report_fields,
) -> Incident:
    """An incident resting on `reports` reports received a minute apart, ending minutes ago."""
    last_at = timezone.now() - timedelta(minutes=minutes_ago)
    first_at = last_at - timedelta(minutes=reports - 1)
    incident = Incident.objects.create(
        election=station.election,
        station=station,
        category=category,
        status=status,
        severity=severity or category.severity,
        report_count=reports,
        reporter_count=reports,
        first_at=first_at,
        last_at=last_at,
        needs_mobile_group=report_fields.get("needs_mobile_group", False),
    )
    for number in range(reports):
        report_make(
            station,
            category,
            incident=incident,
            observer=observer,
            received_at=first_at + timedelta(minutes=number),
            description=description,
            status=status,
            **report_fields,
        )
    return incident


def evidence_make(report: Report, content: bytes = b"\xff\xd8 a photo \xff\xd9") -> Evidence:
    """An original file under PRIVATE_MEDIA_ROOT and its Evidence row."""
    sha256 = hashlib.sha256(content).hexdigest()
    relative = f"originals/{sha256}.jpg"
    path = settings.PRIVATE_MEDIA_ROOT / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return Evidence.objects.create(
        report=report,
        kind=Evidence.Kind.PHOTO,
        content_type="image/jpeg",
        size=len(content),
        sha256=sha256,
        original_path=relative,
        original_name="IMG_0001.jpg",
    )


def claim_by(incident: Incident, user, *, minutes: int = 15) -> None:
    """Mark an incident as held by `user` (set up directly, as if they had claimed it)."""
    Incident.objects.filter(pk=incident.pk).update(
        claimed_by=user, claimed_until=timezone.now() + timedelta(minutes=minutes)
    )
