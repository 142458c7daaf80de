"""The public pages in a real browser: a whole report in English and in Arabic, by keyboard
alone, errors shown and fixed, the receipt, the status page, the danger-now path; each
page scanned with axe-core and photographed at desktop and phone widths."""

from typing import Any

import pytest
from playwright.sync_api import expect

from intake.models import Report, ReportAddition
from routing.models import Referral
from tests.browser.conftest import (
    accessibility_violations,
    screenshot,
    send_public_report,
    submit_public_report,
)
from tests.catalogues import catalogue
from tests.factories import IP_BY_COUNTRY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def check_page(page: Any, name: str) -> None:
    """No accessibility violation, nothing wider than the screen, and a screenshot."""
    assert accessibility_violations(page) == [], name
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{name} scrolls sideways ({width} px)"
    screenshot(page, name)


def test_a_complete_report_in_english_then_its_status_and_more_information(
    live_server: Any, reference_data: None, page: Any
) -> None:
    page.goto(f"{live_server.url}/")
    check_page(page, "home")
    page.get_by_role("link", name="Make a report").click()
    page.wait_for_url("**/report/")
    check_page(page, "report-form")
    assert page.locator("input[type=file]").count() == 0

    page.get_by_label("An adult chatted sexually with a child").check()
    page.get_by_label("When did it happen?").fill("2026-02-03")
    page.get_by_label("More about when").fill("Most evenings that week")
    page.get_by_label("Web addresses").fill("https://example.com/profile/42")
    page.get_by_label("App, game or website").fill("A game chat")
    page.get_by_label("Usernames or screen names").fill("player-42\nplayer-43")
    page.get_by_label("About how old is the child?").fill("12")
    page.get_by_label("Which country is the child in?").select_option("GB")
    page.get_by_label("Their IP address").fill(IP_BY_COUNTRY["GB"])
    page.get_by_label("Which country are you in?").select_option("GB")
    page.get_by_label("Tell us what you saw").fill("An adult asked a child for photos in a chat.")
    page.get_by_role("button", name="Send report").click()

    number = page.locator("#report-number").inner_text()
    code = page.locator("#receipt-code").inner_text()
    check_page(page, "report-received")
    report = Report.objects.get(pk=int(number))
    assert (report.source, report.resolved_country) == ("public", "GB")
    assert report.document["personOrUserReported"][1] == {"screenName": "player-43"}
    assert Referral.objects.get(report=report).agency.code == "direct-gb"

    page.get_by_role("link", name="Check your report or add to it").click()
    page.wait_for_url("**/report/status/")
    check_page(page, "report-status-lookup")
    page.get_by_label("Report number").fill(number)
    page.get_by_label("Receipt code").fill(code)
    page.get_by_role("button", name="Show the report").click()
    assert page.locator("#report-status").inner_text() == "Made available to law enforcement."
    page.get_by_label("What would you like to add?").fill("The same player is on example.com/b.")
    page.get_by_role("button", name="Add to the report").click()
    assert page.get_by_role("status").inner_text() == (
        "Thank you. Your information was added to the report."
    )
    check_page(page, "report-status")
    assert ReportAddition.objects.get(report=report).text == "The same player is on example.com/b."


def test_errors_are_summarised_linked_to_their_fields_and_fixed(
    live_server: Any, reference_data: None, page: Any
) -> None:
    page.goto(f"{live_server.url}/report/")
    page.get_by_label("When did it happen?").fill("2099-01-01")
    page.get_by_label("Web addresses").fill("data:image/png;base64,iVBORw0KGgo=")
    page.get_by_role("button", name="Send report").click()

    summary = page.get_by_role("alert")
    assert "Please correct the following" in summary.inner_text()
    expect(page.locator("#id_incident_date")).to_have_attribute("aria-invalid", "true")
    check_page(page, "report-form-errors")
    summary.get_by_role("link", name="do not send files or images").click()
    assert page.evaluate("location.hash") == "#id_urls"
    assert not Report.objects.exists()

    page.get_by_label("A child was sexually abused in person").check()
    page.get_by_label("When did it happen?").fill("2026-01-05")
    page.get_by_label("Web addresses").fill("")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#report-number")).to_be_visible()
    assert Report.objects.count() == 1


def test_a_report_by_keyboard_alone(live_server: Any, reference_data: None, page: Any) -> None:
    page.goto(f"{live_server.url}/report/")

    def tab_to(selector: str) -> None:
        for _press in range(80):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("input[name=what_happened]")
    page.keyboard.press("ArrowDown")  # the second choice, checked as focus moves
    tab_to("#id_incident_date")
    page.keyboard.type("01022026")  # month, day, year in Chromium's en-US date field
    tab_to("#id_description")
    page.keyboard.type("Typed without a mouse.")
    tab_to("form[novalidate] button[type=submit]")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # focus is visible
    page.keyboard.press("Enter")

    number = page.locator("#report-number").inner_text()
    report = Report.objects.get(pk=int(number))
    assert report.incident_type == "Online Enticement of Children for Sexual Acts"
    assert report.incident_datetime.date().isoformat() == "2026-01-02"
    assert report.description == "Typed without a mouse."


