"""In a real browser: a coordinator watches the coverage page while an observer checks in on
the phone form; station 101 turns from "no observer" to "checked in" without a reload.
Then the coordinator sends a mobile group to an incident from the groups' board."""

import pytest
from django.db import connections

from reports.models import Dispatch, MobileGroup
from reports.services.coverage import coverage_refresh
from reports.services.mobile_groups import mobile_group_save

from .browser_helpers import browser  # noqa: F401 (a fixture)
from .coverage_helpers import tasks_in_process  # noqa: F401 (a fixture)
from .moderation_fixtures import incident_make, staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def desk_and_phone(browser, live_server, settings, tasks_in_process):  # noqa: F811 (fixtures)
    """A coordinator's desk and an observer's phone: two browser contexts on the live server."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_CODE = "en"
    settings.COVERAGE_PAGE_SECONDS = 1
    options = {"base_url": live_server.url, "locale": "en-US"}
    with browser.new_context(**options) as desk, browser.new_context(**options) as phone:
        desk.set_default_timeout(15_000)
        phone.set_default_timeout(15_000)
        yield desk.new_page(), phone.new_page()
    connections.close_all()


def test_a_coordinator_sees_a_check_in_and_sends_a_mobile_group(
    desk_and_phone, election, stations, categories, observer, observer_link
):
    coordinator = staff_user("coordinator", "kira", password=PASSWORD)
    mobile_group_save(
        group=MobileGroup(okrug=stations[101].okrug, name="MG-1", car="Lada A123BC"),
        actor=coordinator,
    )
    incident = incident_make(stations[101], categories["V1"], needs_mobile_group=True)
    coverage_refresh(election=election)

    desk, phone = desk_and_phone
    errors = []
    desk.on("pageerror", lambda error: errors.append(str(error)))
    desk.goto("/admin/login/?next=/coverage/")
    desk.fill("#id_username", "kira")
    desk.fill("#id_password", PASSWORD)
    desk.click("input[type=submit]")
    station = desk.locator('tr[data-station="101"]')
    assert "no observer" in station.inner_text()

    phone.goto(f"/signin/{observer_link.token}/")
    phone.wait_for_url("**/report/")
    phone.goto("/checkin/")
    phone.get_by_role("button", name="I am at station 101").click()
    phone.get_by_text("You are checked in at station 101. Thank you!").wait_for()

    desk.wait_for_selector('tr[data-station="101"][data-state="present"]')
    assert "checked in" in station.inner_text()
    assert desk.locator("[data-total=present]").inner_text() == "1"
    assert desk.locator("[data-chart=areas] svg rect.state-present").count() == 1

    desk.locator('a[href^="/coverage/groups/"]').first.click()
    needed = desk.locator(f'tr[data-incident="{incident.pk}"]')
    needed.locator("input[name=note]").fill("Ballot stuffing reported")
    needed.locator("button[name=dispatch]").click()
    desk.get_by_text(f"Group MG-1 sent to station 101 (incident #{incident.pk}).").wait_for()
    assert "on the way" in desk.locator('tr[data-group="MG-1"]').inner_text()
    dispatch = Dispatch.objects.get()
    assert (dispatch.incident_id, dispatch.status, dispatch.dispatched_by) == (
        incident.pk,
        "dispatched",
        coordinator,
    )
    assert errors == []
