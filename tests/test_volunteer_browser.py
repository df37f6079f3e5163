"""In a real browser (Debian's Chromium through Playwright): an observer signs in through
their personal link, files a report with a photo and sees it in "My reports"; then, with the
connection gone, files another, reloads the page, comes back online, and the server ends up
with exactly one copy of it."""

import pytest
from django.db import connections

from reports.models import Evidence, Report

from .browser_helpers import browser, choose_category  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def new_context(browser, live_server, settings):  # noqa: F811 (the fixture above)
    """new_context(**options): a browser context on the live server, Russian unless told."""
    # The live server speaks plain HTTP; the cookies must not require HTTPS here.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    opened = []

    def make(**options):
        context = browser.new_context(base_url=live_server.url, locale="ru-RU", **options)
        context.set_default_timeout(15_000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()
    # Database work done while Playwright runs opens its own connection: close it, or it
    # would keep the test database from being dropped.
    connections.close_all()


@pytest.fixture
def context(new_context):
    return new_context()


def fill_report(page, *, category: str, description: str) -> None:
    choose_category(page, category)
    page.fill("textarea[name=description]", description)
    page.fill("input[name=count]", "7")


def test_report_with_photo_then_offline_report_arrives_once(
    context, observer_link, jpeg_bytes, categories
):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"/signin/{observer_link.token}/")
    page.wait_for_url("**/report/")
    fill_report(page, category="V1", description="Вброс у урны №2")
    page.set_input_files(
        "input[name=evidence]",
        files=[{"name": "urn.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((40, 30))}],
    )
    page.click("button[type=submit]")
    page.wait_for_url("**/my/*/?received=received*")
    assert "Сообщение получено" in page.inner_text("main")
    assert Evidence.objects.get().report.description == "Вброс у урны №2"

    page.click("nav >> text=Мои сообщения")
    assert "Вброс бюллетеней" in page.inner_text("main")

    # Make sure the service worker controls the page, so the form opens without a network.
    page.goto("/report/")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.reload()

    context.set_offline(True)
    fill_report(page, category="V2", description="Карусель без связи")
    page.click("button[type=submit]")
    page.wait_for_selector("#notice:has-text('Нет связи')")
    # Sent from the bottom of the long form: the confirmation and the waiting list are in view.
    page.wait_for_selector("#outbox:has-text('ждут отправки: 1')")
    viewport = page.viewport_size["height"]
    for shown in ("#notice", "#outbox"):
        box = page.locator(shown).bounding_box()
        assert box is not None and -1 <= box["y"] < viewport, (shown, box)
    page.reload()
    page.wait_for_selector("#outbox:has-text('ждут отправки: 1')")
    assert not Report.objects.filter(description="Карусель без связи").exists()

    context.set_offline(False)
    # The outbox empties only once the server has answered, i.e. after the report is stored
    # (watching the page, not the database: SQLite's shared memory would lock the table).
    page.wait_for_selector("#outbox", state="hidden", timeout=45_000)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # one more retry: nothing left
    page.goto("/my/")
    assert page.inner_text("main").count("«Карусель»") == 1
    assert Report.objects.filter(description="Карусель без связи").count() == 1
    assert Report.objects.count() == 2
    assert not errors


def test_a_draft_survives_a_reload(context, observer_link, categories):
    page = context.new_page()
    page.goto(f"/signin/{observer_link.token}/")
    page.wait_for_url("**/report/")
    uuid = page.input_value("input[name=uuid]")
    choose_category(page, "H1")
    page.fill("textarea[name=description]", "Тридцать заявлений одним почерком")

    page.reload()
    assert page.input_value("textarea[name=description]") == "Тридцать заявлений одним почерком"
    assert page.is_checked("input[name=category][value=H1]")
    assert page.input_value("input[name=uuid]") == uuid
    assert "Восстановлено" in page.inner_text("#notice")


def test_the_form_works_without_javascript(new_context, observer_link, categories):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(f"/signin/{observer_link.token}/")
    fill_report(page, category="R2", description="Запрещают снимать")
    page.click("button[type=submit]")
    page.wait_for_url("**/my/*/")
    assert "Сообщение получено" in page.inner_text("main")
    assert Report.objects.get().category_id == "R2"


def test_the_script_shows_the_servers_field_errors(context, observer_link, categories):
    page = context.new_page()
    page.goto(f"/signin/{observer_link.token}/")
    page.wait_for_url("**/report/")
    page.check("input[name=station][value=other]")
    page.fill("input[name=station_number]", "9999")
    fill_report(page, category="V1", description="Неизвестный участок")
    page.click("button[type=submit]")

    page.wait_for_selector("#errors-station_number li")
    assert "Участка с номером 9999 нет" in page.inner_text("#errors-station_number")
    assert page.input_value("textarea[name=description]") == "Неизвестный участок"
    assert page.is_hidden("#outbox")
    assert not Report.objects.exists()
