"""Debian's Chromium through Playwright, for the browser tests (`pytest -m browser`).

Use the `browser` fixture by importing it into a test module:
`from .browser_helpers import browser  # noqa: F401 (a fixture)`.
"""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def screenshot(page, name: str) -> None:
    """With SCREENSHOTS_DIR set, keep a full-page picture of what a person sees at this step
    (to look at when a page changes; never committed)."""
    import os

    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def choose_category(page, code: str) -> None:
    """Pick an incident category as a person does: open its group if it is folded, then tap."""
    folded = page.locator(f"details.phase:not([open]):has(input[value={code}]) > summary")
    if folded.count():
        folded.click()
    page.check(f"input[name=category][value={code}]")
