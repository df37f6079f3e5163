"""The complaint draft: a printable complaint in Russian from a verified incident."""

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.models import Evidence, ReviewStatus

from .moderation_fixtures import client_for, evidence_make, incident_make, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def lawyer(stations):
    return staff_user("lawyer", "lena")


@pytest.fixture
def verified(stations, categories, observer):
    incident = incident_make(
        stations[101],
        categories["V1"],
        reports=2,
        observer=observer,
        status=ReviewStatus.VERIFIED,
        description="Мужчина опустил в ящик пачку из 20 бюллетеней",
    )
    reports = list(incident.reports.order_by("received_at"))
    evidence_make(reports[0], b"first photo")
    evidence_make(reports[1], b"second photo")
    return incident


def complaint_page(client, incident, to: str = "uik") -> str:
    url = reverse("admin:reports_incident_complaint", args=[incident.pk]) + f"?to={to}"
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_draft_lists_every_evidence_hash_with_its_receipt_time(lawyer, verified):
    page = complaint_page(client_for(lawyer), verified)

    evidence = Evidence.objects.filter(report__incident=verified)
    assert evidence.count() == 2
    for item in evidence:
        assert item.sha256 in page
        received = timezone.localtime(item.received_at, verified.election.tz)
        assert received.strftime("%d.%m.%Y %H:%M:%S") in page


def test_the_draft_is_in_russian_with_station_category_and_facts(settings, lawyer, verified):
    settings.LANGUAGE_CODE = "en"  # the panel in English: the complaint stays Russian

    page = complaint_page(client_for(lawyer), verified)

    assert '<html lang="ru">' in page
    assert "ЖАЛОБА" in page
    assert "участковой избирательной комиссии № 101" in page
    assert "Вброс бюллетеней" in page
    assert "пачку из 20 бюллетеней" in page
    assert "Правовое основание" in page


def test_the_draft_to_the_tik_names_the_tik(lawyer, verified):
    page = complaint_page(client_for(lawyer), verified, to="tik")

    assert "территориальной избирательной комиссии Арбат" in page


def test_the_draft_names_no_reporter(lawyer, verified, observer):
    page = complaint_page(client_for(lawyer), verified)

    assert observer.pseudonym not in page
    assert observer.contact.full_name not in page
    assert observer.contact.phone not in page


def test_no_draft_from_an_unverified_incident(lawyer, stations, categories):
    incident = incident_make(stations[101], categories["V1"])

    response = client_for(lawyer).get(
        reverse("admin:reports_incident_complaint", args=[incident.pk])
    )

    assert response.status_code == 302
    assert response.url == reverse("admin:reports_incident_change", args=[incident.pk])


def test_the_draft_has_no_inline_script(lawyer, verified):
    page = complaint_page(client_for(lawyer), verified)

    assert "<script>" not in page
    assert 'src="/static/reports/admin/print.js"' in page


def test_the_draft_says_when_it_happened_and_where_without_empty_punctuation(
    lawyer, verified, stations
):
    import datetime as dt

    report = verified.reports.order_by("received_at").first()
    happened = report.received_at - dt.timedelta(minutes=40)
    type(report).objects.filter(pk=report.pk).update(occurred_at=happened)
    local = timezone.localtime(happened, verified.election.tz)
    stations[101].address = ""
    stations[101].save()

    page = complaint_page(client_for(lawyer), verified)

    assert f"<time>{local:%H:%M}</time>" in page
    assert local.strftime("%d.%m.%Y %H:%M") in page
    assert "(территориальная комиссия Арбат, округ ЦАО)" in page
    assert "; )" not in page and "()" not in page