def test_a_child_in_danger_now_on_a_phone(
    live_server: Any, reference_data: None, phone_page: Any
) -> None:
    page = phone_page
    page.goto(f"{live_server.url}/")
    check_page(page, "home-phone")
    page.goto(f"{live_server.url}/report/")
    page.get_by_label("A child was offered or sought for sex").check()
    page.get_by_label("A child is in danger right now").check()
    page.get_by_label("When did it happen?").fill("2026-02-03")
    page.get_by_label("Which country are you in?").select_option("BR")
    check_page(page, "report-form-phone")
    page.get_by_role("button", name="Send report").click()

    assert "Call your local emergency number now" in page.get_by_role("alert").inner_text()
    check_page(page, "report-received-danger-phone")
    report = Report.objects.get(pk=int(page.locator("#report-number").inner_text()))
    assert report.priority == "1"
    assert Referral.objects.get(report=report).agency.code == "direct-br"


def test_a_whole_report_in_arabic_right_to_left(
    live_server: Any, reference_data: None, phone_page: Any
) -> None:
    page = phone_page
    page.goto(f"{live_server.url}/")
    page.locator("#language").select_option("ar")
    page.locator("header form button").click()

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    check_page(page, "home-arabic-phone")
    english = [
        entry.msgid for entry in catalogue("ar") if " " in entry.msgid and "%(" not in entry.msgid
    ]
    page.goto(f"{live_server.url}/report/")
    assert [text for text in english if text in page.locator("body").inner_text()] == []
    page.locator("input[name=what_happened][value=images]").check()
    page.locator("#id_incident_date").fill("2026-02-03")
    page.locator("#id_suspect_ip_address").fill(IP_BY_COUNTRY["KE"])
    page.locator("#id_description").fill("وصف لما رأيته على example.com")
    check_page(page, "report-form-arabic-phone")
    page.locator("form[novalidate] button[type=submit]").click()
    expect(page.locator("#report-number")).to_be_visible()  # the receipt, in Arabic

    body = page.locator("body").inner_text()
    assert [text for text in english if text in body] == []
    check_page(page, "report-received-arabic-phone")
    report = Report.objects.get(pk=int(page.locator("#report-number").inner_text()))
    assert report.description == "وصف لما رأيته على example.com"
    assert Referral.objects.get(report=report).agency.code.endswith("-ke")


def test_the_shortest_report_is_routed(live_server: Any, reference_data: None, page: Any) -> None:
    number = send_public_report(page, live_server, what="unwanted_material", country="DE")

    assert Referral.objects.get(report_id=int(number)).agency.code == "direct-de"


def test_every_public_page_and_state_on_a_phone(
    live_server: Any, reference_data: None, phone_page: Any, settings: Any
) -> None:
    page = phone_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/report/")
    page.locator("form[novalidate] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check_page(page, "report-form-errors-phone")

    number = send_public_report(page, live_server, what="images", country="DE")
    code = page.locator("#receipt-code").inner_text()
    check_page(page, "report-received-phone")
    page.goto(f"{live_server.url}/report/status/")
    check_page(page, "report-status-lookup-phone")
    page.get_by_label("Report number").fill(number)
    page.get_by_label("Receipt code").fill("1234 5678 1234 5678")
    page.get_by_role("button", name="Show the report").click()
    assert "do not match" in page.get_by_role("alert").inner_text()
    check_page(page, "report-status-no-match-phone")
    page.get_by_label("Receipt code").fill(code)
    page.get_by_role("button", name="Show the report").click()
    page.get_by_role("button", name="Add to the report").click()  # nothing written: an error
    expect(page.locator("#id_text")).to_have_attribute("aria-invalid", "true")
    check_page(page, "report-status-phone")

    settings.PUBLIC_REPORTS_PER_HOUR = 1
    submit_public_report(page, live_server, what="images", country="DE")
    expect(page.get_by_role("heading", level=1)).to_have_text("Please wait a little")
    check_page(page, "too-many-phone")
    # Everything the pages loaded came from this server.
    assert requested
    assert [url for url in requested if not url.startswith(live_server.url)] == []


def test_a_report_without_javascript(live_server: Any, reference_data: None, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/")
        page.locator("#language").select_option("fr")
        page.locator("header form button").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        number = send_public_report(page, live_server, what="travel", country="FR")
    finally:
        context.close()

    assert Report.objects.get(pk=int(number)).incident_type == "Child Sex Tourism"
