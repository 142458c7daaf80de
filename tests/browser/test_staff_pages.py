"""The triage panel in a real browser: signing in with both factors, the list with its
triage filter and search, a report's page, a triage action and its audit entry, and an
auditor's view of the trail."""

from typing import Any

import pytest
from playwright.sync_api import expect

from intake.models import AuditEntry, Report
from intake.services import report_open, staff_user_create
from routing.services import report_route
from tests.browser.conftest import admin_log_in, screenshot
from tests.conftest import ProviderCredentials, ensure_staff_roles
from tests.factories import IP_BY_COUNTRY, ReportedFileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_provider_report(provider: ProviderCredentials, *, ip: str, screen_name: str) -> Report:
    """A finished, routed provider report; with no IP address, it resolves nowhere."""
    person: dict[str, Any] = {"screenName": screen_name}
    if ip:
        person["ipCaptureEvent"] = [{"ipAddress": ip}]
    report = report_open(
        document={
            "incidentSummary": {
                "incidentType": "Online Enticement of Children for Sexual Acts",
                "incidentDateTime": "2026-02-01T10:00:00Z",
            },
            "personOrUserReported": [person],
            "additionalInfo": "Chat logs attached as text by the provider.",
        },
        provider=provider.provider,
    )
    Report.objects.filter(pk=report.pk).update(status="finished", finished_at=report.received_at)
    ReportedFileFactory.create(report=report)
    report_route(report_id=report.pk)
    return Report.objects.get(pk=report.pk)


def test_the_admin_needs_the_authenticator_code(
    live_server: Any, reference_data: None, page: Any
) -> None:
    ensure_staff_roles()
    wrong = staff_user_create(username="ana", role="analyst")
    right = staff_user_create(username="bo", role="analyst")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(wrong.password)
    page.get_by_label("Authenticator code").fill("000000")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errornote")).to_contain_text("not the one your authenticator app shows")
    screenshot(page, "admin-login-wrong-code")

    # (A wrong code makes the device wait before it takes another: django-otp's throttle.)
    admin_log_in(page, "bo", right.password)

    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def test_an_analyst_triages_a_report(
    live_server: Any, reference_data: None, page: Any, provider: ProviderCredentials
) -> None:
    ensure_staff_roles()
    staff = staff_user_create(username="ana", role="analyst")
    unknown = a_provider_report(
        provider, ip="10.1.2.3", screen_name="quiet-fox"
    )  # private: nowhere
    known = a_provider_report(provider, ip=IP_BY_COUNTRY["DE"], screen_name="Loud-Bear")
    page.goto(f"{live_server.url}/admin/")
    admin_log_in(page, "ana", staff.password)

    page.goto(f"{live_server.url}/admin/intake/report/")
    page.get_by_role("link", name="Country unknown or low confidence").click()
    page.wait_for_url("**/?waiting=location")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    assert rows.first.locator("th a").inner_text() == str(unknown.pk)
    screenshot(page, "admin-reports-waiting")

    page.goto(f"{live_server.url}/admin/intake/report/")
    page.locator("#searchbar").fill("loud-bear")
    page.locator("#searchbar").press("Enter")
    page.wait_for_url("**/?q=loud-bear")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("#result_list tbody tr th a").click()
    page.wait_for_url(lambda url: f"/admin/intake/report/{known.pk}/change/" in url)

    body = page.locator("#content").inner_text()
    for text in (
        "Where it resolves",
        "Location evidence",
        "Priority reasons",
        IP_BY_COUNTRY["DE"],
        "Loud-Bear",
    ):
        assert text in body, text
    assert page.locator("#content img:not([src^='/static/admin/'])").count() == 0
    assert page.locator("video").count() == 0
    screenshot(page, "admin-report")

    page.get_by_role("link", name="Mark reviewed").click()
    page.get_by_label("Reason").fill("Checked the chat logs.")
    page.get_by_role("button", name="Mark reviewed").click()
    page.wait_for_url(f"**/admin/intake/report/{known.pk}/change/")

    assert "Mark reviewed: done for 1 report(s)." in page.locator(".messagelist").inner_text()
    assert "Checked the chat logs." in page.locator(".audit-trail").inner_text()
    screenshot(page, "admin-report-reviewed")
    assert Report.objects.get(pk=known.pk).reviewed_by == "ana"


def test_an_auditor_reads_the_trail_and_nothing_else(
    live_server: Any, reference_data: None, page: Any, provider: ProviderCredentials
) -> None:
    ensure_staff_roles()
    report = a_provider_report(provider, ip=IP_BY_COUNTRY["GB"], screen_name="x")
    staff = staff_user_create(username="audrey", role="auditor")
    page.goto(f"{live_server.url}/admin/")
    admin_log_in(page, "audrey", staff.password)

    page.goto(f"{live_server.url}/admin/intake/auditentry/")
    assert "audrey" in page.locator("#result_list").inner_text()
    screenshot(page, "admin-audit-trail")
    response = page.goto(f"{live_server.url}/admin/intake/report/{report.pk}/change/")

    assert response.status == 403
    assert not AuditEntry.objects.filter(action="view").exists()
