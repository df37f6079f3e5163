"""In a real browser (Debian's Chromium through Playwright): the API docs render from the
site's own files under its CSP, and a staff member watches an export reach its download."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.db import connections
from django.test import Client

from .api_helpers import report_send, verify
from .browser_helpers import browser  # noqa: F401 (a fixture)
from .services import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _server_closes_connections():
    """Live-server threads close their connection after each request, so none is left
    open when the test database is dropped."""
    database = connections.settings["default"]
    saved = database["CONN_MAX_AGE"]
    database["CONN_MAX_AGE"] = 0
    yield
    database["CONN_MAX_AGE"] = saved


@pytest.fixture
def context(browser, live_server, settings):  # noqa: F811 (the fixture)
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(base_url=live_server.url, locale="ru-RU")
    context.set_default_timeout(15_000)
    yield context
    context.close()


class Watch:
    """Everything a page asked for outside the site, and every CSP complaint it logged."""

    def __init__(self, page, origin: str) -> None:
        self.outside, self.csp = [], []
        page.on("request", self.request)
        page.on("console", self.console)
        self.origin = origin

    def request(self, request) -> None:
        if not request.url.startswith((self.origin, "data:", "blob:")):
            self.outside.append(request.url)

    def console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp.append(message.text)


def test_api_docs_render_from_the_sites_own_files_under_its_csp(context, live_server, db):
    page = context.new_page()
    watch = Watch(page, live_server.url)

    response = page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-summary-path")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "/api/v1/reports/" in page.inner_text(".swagger-ui")
    assert watch.outside == []
    assert watch.csp == []


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_staff_watch_an_export_reach_its_download(
    context, live_server, stations, observer, moderator, settings, monkeypatch, debug
):
    """With DEBUG on too (make run's default), and the Download button only once the file is
    ready: before, it is hidden and leads nowhere."""
    monkeypatch.setenv("PRIVATE_MEDIA_ROOT", str(settings.PRIVATE_MEDIA_ROOT))  # for a worker
    monkeypatch.setenv("DEBUG", "1" if debug else "0")  # the worker's
    settings.DEBUG = debug  # the live server's
    verify(report_send(stations[101], "V1", observer), moderator)
    moderator.user_permissions.add(Permission.objects.get(codename="view_report"))
    session = Client()
    session.force_login(moderator)
    context.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    watch = Watch(page, live_server.url)

    page.goto("/exports/")
    page.select_option("select[name=shape]", "reports")
    page.select_option("select[name=format]", "json")
    page.select_option("select[name=scope]", "full")
    if django_settings.REDIS_URL:  # real broker: a real worker writes the file
        page.click("form.export-form button[type=submit]")
        page.wait_for_selector("#export-state")
        link = page.locator("#export-download")
        assert link.is_hidden() and link.get_attribute("href") is None  # no worker yet
        with celery_worker():
            page.wait_for_selector("#export-download:not([hidden])", timeout=60_000)
    else:  # eager Celery: written as the job is committed
        page.click("form.export-form button[type=submit]")
        page.wait_for_selector("#export-download:not([hidden])")

    assert page.eval_on_selector("#export-progress", "bar => bar.value") == 100
    with page.expect_download() as download:
        page.click("#export-download")
    assert Path(download.value.path()).read_text().startswith("[\n{")
    assert watch.outside == [] and watch.csp == []
