"""In a real browser, headquarters on election night: a coordinator sends a group within the
station's okrug, is asked before sending one across okrugs, and sees how many incidents wait
beyond the first page; an analyst sees a differing protocol copy marked on the results."""

import pytest
from django.db import connections

from reports.models import Dispatch, MobileGroup
from reports.services.mobile_groups import mobile_group_save

from .browser_helpers import browser  # noqa: F401 (a fixture)
from .moderation_fixtures import incident_make, staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def desk(browser, live_server, settings):  # noqa: F811 (the fixture)
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    with browser.new_context(base_url=live_server.url, locale="en-US") as context:
        context.set_default_timeout(15_000)
        yield context.new_page()
    connections.close_all()


def sign_in(page, username: str, next_url: str) -> None:
    page.goto(f"/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_a_coordinator_sends_within_the_okrug_and_is_asked_before_crossing_it(
    desk, stations, categories, monkeypatch
):
    monkeypatch.setattr("reports.views.coverage.NEEDED_SHOWN", 2)
    coordinator = staff_user("coordinator", "kira", password=PASSWORD)
    for okrug, name in ((stations[101].okrug, "MG-Centre"), (stations[201].okrug, "MG-North")):
        mobile_group_save(group=MobileGroup(okrug=okrug, name=name), actor=coordinator)
    first = incident_make(stations[101], categories["V1"], severity="C", needs_mobile_group=True)
    second = incident_make(stations[102], categories["V1"], severity="C", needs_mobile_group=True)
    incident_make(stations[102], categories["V2"], severity="P", needs_mobile_group=True)

    sign_in(desk, "kira", "/coverage/groups/")
    assert "Incidents 1–2 of 3" in desk.inner_text("[data-needed-count]")
    assert "1 more not shown" in desk.inner_text("nav.pager")

    row = desk.locator(f'tr[data-incident="{first.pk}"]')
    assert row.locator("select[name=group] option").first.inner_text().startswith("MG-Centre")
    row.locator("button[name=dispatch]").click()
    desk.get_by_text(f"Group MG-Centre sent to station 101 (incident #{first.pk}).").wait_for()

    row = desk.locator(f'tr[data-incident="{second.pk}"]')
    row.locator("select[name=group]").select_option(label="MG-North (САО) · 0 trips so far")
    row.locator("button[name=dispatch]").click()
    desk.get_by_text("Send it across okrugs?").wait_for()
    assert Dispatch.objects.count() == 1
    desk.get_by_role("button", name="Send across okrugs").click()
    desk.get_by_text(f"Group MG-North sent to station 102 (incident #{second.pk}).").wait_for()
    assert Dispatch.objects.filter(group__name="MG-North", incident=second).exists()


def test_an_analyst_sees_a_differing_copy_marked_on_the_results(
    desk, election, stations, categories, observer
):
    from reports.domain.protocol_checks import template_load
    from reports.services.protocols import results_aggregate, station_reconcile

    from .test_protocol_reconciliation import official, send_copy

    election.protocol_template = template_load("federal-12", ["Иванов", "Петров"])
    election.save()
    staff_user("administrator", "ada", password=PASSWORD)
    send_copy(stations[101], observer, inside=280)
    official(stations[101])
    station_reconcile(station=stations[101])
    results_aggregate(election=election)

    sign_in(desk, "ada", f"/protocols/results/?election={election.pk}")
    marked = desk.locator('tr.differs[data-station="101"]')
    assert "30.00 / 50.00" in marked.inner_text()
    assert desk.locator("figure.comparison svg rect").count() >= 3
    marked.locator("a").click()
    desk.wait_for_url("**/admin/reports/stationreconciliation/**")
