"""In a real browser: the protocol form checks the control relations as the observer types,
names the failing lines, and the charts of the statistics page load under the site's CSP."""

import pytest
from django.db import connections

from reports.domain.protocol_checks import template_load

from .browser_helpers import browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEYS = ["voters", "received", "early", "inside", "outside", "cancelled", "portable",
        "stationary", "invalid", "valid", "lost", "unaccounted", "c1", "c2"]  # fmt: skip
LINES = [1000, 600, 0, 480, 20, 100, 20, 480, 10, 490, 0, 0, 300, 190]


@pytest.fixture(autouse=True)
def _server_closes_connections():
    database = connections.settings["default"]
    saved = database["CONN_MAX_AGE"]
    database["CONN_MAX_AGE"] = 0
    yield
    database["CONN_MAX_AGE"] = saved


@pytest.fixture
def page(browser, live_server, settings, observer_link):  # noqa: F811 (the fixture above)
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    election = observer_link.link.observer.election
    election.protocol_template = template_load("federal-12", ["Иванов", "Петров"])
    election.save()
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.csp = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp.append(m.text))
    page.goto(f"/signin/{observer_link.token}/")
    page.goto("/protocols/copy/")
    yield page
    context.close()


def type_protocol(page, **changes) -> None:
    for key, value in zip(KEYS, LINES, strict=True):
        page.fill(f"[data-line='{key}']", str(changes.get(key, value)))


def test_a_correct_protocol_is_confirmed_as_typed(page):
    type_protocol(page)
    assert page.locator("#relation-ok").is_visible()
    assert page.locator("#relation-failures li").count() == 0
    assert page.csp == []


def test_a_typo_names_the_failing_relation_and_marks_its_lines(page):
    type_protocol(page, valid=491)
    failures = page.locator("#relation-failures li").all_inner_texts()
    assert "line 7 + 8 = 9 + 10 does not hold: 500 against 501" in failures
    assert page.locator(".field.relation-failed [data-line='invalid']").count() == 1
    assert page.locator(".field.relation-failed [data-line='voters']").count() == 0
    page.fill("[data-line='valid']", "490")
    assert page.locator("#relation-failures li").count() == 0


def test_a_soft_check_is_shown_as_a_warning(page):
    type_protocol(page, portable=25, stationary=475)
    assert page.locator("#relation-failures li").count() == 0
    assert page.locator("#relation-warnings li").count() == 1
