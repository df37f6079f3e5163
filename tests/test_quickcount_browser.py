"""In a real browser: a coordinator draws a quick-count sample in the admin; observers at
sampled stations send their protocol copies from the phone form; the quick-count page shows
the estimate narrowing as copies arrive; then the official results are imported and the page
sets each official share beside its interval."""

import re
from pathlib import Path

import pytest
from django.db import connections

from reports.models import LegalStatus, QuickCountSample
from reports.services.observers import observer_create, signin_link_issue
from reports.services.protocols import results_refresh_request

from .browser_helpers import browser  # noqa: F401 (a fixture)
from .coverage_helpers import tasks_in_process  # noqa: F401 (a fixture)
from .moderation_fixtures import staff_user
from .quickcount_helpers import copy_send, official_import, quickcount_election

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
SHOTS = Path("/tmp/shots-quickcount")


@pytest.fixture
def desk_and_phone(browser, live_server, settings, tasks_in_process):  # noqa: F811 (fixtures)
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_CODE = "en"
    options = {"base_url": live_server.url, "locale": "en-US"}
    wide, narrow = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
    with browser.new_context(**options, viewport=wide) as desk, \
            browser.new_context(**options, viewport=narrow) as phone:  # fmt: skip
        desk.set_default_timeout(15_000)
        phone.set_default_timeout(15_000)
        yield desk.new_page(), phone.new_page()
    connections.close_all()


def interval_width(page) -> float:
    """Width in points of the first candidate's interval in the city table."""
    cell = page.locator("#quickcount-city tbody tr").first.locator("td").nth(1).inner_text()
    low, high = (float(value) for value in re.findall(r"\d+\.\d+", cell))
    return high - low


def shoot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def copy_from_phone(phone, station, lines: dict, jpeg: bytes) -> None:
    observer = observer_create(
        election=station.election, pseudonym=f"Наблюдатель {station.number}",
        legal_status=LegalStatus.OBSERVER, stations=[station],
    )  # fmt: skip
    _link, token = signin_link_issue(observer=observer)
    phone.context.clear_cookies()
    phone.goto(f"/signin/{token}/")
    phone.wait_for_url("**/report/")
    phone.goto("/protocols/copy/")
    for key, value in lines.items():
        phone.fill(f"#id_line_{key}", str(value))
    phone.set_input_files("#id_photo", files=[{"name": "copy.jpg", "mimeType": "image/jpeg",
                                               "buffer": jpeg}])  # fmt: skip
    phone.locator("form button[type=submit], form input[type=submit]").last.click()
    phone.get_by_text("received. Thank you!").wait_for()


def test_a_quick_count_from_the_draw_to_the_official_comparison(
    desk_and_phone, election, jpeg_bytes
):
    truth = quickcount_election(election)
    staff_user("coordinator", "kira", password=PASSWORD)
    desk, phone = desk_and_phone
    desk.goto("/admin/login/?next=/admin/reports/quickcountsample/draw/")
    desk.fill("#id_username", "kira")
    desk.fill("#id_password", PASSWORD)
    desk.click("input[type=submit]")
    assert "±" in desk.locator("#planning").inner_text()
    desk.select_option("#id_election", str(election.pk))
    desk.fill("#id_size", "24")
    desk.fill("#id_seed", "7")
    desk.click("input[type=submit]")
    desk.get_by_text("Drew 24 stations, seed 7").wait_for()
    sampled = list(QuickCountSample.objects.get().stations.order_by("number"))

    for station in sampled[:2]:
        copy_from_phone(phone, station, truth[station.number], jpeg_bytes())
    for station in sampled[2:6]:
        copy_send(station, truth[station.number])
    quickcount = f"/protocols/quickcount/?election={election.pk}"
    desk.goto(quickcount)
    assert "6 / 24" in desk.locator("#quickcount-figures").inner_text()
    assert "do not trust this estimate yet" in desk.content()
    early = interval_width(desk)
    shoot(desk, "early")

    for station in sampled[6:]:
        copy_send(station, truth[station.number])
    desk.goto(quickcount)
    assert "24 / 24" in desk.locator("#quickcount-figures").inner_text()
    assert interval_width(desk) < early

    official_import(election, truth)
    results_refresh_request(election=election, actor=None)
    desk.goto(quickcount)
    first = desk.locator("#quickcount-city tbody tr").first.locator("td")
    assert re.fullmatch(r"\d+\.\d+", first.nth(2).inner_text())
    assert first.nth(3).inner_text() in ("yes", "no")
    assert desk.locator("svg line.official").count() == 2
    assert desk.locator("#home-voting").is_visible()
    shoot(desk, "official")
