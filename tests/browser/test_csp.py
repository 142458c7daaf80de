"""Every page people use, in a real browser under the Content-Security-Policy and the
Permissions-Policy: nothing on them is refused (no inline script, style or event handler,
nothing from elsewhere), and their scripts still work."""

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from intake.services import staff_user_create
from routing.delivery import referral_deliver
from routing.demo import demo_data_generate
from routing.figures import figures_refresh
from routing.models import Agency, AgencyMember
from routing.services import agency_user_create, agency_webhook_configure
from tests.browser.conftest import admin_log_in, send_public_report, submit_public_report
from tests.browser.test_agency_pages import officer_signs_in
from tests.conftest import ensure_staff_roles, referral_in
from tests.factories import ReportedFileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before the page's own scripts, in every document the page opens.
RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.recordPolicyViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} on ${event.documentURI}`
    + ` (${event.sourceFile}:${event.lineNumber})`
  );
});
"""
# What Chromium writes to the console when it refuses something or cannot read a policy.
CONSOLE_MARKERS = ("Content Security Policy", "Permissions-Policy", "Permissions policy")


@pytest.fixture
def violations(page: Any) -> list[str]:
    """Every CSP violation and policy complaint on ``page``, across its navigations."""
    found: list[str] = []

    def record(violation: str) -> None:
        found.append(violation)

    page.expose_function("recordPolicyViolation", record)
    page.add_init_script(RECORD_VIOLATIONS)

    def console(message: Any) -> None:
        if any(marker in message.text for marker in CONSOLE_MARKERS):
            found.append(f"console: {message.text}")

    page.on("console", console)
    return found


def visit(page: Any, url: str) -> None:
    """Opens ``url`` and waits until the page has loaded everything it loads."""
    page.goto(url)
    page.wait_for_load_state("networkidle")


def eventually(page: Any, condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Whether ``condition`` holds within ``seconds`` (the browser's reports keep arriving
    while it waits)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(50)
    return True


def test_an_inline_script_or_style_is_refused_and_reported(
    live_server: Any, page: Any, violations: list[str]
) -> None:
    visit(page, f"{live_server.url}/")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.inlineScriptRan = true";
          document.body.append(script);
          document.body.insertAdjacentHTML("beforeend", '<p id="styled" style="color: red">x</p>');
        }"""
    )

    assert page.evaluate("window.inlineScriptRan === undefined")
    assert page.evaluate("getComputedStyle(document.getElementById('styled')).color") != (
        "rgb(255, 0, 0)"
    )
    assert eventually(page, lambda: any("script-src-elem refused inline" in v for v in violations))
    assert eventually(page, lambda: any("style-src-attr refused inline" in v for v in violations))


def test_the_public_pages_and_a_whole_report(
    live_server: Any, reference_data: None, page: Any, violations: list[str], settings: Any
) -> None:
    visit(page, f"{live_server.url}/")
    page.locator("#language").select_option("fr")
    page.locator("header form button").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.locator("#language").select_option("en")
    page.locator("header form button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    visit(page, f"{live_server.url}/report/")
    page.locator("form[novalidate] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    number = send_public_report(page, live_server, what="images", country="DE")
    code = page.locator("#receipt-code").inner_text()
    page.get_by_role("link", name="Check your report or add to it").click()
    page.get_by_label("Report number").fill(number)
    page.get_by_label("Receipt code").fill(code)
    page.get_by_role("button", name="Show the report").click()
    page.get_by_label("What would you like to add?").fill("The same user is on example.com/b.")
    page.get_by_role("button", name="Add to the report").click()
    expect(page.get_by_role("status")).to_be_visible()
    settings.PUBLIC_REPORTS_PER_HOUR = 1
    submit_public_report(page, live_server, what="images", country="DE")
    expect(page.get_by_role("heading", level=1)).to_have_text("Please wait a little")
    visit(page, f"{live_server.url}/no-such-page/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert violations == []


def test_the_statistics_pages(
    live_server: Any, reference_data: None, page: Any, violations: list[str], settings: Any
) -> None:
    settings.PUBLIC_FIGURES_MIN_COUNT = 1
    demo_data_generate(reports=40, year=2021, seed=4)
    figures_refresh()
    ensure_staff_roles()
    credentials = staff_user_create(username="ana", role="analyst")

    visit(page, f"{live_server.url}/stats/public/")
    expect(page.locator("svg.chart")).not_to_have_count(0)
    visit(page, f"{live_server.url}/stats/")
    admin_log_in(page, "ana", credentials.password)
    expect(page.locator("svg.chart")).not_to_have_count(0)
    page.locator("#id_country").select_option("DE")
    page.get_by_role("button", name="Show the figures").click()
    page.wait_for_url(lambda url: "country=DE" in url)
    page.wait_for_load_state("networkidle")

    assert violations == []


def test_the_agency_workspace(
    live_server: Any, reference_data: None, page: Any, violations: list[str]
) -> None:
    credentials = agency_user_create(agency_code="direct-gb", username="gb-officer")
    referral = referral_in("GB", "1")
    ReportedFileFactory.create(report=referral.report)
    referral_in("GB", "3")

    visit(page, f"{live_server.url}/agency/")
    officer_signs_in(page, live_server, "gb-officer", credentials.password)
    page.get_by_label("Current password").fill(credentials.password)
    page.get_by_label("New password", exact=True).fill("a-long-passphrase-for-gb")
    page.get_by_label("The new password again").fill("a-long-passphrase-for-gb")
    page.get_by_role("button", name="Save the password").click()
    expect(page.locator("table.queue tbody tr")).to_have_count(2)
    page.get_by_text("Search and filter").click()
    page.get_by_label("Priority").select_option("1")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    page.locator("table.queue").get_by_role(
        "link", name=str(referral.report_id), exact=True
    ).click()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#referral-state")).to_contain_text("Acknowledged")
    page.get_by_role("textbox", name="Note").fill("Known to us.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator("#notes")).to_contain_text("Known to us.")
    page.get_by_label("Refer on to", exact=True).select_option("direct-de")
    page.get_by_role("textbox", name="Why").fill("The suspect lives in Munich.")
    page.get_by_role("button", name="Refer on", exact=True).click()
    expect(page.get_by_text("Referred on: the report has left your queue.")).to_be_visible()
    visit(page, f"{live_server.url}/agency/referrals/{referral.pk}/")  # what is left of it
    expect(page.locator("#referred-on")).to_be_visible()
    expect(page.locator("#notes")).to_contain_text("Known to us.")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("networkidle")

    assert violations == []
    assert AgencyMember.objects.get(user__username="gb-officer").must_change_password is False


def test_the_staff_admin(
    live_server: Any, reference_data: None, page: Any, violations: list[str], settings: Any
) -> None:
    settings.DELIVERY_MAX_ATTEMPTS = 1
    agency_webhook_configure(
        agency=Agency.objects.get(code="direct-gb"), url="http://127.0.0.1:9/referrals"
    )
    dead = referral_in("GB")
    referral_deliver(referral_id=dead.pk)  # nothing listens on port 9: dead-lettered
    number = send_public_report(page, live_server, what="images", country="DE")
    ensure_staff_roles()
    staff = staff_user_create(username="chief", role="supervisor", superuser=True)
    other = staff_user_create(username="ana", role="analyst")

    visit(page, f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(other.password)
    page.get_by_label("Authenticator code").fill("000000")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errornote")).to_be_visible()
    admin_log_in(page, "chief", staff.password)
    page.wait_for_load_state("networkidle")

    visit(page, f"{live_server.url}/admin/intake/report/")
    # The admin's own script counts the rows chosen for an action.
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("2 of 2 selected")
    page.locator(f"a[href='/admin/intake/report/{number}/change/']").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Mark reviewed").click()
    page.get_by_label("Reason").fill("Checked.")
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.locator(".messagelist")).to_contain_text("Mark reviewed: done")

    visit(page, f"{live_server.url}/admin/routing/referral/?status__exact=dead_lettered")
    page.locator(f"input[name='_selected_action'][value='{dead.pk}']").check()
    page.locator("select[name='action']").select_option("refer_on")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_label("Reason")).to_be_visible()
    visit(page, f"{live_server.url}/admin/routing/referral/{dead.pk}/change/")
    visit(page, f"{live_server.url}/admin/intake/auditentry/")
    visit(page, f"{live_server.url}/admin/routing/agency/")
    visit(page, f"{live_server.url}/admin/auth/user/")

    assert violations == []


def test_the_api_docs(live_server: Any, page: Any, violations: list[str]) -> None:
    visit(page, f"{live_server.url}/api/docs/")
    operation = page.get_by_text("Open a report").first
    operation.wait_for(timeout=20_000)
    operation.click()  # Swagger UI's script opens the operation
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert violations == []
