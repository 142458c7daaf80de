"""The pages people use, driven in a real browser."""

from typing import Any

import pytest

from intake.services import staff_user_create
from routing.models import Referral
from tests.browser.conftest import admin_log_in, screenshot, send_public_report
from tests.conftest import ensure_staff_roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_sign_in_and_see_reports_and_referrals(
    live_server: Any, reference_data: None, page: Any
) -> None:
    ensure_staff_roles()
    staff = staff_user_create(username="analyst", role="analyst")
    number = send_public_report(page, live_server, what="offered_for_sex", country="BR")

    page.goto(f"{live_server.url}/admin/")
    admin_log_in(page, "analyst", staff.password)
    page.goto(f"{live_server.url}/admin/intake/report/")
    assert page.locator(f"a[href='/admin/intake/report/{number}/change/']").count() == 1
    screenshot(page, "admin-reports")

    page.goto(f"{live_server.url}/admin/routing/referral/")
    assert "Brazil national police (simulated)" in page.locator("#result_list").inner_text()
    screenshot(page, "admin-referrals")

    page.goto(f"{live_server.url}/admin/intake/report/{number}/change/")
    assert "Brazil national police (simulated)" in page.locator("body").inner_text()
    screenshot(page, "admin-report-public")


def test_the_api_docs_render_from_this_server_alone(live_server: Any, page: Any) -> None:
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page.goto(f"{live_server.url}/api/docs/")
    page.get_by_text("Open a report").first.wait_for(timeout=20_000)

    assert outside == []
    screenshot(page, "api-docs")


def test_staff_find_a_dead_lettered_referral_and_refer_the_report_on(
    live_server: Any, reference_data: None, page: Any, settings: Any
) -> None:
    from routing.delivery import referral_deliver
    from routing.models import Agency
    from routing.services import agency_webhook_configure, report_route
    from tests.factories import IP_BY_COUNTRY, IpCaptureEventFactory, ReportFactory

    settings.DELIVERY_MAX_ATTEMPTS = 1
    agency_webhook_configure(
        agency=Agency.objects.get(code="direct-gb"), url="http://127.0.0.1:9/referrals"
    )
    report = ReportFactory.create(finished=True)
    IpCaptureEventFactory.create(report=report, ip_address=IP_BY_COUNTRY["GB"])
    referral = report_route(report_id=report.pk)
    assert referral is not None
    referral_deliver(referral_id=referral.pk)  # nothing listens on port 9
    ensure_staff_roles()
    staff = staff_user_create(username="supervisor", role="supervisor")

    page.goto(f"{live_server.url}/admin/")
    admin_log_in(page, "supervisor", staff.password)
    page.goto(f"{live_server.url}/admin/routing/referral/?status__exact=dead_lettered")
    listing = page.locator("#result_list").inner_text()
    assert "Dead-lettered" in listing
    assert "ConnectError" in listing
    screenshot(page, "admin-referrals-dead-lettered")

    page.locator(f"a[href^='/admin/routing/referral/{referral.pk}/change/']").first.click()
    page.wait_for_url(f"**/admin/routing/referral/{referral.pk}/change/**")
    history = page.locator("#events-group").inner_text()
    assert "Dead-lettered" in history
    assert "ConnectError" in history
    screenshot(page, "admin-referral-history")

    page.goto(f"{live_server.url}/admin/routing/referral/?status__exact=dead_lettered")
    page.locator(f"input[name='_selected_action'][value='{referral.pk}']").check()
    page.locator("select[name='action']").select_option("refer_on")
    page.get_by_role("button", name="Go").click()
    page.get_by_label("Agency").select_option(label=str(Agency.objects.get(code="direct-ie")))
    page.get_by_label("Reason").fill("The account holder lives in Dublin.")
    screenshot(page, "admin-refer-on")
    page.get_by_role("button", name="Refer on").click()

    assert "referred on to direct-ie" in page.locator(".messagelist").inner_text()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.RE_REFERRED
    onward = Referral.objects.get(referred_from=referral)
    assert onward.agency.code == "direct-ie"
    assert onward.status == Referral.Status.DELIVERED
    assert onward.reason == "The account holder lives in Dublin."
