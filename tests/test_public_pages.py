"""The public pages as an anonymous visitor, a journalist or a news site's link traffic sees
them: verified incidents only, nobody named, results only after polls close, cached."""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.models import (
    Evidence,
    Incident,
    ObserverContact,
    OfficialResult,
    Station,
    StationReconciliation,
    StatisticsRun,
    TurnoutCount,
)
from reports.services.evidence import evidence_attach
from reports.services.protocols import statistics_run_execute

from .api_helpers import report_send, verify
from .statistics_helpers import official_results_with_full_turnout

ATOM = "{http://www.w3.org/2005/Atom}"


def atom(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 (our own feed, not untrusted input)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def verified(stations, observer, moderator, jpeg_bytes):
    report = report_send(stations[101], "V1", observer, description="Вброс пачки у урны 2")
    evidence_attach(
        report=report, upload=SimpleUploadedFile("IMG_0042.JPG", jpeg_bytes(), "image/jpeg")
    )
    verify(report, moderator)
    return report


@pytest.fixture
def unverified(stations, other_observer):
    return report_send(stations[201], "V3", other_observer, description="Списки не показали")


def polls_closed(election) -> None:
    election.polls_close = (timezone.localtime(timezone=election.tz) - dt.timedelta(hours=1)).time()
    election.date = timezone.localtime(timezone=election.tz).date()
    election.save()


def polls_open(election) -> None:
    election.date = timezone.localdate() + dt.timedelta(days=1)
    election.save()


def public_pages(client: Client, stations) -> dict[str, str]:
    okrug = stations[101].okrug_id
    paths = [
        "/",
        "/public/",
        "/public/?lang=en",
        f"/public/okrug/{okrug}/",
        "/public/station/101/",
        "/public/station/201/?lang=en",
        "/public/feed/",
        f"/public/feed/?okrug={okrug}&category=V1",
    ]
    pages = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.content.decode()
    return pages


def test_a_visitor_sees_verified_incidents_by_okrug_and_category_and_never_unverified(
    verified, unverified
):
    page = Client().get("/public/").content.decode()

    assert "Вброс бюллетеней" in page  # the category by its name, not its code
    assert "Вброс пачки у урны 2" in page
    assert "ЦАО" in page
    assert "Списки не показали" not in page
    assert "Нарушения при выдаче бюллетеней" not in page


def test_the_front_page_for_anyone_not_signed_in_is_the_city_page(verified):
    page = Client().get("/").content.decode()
    assert "Вброс пачки у урны 2" in page


def test_the_city_page_in_english(verified):
    page = Client().get("/public/?lang=en").content.decode()
    assert "Ballot stuffing" in page
    assert "Verified incidents" in page


def test_the_public_photo_is_the_exif_free_copy_never_the_original(verified):
    evidence = Evidence.objects.get()
    page = Client().get("/public/station/101/").content.decode()

    assert f'<img src="/media/{evidence.public_path}"' in page
    assert evidence.original_path not in page
    city = Client().get("/public/").content.decode()
    assert (
        f'<a class="photo" href="/media/{evidence.public_path}"' in city
    )  # a link: page stays small
    assert "IMG_0042" not in page


def test_no_public_page_or_feed_names_an_observer_or_a_file_original(
    verified, unverified, stations, observer
):
    TurnoutCount.objects.create(
        election=observer.election, station=stations[101], observer=observer, checkpoint="12",
        own_tally=400, announced=410, channel="web", content_hash="y",
    )  # fmt: skip
    polls_closed(stations[101].election)
    secrets = []
    for contact in ObserverContact.objects.select_related("observer"):
        secrets += [contact.observer.pseudonym, contact.full_name, contact.phone, contact.email]
    secrets += [evidence.original_path for evidence in Evidence.objects.all()]
    secrets += [evidence.original_name for evidence in Evidence.objects.all()]
    secrets = [secret for secret in secrets if secret]
    assert len(secrets) >= 5

    for path, html in public_pages(Client(), stations).items():
        for secret in secrets:
            assert secret not in html, f"{secret!r} on {path}"


def test_report_times_are_shown_to_the_minute_only(verified):
    incident = verified.incident
    incident.refresh_from_db()
    # Seconds that cannot be mistaken for the minute (the test once ran at hh:37).
    second = 41 if incident.first_at.minute == 37 else 37
    incident.first_at = incident.first_at.replace(second=second)
    incident.save()
    feed = Client().get("/public/feed/").content.decode()
    page = Client().get("/public/station/101/").content.decode()

    published = atom(feed).find(f"{ATOM}entry/{ATOM}published").text
    assert dt.datetime.fromisoformat(published).second == 0
    assert f":{second}Z" not in page and f":{second}+" not in page


def test_a_station_page_hides_results_until_polls_close_then_shows_them_beside_the_official(
    verified, stations, observer
):
    station = stations[101]
    TurnoutCount.objects.create(
        election=station.election, station=station, observer=observer, checkpoint="18",
        own_tally=1187, announced=1203, channel="web", content_hash="x",
    )  # fmt: skip
    StationReconciliation.objects.create(
        election=station.election,
        station=station,
        copies=1,
        lines={"1": 1500, "10": 640},
        differs_from_official=True,
    )
    OfficialResult.objects.create(
        election=station.election,
        region="Москва",
        tik="Арбат",
        uik=101,
        station=station,
        lines={"1": 1500, "10": 712},
    )
    polls_open(station.election)
    before = Client().get("/public/station/101/").content.decode()
    assert "712" not in before and "640" not in before and "1203" not in before
    assert "Итоги публикуются после закрытия участков." in before

    cache.clear()
    polls_closed(station.election)
    after = Client().get("/public/station/101/").content.decode()
    assert "712" in after and "640" in after
    assert "1187" in after and "1203" in after
    assert "Копия наблюдателей расходится с официальным результатом" in after


def test_a_counting_report_description_is_withheld_until_polls_close(stations, observer, moderator):
    report = report_send(stations[102], "C4", observer, description="В протоколе 712 вместо 640")
    verify(report, moderator)
    polls_open(stations[102].election)

    page = Client().get("/public/station/102/").content.decode()
    assert "712 вместо 640" not in page

    cache.clear()
    polls_closed(stations[102].election)
    page = Client().get("/public/station/102/").content.decode()
    assert "712 вместо 640" in page


def test_search_by_station_number_opens_its_page(verified):
    response = Client().get("/public/station/", {"number": "101"})
    assert response.status_code == 302
    assert response["Location"] == "/public/station/101/"
    assert Client().get("/public/station/9999/").status_code == 404


def test_the_feed_is_atom_with_verified_incidents_only(verified, unverified, stations):
    response = Client().get("/public/feed/")

    assert response["Content-Type"].startswith("application/atom+xml")
    root = atom(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert [entry.find(f"{ATOM}title").text for entry in entries] == [
        "Участок 101: Вброс бюллетеней"
    ]
    for entry in entries:
        assert entry.find(f"{ATOM}id") is not None
        assert entry.find(f"{ATOM}updated") is not None
        assert entry.find(f"{ATOM}link").get("href").endswith(f"#incident-{verified.incident_id}")
    narrowed = Client().get("/public/feed/", {"category": "V2"})
    assert atom(narrowed.content).findall(f"{ATOM}entry") == []


def test_a_shared_station_link_has_open_graph_tags(verified):
    page = Client().get("/public/station/101/").content.decode()
    assert '<meta property="og:title" content="УИК 101' in page
    assert 'property="og:url" content="http://testserver/public/station/101/"' in page


def test_a_cached_public_page_costs_no_database_query(verified):
    visitor = Client()
    first = visitor.get("/public/")
    with CaptureQueriesContext(connection) as queries:
        again = Client().get("/public/")

    assert again.content == first.content
    assert len(queries) == 0
    assert again.has_header("ETag") and again.has_header("Last-Modified")
    assert "max-age=30" in again["Cache-Control"]


def test_a_proxy_revalidating_with_the_etag_gets_not_modified(verified):
    etag = Client().get("/public/")["ETag"]
    assert Client().get("/public/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_newly_verified_incident_appears_once_the_cache_expires(verified, unverified, moderator):
    assert "Списки не показали" not in Client().get("/public/").content.decode()
    verify(unverified, moderator)

    cache.clear()  # what PAGE_SECONDS of waiting does
    assert "Списки не показали" in Client().get("/public/").content.decode()


@pytest.fixture
def counted(election, stations):
    """Official results of 31 stations and their statistics; station 31 at 100 % turnout."""
    official_results_with_full_turnout(election)
    statistics_run_execute(run_id=StatisticsRun.objects.create(election=election).pk)
    station = Station.objects.create(
        election=election, okrug=stations[101].okrug, tik=stations[101].tik, number=31
    )
    OfficialResult.objects.filter(uik=31).update(station=station)
    return election


def test_after_polls_close_the_city_page_shows_results_and_statistics_with_their_methods(
    counted,
):
    polls_open(counted)
    before = Client().get("/public/?lang=en").content.decode()
    assert "Shpilkin" not in before and "<svg" not in before

    cache.clear()
    polls_closed(counted)
    after = Client().get("/public/?lang=en").content.decode()
    assert "Results side by side" in after and "Иванов, %" in after
    assert "Shpilkin" in after and "Annals of Applied Statistics" in after
    assert "<svg" in after


def test_a_station_page_explains_its_statistical_flags_after_polls_close(counted):
    polls_closed(counted)
    page = Client().get("/public/station/31/?lang=en").content.decode()

    assert "100 % turnout outside temporary stations" in page
    assert "These are statistical signs, not proof" in page
    assert "Ballots in the boxes" not in page or "500" in page


def test_the_city_page_is_small_and_loads_nothing_from_another_host(verified, stations):
    polls_closed(stations[101].election)
    page = Client().get("/public/")

    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert "reports/public/public.css" in assets
    size = len(page.content) + sum(len(Path(finders.find(asset)).read_bytes()) for asset in assets)
    assert size < 150_000
    assert not re.search(r'(src|href)="(https?:)?//', page.content.decode())


def test_last_modified_tells_the_minute_only(verified):
    incident = verified.incident
    incident.refresh_from_db()
    Incident.objects.filter(pk=incident.pk).update(
        updated_at=incident.updated_at.replace(second=37)
    )
    assert ":37 GMT" not in Client().get("/public/")["Last-Modified"]
