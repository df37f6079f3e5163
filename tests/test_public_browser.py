"""In a real browser, as an anonymous visitor on a phone and on a desktop: the city page picks
up a newly verified incident by itself, never shows an unverified one, loads nothing from
another host; a station page hides results until polls close. Screenshots go to
/tmp/shots-public/ to be looked at."""

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from reports.models import OfficialResult, StationReconciliation

from .api_helpers import report_send, verify
from .browser_helpers import browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-public")


@pytest.fixture
def visitor(browser, live_server, settings):  # noqa: F811 (a fixture)
    """A browser page that records every request it makes to another host."""
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    SHOTS.mkdir(exist_ok=True)
    host = urlsplit(live_server.url).netloc
    with browser.new_context(base_url=live_server.url, locale="en-US") as context:
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.elsewhere = []
        page.on(
            "request",
            lambda request: (
                urlsplit(request.url).netloc != host and page.elsewhere.append(request.url)
            ),
        )
        yield page
    cache.clear()
    connections.close_all()


def test_the_city_page_shows_a_newly_verified_incident_without_a_reload(
    visitor, stations, observer, other_observer, moderator
):
    verify(report_send(stations[101], "V1", observer, description="Пачка в урне"), moderator)
    waiting = report_send(stations[201], "V3", other_observer, description="Списки спрятаны")
    visitor.clock.install()
    visitor.set_viewport_size({"width": 390, "height": 844})
    visitor.goto("/public/?lang=en")

    live = visitor.locator("#live")
    assert "Пачка в урне" in live.inner_text()
    assert "Списки спрятаны" not in live.inner_text()
    visitor.screenshot(path=SHOTS / "city-390.png", full_page=True)

    verify(waiting, moderator)
    cache.clear()  # the page's PAGE_SECONDS in the cache have run out
    visitor.clock.run_for(31_000)
    expect(live).to_contain_text("Списки спрятаны")
    visitor.set_viewport_size({"width": 1366, "height": 900})
    visitor.screenshot(path=SHOTS / "city-1366.png", full_page=True)
    assert visitor.elsewhere == []


def test_a_station_page_hides_results_until_polls_close_then_shows_them(
    visitor, election, stations, observer, moderator
):
    verify(report_send(stations[101], "C5", observer, description="Копию не дали"), moderator)
    StationReconciliation.objects.create(
        election=election, station=stations[101], copies=2, lines={"1": 1500, "10": 640}
    )
    OfficialResult.objects.create(
        election=election, region="Москва", tik="Арбат", uik=101, station=stations[101],
        lines={"1": 1500, "10": 712},
    )  # fmt: skip
    election.date = timezone.localdate() + dt.timedelta(days=1)
    election.save()
    visitor.set_viewport_size({"width": 390, "height": 844})
    visitor.goto("/public/station/101/?lang=en")
    assert "Result figures are published after polls close." in visitor.content()
    assert visitor.locator("table.protocol").count() == 0

    election.date = timezone.localdate() - dt.timedelta(days=1)
    election.save()
    cache.clear()
    visitor.goto("/public/station/101/?lang=en&polls=closed")  # past the browser's own cache
    table = visitor.locator("table.protocol")
    assert "712" in table.inner_text() and "640" in table.inner_text()
    visitor.screenshot(path=SHOTS / "station-390.png", full_page=True)
    visitor.set_viewport_size({"width": 1366, "height": 900})
    visitor.screenshot(path=SHOTS / "station-1366.png", full_page=True)
    assert visitor.elsewhere == []
