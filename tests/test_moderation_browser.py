"""In a real browser: a moderator signs in, opens the default queue, claims an incident and
verifies it, and the observer's "My reports" shows the new status; a second moderator
cannot act on the incident while the first holds it. The dashboard draws its charts."""

import pytest
from django.db import connections
from django.urls import reverse

from reports.models import Incident, ReviewStatus, Tally

from .browser_helpers import browser  # noqa: F401 (a fixture)
from .moderation_fixtures import incident_make, staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def open_page(browser, live_server, settings):  # noqa: F811 (the fixture above)
    """open_page(): a page in a fresh browser context on the live server, in English."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_CODE = "en"
    contexts = []

    def make():
        context = browser.new_context(base_url=live_server.url, locale="en-US")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    connections.close_all()


def sign_in(page, username: str) -> None:
    page.goto(reverse("admin:login") + "?next=" + reverse("admin:reports_incident_changelist"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_moderators_claim_and_verify_and_the_observer_sees_it(
    open_page, stations, categories, observer, observer_link
):
    incident = incident_make(stations[101], categories["V1"], reports=2, observer=observer)
    staff_user("moderator", "anna", password=PASSWORD)
    staff_user("moderator", "boris", password=PASSWORD)

    anna = open_page()
    sign_in(anna, "anna")
    anna.get_by_role("link", name=f"#{incident.pk}").click()
    anna.click("button[name=claim]")
    anna.get_by_text(f"You hold incident #{incident.pk}").wait_for()

    boris = open_page()
    sign_in(boris, "boris")
    boris.goto(reverse("admin:reports_incident_change", args=[incident.pk]))
    boris.get_by_text("Claimed by Anna until").wait_for()
    boris.click("button[name=verify]")
    boris.get_by_text(f"Incident #{incident.pk} is being handled by Anna").wait_for()
    assert Incident.objects.get(pk=incident.pk).status == ReviewStatus.NEW

    anna.click("button[name=verify]")
    anna.get_by_text(f"Incident #{incident.pk} verified").wait_for()

    volunteer = open_page()
    volunteer.goto(reverse("reports:signin_token", args=[observer_link.token]))
    volunteer.goto(reverse("reports:my_reports"))
    statuses = volunteer.locator(".status").all_inner_texts()
    assert statuses == ["Verified", "Verified"]


def test_the_dashboard_draws_its_charts(open_page, election, stations, election_day_noon):
    for dimension, key in [("phase", "voting"), ("category", "V1"), ("status", "new")]:
        Tally.objects.create(
            election=election, dimension=dimension, key=key, hour=election_day_noon, count=12
        )
    staff_user("moderator", "anna", password=PASSWORD)
    page = open_page()
    sign_in(page, "anna")

    page.goto(reverse("admin:reports_dashboard"))

    page.wait_for_selector("#dashboard[data-drawn=true]")
    assert page.locator("[data-chart=hours] svg rect").count() == 1
    assert page.locator("[data-chart=categories] svg rect").count() == 1
    assert page.locator("[data-field=reports]").inner_text() == "12"
