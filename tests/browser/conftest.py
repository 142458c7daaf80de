import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require(
        shutil.which(CHROMIUM) is not None, f"browser tests need Debian's chromium at {CHROMIUM}"
    )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make between page actions are still plain synchronous code.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            yield browser
            browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    # en-US: the date field takes month, day, year, as the keyboard test types them.
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser: object) -> Iterator[object]:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 360, "height": 780},
        device_scale_factor=2,
        is_mobile=True,
        locale="en-US",
    )
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def submit_public_report(page: Any, live_server: Any, *, what: str, country: str) -> None:
    """The shortest public report: what happened, a date and the reporter's country."""
    page.goto(f"{live_server.url}/report/")
    page.locator(f"input[name=what_happened][value={what}]").check()
    page.locator("#id_incident_date").fill("2026-02-03")
    page.locator("#id_country").select_option(country)
    page.locator("form[novalidate] button[type=submit]").click()


def send_public_report(page: Any, live_server: Any, *, what: str, country: str) -> str:
    """Submits the shortest public report; returns the number its receipt shows."""
    submit_public_report(page, live_server, what=what, country=country)
    return str(page.locator("#report-number").inner_text())


def accessibility_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
        },
    )
    return [
        f"{violation['id']}: {violation['help']} ({len(violation['nodes'])} nodes)"
        for violation in results.response["violations"]
    ]


def admin_log_in(page: Any, username: str, password: str) -> None:
    """On the admin's login page: the password and the code the authenticator shows;
    returns once signed in."""
    from tests.conftest import current_totp

    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Authenticator code").fill(current_totp(username))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)  # signed in
