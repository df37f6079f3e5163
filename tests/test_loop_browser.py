"""In a real browser, both sides of election day at once (two contexts): a moderator asks,
the observer's open form page shows the question without a reload, the observer answers,
the incident page and the queue show the answer, the moderator rejects with a reason, the
observer sees the reason. And a phone set to UTC files the time in the election's zone."""

import datetime as dt

import pytest
from django.db import connections
from django.utils import timezone

from reports.models import Report
from reports.services.aggregation import reports_aggregate

from .browser_helpers import browser, choose_category, screenshot  # noqa: F401 (a fixture)
from .moderation_fixtures import staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def new_context(browser, live_server, settings):  # noqa: F811 (the fixture)
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    opened = []

    def make(**options):
        options.setdefault("locale", "en-US")
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()
    connections.close_all()


def fill_report(page, description: str) -> None:
    choose_category(page, "V1")
    page.fill("textarea[name=description]", description)


def test_a_question_an_answer_and_a_rejection_reach_the_other_side(
    new_context, observer_link, categories, stations
):
    staff_user("moderator", "masha", password=PASSWORD)
    phone = new_context(viewport={"width": 390, "height": 844}).new_page()
    desk = new_context(viewport={"width": 1366, "height": 900}).new_page()

    phone.goto(f"/signin/{observer_link.token}/")
    phone.wait_for_url("**/report/")
    fill_report(phone, "Ballots in a pack in urn 2")
    phone.click("button[type=submit]")
    phone.wait_for_url("**/my/*/?received=*")
    report = Report.objects.get()
    reports_aggregate(report_ids=[report.pk])
    report.refresh_from_db()
    phone.goto("/report/")  # the observer goes on with the form open

    desk.goto(f"/admin/login/?next=/admin/reports/incident/{report.incident_id}/change/")
    desk.fill("#id_username", "masha")
    desk.fill("#id_password", PASSWORD)
    desk.click("input[type=submit]")
    asking = desk.locator("form[action$='/decide/question/']")
    asking.locator("textarea[name=text]").fill("How many ballots were in the pack?")
    asking.locator("button[name=question]").click()

    desk.get_by_text("How many ballots were in the pack?").first.wait_for()
    phone.bring_to_front()  # the observer looks at the phone again
    badge = phone.locator("[data-questions-count]")
    badge.filter(has_text="1").wait_for(timeout=60_000)  # polled every 30 s, no reload
    assert "asked you a question" in phone.inner_text("#notice")
    screenshot(phone, "phone-390-question-waiting")
    phone.click("a.questions-waiting")
    phone.fill("textarea[name$=answer]", "About twenty")
    phone.click("form[action*='/answer/'] button[type=submit]")
    phone.get_by_text("Your answer was sent to headquarters.").wait_for()

    desk.goto("/admin/reports/incident/?queue=all&answer=waiting")
    assert desk.locator(".answer-waiting").count() == 1
    desk.goto(f"/admin/reports/incident/{report.incident_id}/change/")
    assert "About twenty" in desk.inner_text(".incident-facts")
    screenshot(desk, "desk-1366-incident-facts")
    desk.fill("textarea[name=reason]", "Same event as incident #1, reported twice")
    desk.click("button[name=reject]")

    phone.goto(f"/my/{report.uuid}/")
    assert "Same event as incident #1, reported twice" in phone.inner_text(".decision-reason")
    screenshot(phone, "phone-390-rejected-with-reason")
    desk.goto("/admin/reports/incident/?queue=all")
    screenshot(desk, "desk-1366-queue")


def test_a_phone_set_to_utc_files_the_time_in_the_elections_zone(
    new_context, observer_link, categories, stations
):
    phone = new_context(timezone_id="UTC", viewport={"width": 390, "height": 844}).new_page()
    phone.goto(f"/signin/{observer_link.token}/")
    phone.wait_for_url("**/report/")
    fill_report(phone, "A queue of voters brought by bus")
    phone.click("button[type=submit]")
    phone.wait_for_url("**/my/*/?received=*")

    occurred = Report.objects.get().occurred_at
    # Filled to the minute in Moscow's time: within a minute or two of now, not three hours off.
    assert abs(occurred - timezone.now()) < dt.timedelta(minutes=3)


def test_the_turnout_form_warns_of_a_count_far_from_the_earlier_one(
    new_context, observer_link, observer, stations
):
    import uuid

    from reports.services.protocols import TurnoutInput, turnout_count_submit

    turnout_count_submit(
        data=TurnoutInput(
            uuid=uuid.uuid4(), station=stations[101], checkpoint="10", own_tally=120, announced=118
        ),
        observer=observer,
    )
    phone = new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.goto(f"/signin/{observer_link.token}/")
    phone.wait_for_url("**/report/")
    phone.goto("/protocols/turnout/")
    phone.select_option("select[name=checkpoint]", "12")
    phone.fill("input[name=own_tally]", "80")
    phone.get_by_text("Lower than your count at 10:00 (120)").wait_for()
    phone.fill("input[name=own_tally]", "300")
    phone.fill("input[name=announced]", "240")
    warning = phone.inner_text("#turnout-warnings")
    assert "differ by 60 (20 %)" in warning and "Lower than" not in warning
    screenshot(phone, "phone-390-turnout-warning")
