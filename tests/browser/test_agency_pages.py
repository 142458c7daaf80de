"""The agency workspace in a real browser, in English and in Arabic (right to left): signing
in with both factors, the first password change, the queue most urgent first with its
filters, a referral's page, acting on it, and referring it on to another agency, which
finds it in its own queue."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import translation
from playwright.sync_api import expect

from intake.models import Report
from routing.models import AgencyMember, Referral
from routing.selectors import country_names
from routing.services import agency_user_create
from tests.browser.conftest import accessibility_violations, screenshot
from tests.conftest import current_totp, referral_in
from tests.factories import ReportedFileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def officer_signs_in(page: Any, live_server: Any, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/agency/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("#id_otp_token").fill(current_totp(username))
    page.locator("form[novalidate] button[type=submit]").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)


def in_language(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def test_an_officer_works_the_queue_and_refers_a_report_on(
    live_server: Any, reference_data: None, page: Any
) -> None:
    credentials = agency_user_create(agency_code="direct-gb", username="gb-officer")
    agency_user_create(agency_code="direct-gb", username="gb-colleague")
    normal = referral_in("GB", "3")
    urgent = referral_in("GB", "1")
    ReportedFileFactory.create(report=urgent.report)
    Report.objects.filter(pk=urgent.report_id).update(content_status="contains_new")
    referral_in("DE", "1")  # another agency's: never shown here

    officer_signs_in(page, live_server, "gb-officer", credentials.password)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.get_by_label("Current password").fill(credentials.password)
    page.get_by_label("New password", exact=True).fill("a-long-passphrase-for-gb")
    page.get_by_label("The new password again").fill("a-long-passphrase-for-gb")
    page.get_by_role("button", name="Save the password").click()

    expect(page.get_by_role("heading", name="Referrals")).to_be_visible()
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(str(urgent.report_id))
    expect(rows.nth(1)).to_contain_text(str(normal.report_id))
    expect(page.locator("#count-new")).to_have_text("2")
    expect(page.locator("#count-priority-1")).to_have_text("1")
    assert accessibility_violations(page) == []
    screenshot(page, "agency-queue")

    page.get_by_text("Search and filter").click()
    page.get_by_label("Priority").select_option("1")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)

    rows.nth(0).get_by_role("link", name=str(urgent.report_id), exact=True).click()
    expect(page.get_by_role("heading", name=f"Report {urgent.report_id}")).to_be_visible()
    expect(page.locator("#country")).to_contain_text("United Kingdom")
    expect(page.locator("#file-counts")).to_contain_text("1 file")
    assert page.locator("img, video").count() == 0
    assert accessibility_violations(page) == []
    screenshot(page, "agency-referral")

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#referral-state")).to_contain_text("Acknowledged")
    page.get_by_label("Assign to").select_option(label="gb-colleague")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#assigned-to")).to_have_text("gb-colleague")
    page.get_by_role("textbox", name="Note").fill("The account holder is known to us.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator("#notes")).to_contain_text("The account holder is known to us.")

    page.get_by_label("Refer on to", exact=True).select_option("direct-de")
    page.get_by_role("textbox", name="Why").fill("The suspect lives in Munich.")
    screenshot(page, "agency-refer-on")
    page.get_by_role("button", name="Refer on", exact=True).click()

    expect(page.get_by_text("Referred on: the report has left your queue.")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text(str(normal.report_id))
    onward = Referral.objects.get(referred_from=urgent)
    assert (onward.agency.code, onward.status) == ("direct-de", "delivered")

    german = agency_user_create(agency_code="direct-de", username="de-officer")
    AgencyMember.objects.filter(user__username="de-officer").update(must_change_password=False)
    page.get_by_role("button", name="Sign out").click()
    officer_signs_in(page, live_server, "de-officer", german.password)
    expect(page.locator("table.queue")).to_contain_text(str(urgent.report_id))
    page.locator("table.queue").get_by_role("link", name=str(urgent.report_id), exact=True).click()
    expect(page.locator("#trail")).to_contain_text("The suspect lives in Munich.")
    expect(page.locator("#notes")).not_to_contain_text("The account holder is known to us.")


def test_the_workspace_in_arabic_reads_right_to_left(
    live_server: Any, reference_data: None, page: Any
) -> None:
    credentials = agency_user_create(agency_code="direct-gb", username="ar-officer")
    AgencyMember.objects.filter(user__username="ar-officer").update(
        must_change_password=False, language="ar"
    )
    referral = referral_in("GB", "1")
    ReportedFileFactory.create(report=referral.report)
    Report.objects.filter(pk=referral.report_id).update(content_status="contains_new")

    officer_signs_in(page, live_server, "ar-officer", credentials.password)

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.get_by_role("heading", name=in_language("ar", "Referrals"))).to_be_visible()
    assert accessibility_violations(page) == []
    screenshot(page, "agency-queue-ar")

    page.locator("table.queue").get_by_role(
        "link", name=str(referral.report_id), exact=True
    ).click()
    britain_in_arabic = country_names("ar")["GB"]
    assert britain_in_arabic != "United Kingdom"
    expect(page.locator("#country")).to_contain_text(britain_in_arabic)
    page.locator("#id_agency").select_option("direct-fr")
    page.locator("#id_reason").fill("Le suspect vit à Lyon.")
    screenshot(page, "agency-referral-ar")
    page.locator("form[action$=refer-on] button[type=submit]").click()

    message = in_language("ar", "Referred on: the report has left your queue.")
    assert message != "Referred on: the report has left your queue."
    expect(page.get_by_text(message)).to_be_visible()
    expect(page.locator("#empty-queue")).to_be_visible()
    assert Referral.objects.get(referred_from=referral).agency.code == "direct-fr"
    assert User.objects.get(username="ar-officer").agency_member.language == "ar"
