"""Notices to providers and the shared known-hash list in a real browser, under the
Content-Security-Policy: an analyst sends a notice from a report's page and adds its files
to the list, staff read a provider's feedback on an entry, a supervisor records a
provider's hash-sharing agreement and withdraws a disputed entry, and the staff figures
count the notices."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import expect

from intake.models import AuditEntry, HashFeedback, KnownHash, Provider
from intake.services import staff_user_create
from intake.sharing import hash_feedback_add, report_files_confirm_known
from routing.models import Notice, NoticeEvent
from routing.notices import notice_answer, notice_send
from tests.browser.conftest import admin_log_in, screenshot
from tests.browser.test_csp import violations, visit  # noqa: F401 (a fixture)
from tests.browser.test_staff_pages import a_provider_report
from tests.conftest import ProviderCredentials, api_client_for, ensure_staff_roles
from tests.factories import IP_BY_COUNTRY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff_signs_in(page: Any, live_server: Any, username: str, role: str) -> User:
    """A new staff member in ``role``, signed in to the admin with both factors."""
    ensure_staff_roles()
    credentials = staff_user_create(username=username, role=role)
    visit(page, f"{live_server.url}/admin/")
    admin_log_in(page, username, credentials.password)
    return User.objects.get(username=username)


def test_an_analyst_sends_a_notice_to_the_provider(
    live_server: Any,
    reference_data: None,
    page: Any,
    violations: list[str],  # noqa: F811
    provider: ProviderCredentials,
) -> None:
    report = a_provider_report(provider, ip=IP_BY_COUNTRY["DE"], screen_name="Loud-Bear")
    staff_signs_in(page, live_server, "ana", "analyst")

    visit(page, f"{live_server.url}/admin/intake/report/{report.pk}/change/")
    page.get_by_role("link", name="Send a notice to the provider").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Send a notice to the provider")).to_be_visible()
    page.get_by_label("Notice type").select_option("takedown")
    page.get_by_label("What is asked").select_option("removal")
    page.get_by_label("Targets").fill(
        "https://chat.example/u/loud-bear\nhttps://chat.example/m/1001"
    )
    page.get_by_label("Reason").fill("The chat logs show the account enticing a child.")
    screenshot(page, "admin-notice-form")
    page.get_by_role("button", name="Send a notice to the provider").click()
    page.wait_for_url(f"**/admin/intake/report/{report.pk}/change/")
    page.wait_for_load_state("networkidle")

    expect(page.locator(".messagelist")).to_contain_text(
        "Send a notice to the provider: done for 1 report(s)."
    )
    trail = page.locator(".audit-trail")
    expect(trail).to_contain_text("send_notice")
    expect(trail).to_contain_text("The chat logs show the account enticing a child.")
    expect(trail).to_contain_text("Example Chat")
    screenshot(page, "admin-notice-send")
    assert violations == []
    notice = Notice.objects.get(report=report)
    assert notice.provider == provider.provider
    assert notice.notice_type == Notice.Type.TAKEDOWN
    assert notice.requested_action == Notice.RequestedAction.REMOVAL
    assert notice.targets == ["https://chat.example/u/loud-bear", "https://chat.example/m/1001"]
    assert notice.reason == "The chat logs show the account enticing a child."
    assert notice.status == Notice.Status.OPEN
    assert notice.sent_by is not None
    assert notice.sent_by.username == "ana"
    assert NoticeEvent.objects.filter(notice=notice, kind=NoticeEvent.Kind.SENT).count() == 1
    entry = AuditEntry.objects.get(detail__action="send_notice")
    assert (entry.username, entry.detail["notice"]) == ("ana", notice.pk)


def test_an_analyst_adds_a_reports_files_to_the_known_hash_list(
    live_server: Any,
    reference_data: None,
    page: Any,
    violations: list[str],  # noqa: F811
    provider: ProviderCredentials,
) -> None:
    report = a_provider_report(provider, ip=IP_BY_COUNTRY["DE"], screen_name="Loud-Bear")
    KnownHash.objects.create(hash_type="md5", value="f" * 32, label="Imported, not shared")
    staff_signs_in(page, live_server, "ana", "analyst")

    visit(page, f"{live_server.url}/admin/intake/report/{report.pk}/change/")
    page.get_by_role("link", name="Add this report's files to the known-hash list").click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Label").fill("Series seen before, confirmed")
    page.get_by_label("Reason").fill("Both files match the series the analysts confirmed.")
    page.get_by_role("button", name="Add this report's files to the known-hash list").click()
    page.wait_for_url(f"**/admin/intake/report/{report.pk}/change/")
    expect(page.locator(".messagelist")).to_contain_text(
        "Add this report's files to the known-hash list: done for 1 report(s)."
    )
    expect(page.locator(".audit-trail")).to_contain_text("confirm_known")

    visit(page, f"{live_server.url}/admin/intake/knownhash/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    page.locator("#changelist-filter a[href='?shared=yes']").click()
    page.wait_for_url("**/admin/intake/knownhash/?shared=yes")
    page.wait_for_load_state("networkidle")

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    listed = page.locator("#result_list").inner_text()
    file = report.files.get()
    for text in (file.md5, file.sha256, "Series seen before, confirmed", "ana"):
        assert text in listed, text
    assert "Imported, not shared" not in listed
    # Wide enough for every column beside the filters (a SHA-256 value is 64 characters).
    page.set_viewport_size({"width": 1900, "height": 900})
    screenshot(page, "admin-known-hashes-shared")
    assert violations == []
    shared = KnownHash.objects.filter(shared_seq__isnull=False)
    assert {(entry.hash_type, entry.value) for entry in shared} == {
        ("md5", file.md5),
        ("sha256", file.sha256),
    }
    assert {entry.confirmed_from_report_id for entry in shared} == {report.pk}


def test_staff_read_a_providers_feedback_on_an_entry(
    live_server: Any,
    reference_data: None,
    page: Any,
    violations: list[str],  # noqa: F811
    provider: ProviderCredentials,
) -> None:
    report = a_provider_report(provider, ip=IP_BY_COUNTRY["DE"], screen_name="Loud-Bear")
    ensure_staff_roles()
    staff_user_create(username="sam", role="supervisor")
    disputed, confirmed = report_files_confirm_known(
        report=report, label="Series seen before", user=User.objects.get(username="sam")
    ).entries
    hash_feedback_add(
        provider=provider.provider,
        entry_id=disputed.pk,
        verdict=HashFeedback.Verdict.DISPUTED,
        reason="A stock photograph of a beach, not abuse material.",
    )
    hash_feedback_add(
        provider=provider.provider,
        entry_id=confirmed.pk,
        verdict=HashFeedback.Verdict.CONFIRMED,
        reason="",
    )
    staff_signs_in(page, live_server, "ana", "analyst")

    visit(page, f"{live_server.url}/admin/intake/knownhash/")
    page.locator("#changelist-filter a[href='?disputed=yes']").click()
    page.wait_for_url("**/admin/intake/knownhash/?disputed=yes")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    assert disputed.value in rows.first.inner_text()
    rows.first.locator("th a").click()
    page.wait_for_url(f"**/admin/intake/knownhash/{disputed.pk}/change/**")
    page.wait_for_load_state("networkidle")

    content = page.locator("#content").inner_text()
    for text in (
        "A stock photograph of a beach, not abuse material.",
        "Example Chat",
        "Disputed",
        "Series seen before",
        "sam",
    ):
        assert text in content, text
    screenshot(page, "admin-known-hash-feedback")
    assert violations == []


def test_a_supervisor_withdraws_a_disputed_entry_and_providers_see_it_inactive(
    live_server: Any,
    reference_data: None,
    page: Any,
    violations: list[str],  # noqa: F811
    provider: ProviderCredentials,
) -> None:
    report = a_provider_report(provider, ip=IP_BY_COUNTRY["DE"], screen_name="Loud-Bear")
    sam = staff_signs_in(page, live_server, "sam", "supervisor")
    disputed, kept = report_files_confirm_known(
        report=report, label="Series seen before", user=sam
    ).entries
    hash_feedback_add(
        provider=provider.provider,
        entry_id=disputed.pk,
        verdict=HashFeedback.Verdict.DISPUTED,
        reason="A stock photograph of a beach, not abuse material.",
    )
    provider.provider.hash_sharing_agreement = True
    provider.provider.save(update_fields=["hash_sharing_agreement"])
    synced = api_client_for(provider).get("/api/v1/hashes").json()

    visit(page, f"{live_server.url}/admin/intake/knownhash/?disputed=yes")
    page.locator("#result_list tbody tr input.action-select").check()
    page.select_option("select[name=action]", "withdraw_entries")
    page.locator("button[name=index]").click()
    page.wait_for_load_state("networkidle")
    page.fill("textarea[name=reason]", "Disputed by Example Chat: a stock photograph.")
    screenshot(page, "admin-known-hash-withdraw")
    page.locator("input[name=apply]").click()
    page.wait_for_url("**/admin/intake/knownhash/?disputed=yes")

    expect(page.locator(".messagelist")).to_contain_text("Withdraw from the list: 1 entries.")
    expect(page.locator("#result_list tbody tr td.field-is_active img")).to_have_attribute(
        "alt", "False"
    )
    assert violations == []
    changes = api_client_for(provider).get("/api/v1/hashes", {"since": synced["nextCursor"]})
    assert [(entry["id"], entry["active"]) for entry in changes.json()["entries"]] == [
        (disputed.pk, False)
    ]
    assert KnownHash.objects.get(pk=kept.pk).is_active
    withdrawal = AuditEntry.objects.get(object_id=str(disputed.pk), action="action")
    assert (withdrawal.username, withdrawal.detail["action"]) == ("sam", "withdraw")


def test_a_supervisor_records_the_hash_sharing_agreement(
    live_server: Any,
    reference_data: None,
    browser: Any,
    page: Any,
    violations: list[str],  # noqa: F811
    provider: ProviderCredentials,
) -> None:
    change_url = f"{live_server.url}/admin/intake/provider/{provider.provider.pk}/change/"
    staff_signs_in(page, live_server, "sam", "supervisor")

    visit(page, f"{live_server.url}/admin/intake/provider/")
    page.locator("#result_list").get_by_role("link", name="Example Chat").click()
    page.wait_for_url(f"**/admin/intake/provider/{provider.provider.pk}/change/")
    # A supervisor changes a provider for its agreement only.
    assert page.locator("input[name=name]").count() == 0
    assert page.locator("input[name=is_active]").count() == 0
    agreement = page.get_by_label("Hash sharing agreement")
    expect(agreement).not_to_be_checked()
    agreement.check()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/intake/provider/")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(
        page.locator("#result_list td.field-hash_sharing_agreement img[alt=True]")
    ).to_have_count(1)

    visit(page, change_url)
    expect(page.get_by_label("Hash sharing agreement")).to_be_checked()
    signed = Provider.objects.get(pk=provider.provider.pk)
    assert signed.hash_sharing_agreement
    assert signed.hash_sharing_agreed_at is not None
    assert signed.name == "Example Chat"
    expect(page.locator("#content")).to_contain_text("Hash sharing agreed at")
    screenshot(page, "admin-provider-agreement")
    assert violations == []

    # An analyst sees the agreement, and may not change it.
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    analyst_page = context.new_page()
    try:
        staff_signs_in(analyst_page, live_server, "ana", "analyst")
        response = analyst_page.goto(change_url)
        assert response.status == 200
        assert analyst_page.locator("input[name=hash_sharing_agreement]").count() == 0
        assert analyst_page.locator("input[type=submit][name=_save]").count() == 0
        expect(analyst_page.locator(".field-hash_sharing_agreement")).to_contain_text(
            "Hash sharing agreement"
        )
    finally:
        context.close()
    assert Provider.objects.get(pk=provider.provider.pk).hash_sharing_agreement


def test_the_staff_figures_count_the_notices_to_providers(
    live_server: Any,
    reference_data: None,
    page: Any,
    violations: list[str],  # noqa: F811
    provider: ProviderCredentials,
    other_provider: ProviderCredentials,
) -> None:
    report = a_provider_report(provider, ip=IP_BY_COUNTRY["DE"], screen_name="Loud-Bear")

    def send(to: ProviderCredentials) -> Notice:
        return notice_send(
            report=report,
            provider=to.provider,
            notice_type=Notice.Type.TAKEDOWN,
            requested_action=Notice.RequestedAction.REMOVAL,
            targets=["https://chat.example/m/1001"],
            reason="Synthetic notice for the figures.",
            by_user=None,
        )

    answered, overdue, _open = send(provider), send(provider), send(provider)
    send(other_provider)
    notice_answer(provider=provider.provider, notice_id=answered.pk, answer="removed")
    # Answered ten hours after it was sent; the other one is past its deadline now.
    Notice.objects.filter(pk=answered.pk).update(sent_at=F("answered_at") - timedelta(hours=10))
    Notice.objects.filter(pk=overdue.pk).update(deadline_at=timezone.now() - timedelta(hours=1))
    ensure_staff_roles()
    credentials = staff_user_create(username="ana", role="analyst")

    visit(page, f"{live_server.url}/stats/")
    admin_log_in(page, "ana", credentials.password)
    page.wait_for_load_state("networkidle")

    section = page.locator("section#notices")
    expect(section.get_by_role("heading", name="Notices to providers")).to_be_visible()
    headers = [text.strip() for text in section.locator("thead th").all_text_contents()]
    assert headers == [
        "Provider",
        "Sent",
        "Answered",
        "Median hours to answer",
        "90th percentile hours",
        "Open past deadline",
    ]
    rows = section.locator("tbody tr")
    expect(rows).to_have_count(2)
    cells = [row.locator("th, td").all_inner_texts() for row in rows.all()]
    assert cells == [
        ["Example Chat", "3", "1", "10.0", "10.0", "1"],
        ["Example Photos", "1", "0", "", "", "0"],
    ]
    section.scroll_into_view_if_needed()
    screenshot(page, "stats-notices")
    assert violations == []


def test_an_analyst_filters_the_disputed_notices_and_opens_one(
    live_server: Any,
    reference_data: None,
    page: Any,
    violations: list[str],  # noqa: F811
    provider: ProviderCredentials,
    other_provider: ProviderCredentials,
) -> None:
    report = a_provider_report(provider, ip=IP_BY_COUNTRY["DE"], screen_name="Loud-Bear")

    def send(to: ProviderCredentials) -> Notice:
        return notice_send(
            report=report,
            provider=to.provider,
            notice_type=Notice.Type.ACCOUNT,
            requested_action=Notice.RequestedAction.ACCOUNT_ACTION,
            targets=["https://chat.example/u/loud-bear"],
            reason="Synthetic notice: the account enticed a child.",
            by_user=None,
        )

    disputed, removed, _open = send(provider), send(provider), send(other_provider)
    notice_answer(
        provider=provider.provider,
        notice_id=disputed.pk,
        answer="disputed",
        reason="The account was closed before the notice; nothing to act on.",
    )
    notice_answer(provider=provider.provider, notice_id=removed.pk, answer="removed")
    staff_signs_in(page, live_server, "ana", "analyst")

    visit(page, f"{live_server.url}/admin/routing/notice/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    page.locator("#changelist-filter a[href='?answer__exact=disputed']").click()
    page.wait_for_url("**/admin/routing/notice/?answer__exact=disputed")
    page.wait_for_load_state("networkidle")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    assert "Disputed" in rows.first.inner_text()
    assert "Example Chat" in rows.first.inner_text()
    rows.first.locator("th a").click()
    page.wait_for_url(f"**/admin/routing/notice/{disputed.pk}/change/**")
    page.wait_for_load_state("networkidle")

    content = page.locator("#content")
    expect(content).to_contain_text("The account was closed before the notice; nothing to act on.")
    expect(content.get_by_role("link", name=f"Report {report.pk}")).to_have_attribute(
        "href", f"/admin/intake/report/{report.pk}/change/"
    )
    events = page.locator(".inline-group tbody tr:has(td.field-kind)")
    expect(events).to_have_count(2)
    assert [text.strip() for text in events.locator("td.field-kind").all_inner_texts()] == [
        "Sent",
        "Answered",
    ]
    expect(events.nth(1)).to_contain_text("Example Chat")
    assert page.get_by_role("button", name="Save", exact=True).count() == 0
    screenshot(page, "admin-notices-disputed")
    assert violations == []
