"""The triage panel through the admin's HTTP interface: the list, its filters and search,
a report's page, and each triage action with its reason and audit entry."""

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from intake.models import AuditEntry, Bundle, Report
from intake.services import report_open
from routing.models import Agency, Referral
from routing.services import report_route
from tests.conftest import ProviderCredentials, signed_in_staff
from tests.factories import IP_BY_COUNTRY, IpCaptureEventFactory, ReportedFileFactory, ReportFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/intake/report/"


def listed(page: Any) -> list[int]:
    """Report numbers in the order the list shows them."""
    html = page.content.decode()
    return [int(n) for n in re.findall(r'href="/admin/intake/report/(\d+)/change/', html)]


def routed(country: str, **fields: Any) -> Report:
    report = ReportFactory.create(finished=True, **fields)
    IpCaptureEventFactory.create(report=report, ip_address=IP_BY_COUNTRY[country])
    report_route(report_id=report.pk)
    return Report.objects.get(pk=report.pk)


@pytest.fixture
def analyst(client: Client, reference_data: None) -> Client:
    return signed_in_staff(client, "analyst", username="ana")


@pytest.fixture
def supervisor(client: Client, reference_data: None) -> Client:
    return signed_in_staff(client, "supervisor", username="sam")


def test_the_list_puts_the_newest_priority_1_first(analyst: Client) -> None:
    now = timezone.now()
    older_urgent = routed("DE", received_at=now)
    low = routed("DE")
    newer_urgent = routed("DE")
    for report, priority, hours_ago in (
        (older_urgent, "1", 2),
        (newer_urgent, "1", 1),
        (low, "3", 0),
    ):
        Report.objects.filter(pk=report.pk).update(
            priority=priority, received_at=now - dt.timedelta(hours=hours_ago)
        )

    page = analyst.get(LIST)

    assert page.status_code == 200
    assert listed(page) == [newer_urgent.pk, older_urgent.pk, low.pk]
    html = page.content.decode()
    start = html.index('<table id="result_list"')
    table = html[start : html.index("</thead>", start)]
    headers = re.findall(r'<div class="text">(?:<a[^>]*>|<span>)([^<]+)<', table)
    assert headers == [
        "ID",
        "Received at",
        "Source",
        "Incident type",
        "Country",
        "Priority",
        "Content status",
        "Bundle",
        "Status",
        "Reviewed",
    ]
    assert "DE (high)" in html


def test_the_triage_view_shows_what_waits_for_staff(analyst: Client) -> None:
    unknown = ReportFactory.create(finished=True)
    report_route(report_id=unknown.pk)  # no evidence: the analyst queue
    located = routed("DE")
    urgent = routed("GB")
    Report.objects.filter(pk=urgent.pk).update(priority="1")
    acknowledged_urgent = routed("KE")
    Report.objects.filter(pk=acknowledged_urgent.pk).update(priority="1")
    Referral.objects.filter(report=acknowledged_urgent).update(
        status=Referral.Status.ACKNOWLEDGED, acknowledged_at=timezone.now()
    )
    dead = routed("BR")
    Referral.objects.filter(report=dead).update(status=Referral.Status.DEAD_LETTERED)

    assert listed(analyst.get(LIST, {"waiting": "location"})) == [unknown.pk]
    assert listed(analyst.get(LIST, {"waiting": "dead_lettered"})) == [dead.pk]
    assert listed(analyst.get(LIST, {"waiting": "p1_unacknowledged"})) == [urgent.pk]
    assert located.pk not in listed(analyst.get(LIST, {"waiting": "location"}))


def test_filters_on_bundle_and_review(analyst: Client) -> None:
    bundle = Bundle.objects.create(
        content_key="md5:" + "a" * 32, country="DE", day=dt.date(2026, 1, 1)
    )
    bundled = routed("DE")
    Report.objects.filter(pk=bundled.pk).update(bundle=bundle)
    reviewed = routed("DE", reviewed_at=timezone.now(), reviewed_by="ana")
    plain = routed("DE")

    assert listed(analyst.get(LIST, {"bundled": "yes"})) == [bundled.pk]
    assert listed(analyst.get(LIST, {"reviewed": "yes"})) == [reviewed.pk]
    assert set(listed(analyst.get(LIST, {"reviewed": "no"}))) == {bundled.pk, plain.pk}


def test_search_finds_a_report_by_each_identifier(
    analyst: Client, provider: ProviderCredentials
) -> None:
    document = {
        "incidentSummary": {
            "incidentType": "Child Sex Trafficking",
            "incidentDateTime": "2026-01-02T03:04:05Z",
        },
        "internetDetails": [{"webPageIncident": {"url": ["https://example.com/Listing/42"]}}],
        "personOrUserReported": [
            {
                "screenName": "Night-Owl-17",
                "personOrUserReportedPerson": {
                    "email": [{"value": "owl@example.com"}],
                    "phone": [{"value": "+44 20 7946 0000"}],
                },
                "ipCaptureEvent": [{"ipAddress": IP_BY_COUNTRY["GB"]}],
            }
        ],
    }
    report = report_open(document=document, provider=provider.provider)
    file = ReportedFileFactory.create(report=report)
    other = ReportFactory.create(finished=True)

    for term in (
        str(report.pk),
        "night-owl-17",
        "OWL@example.com",
        "+44 20 7946 0000",
        "https://example.com/listing/42",
        IP_BY_COUNTRY["GB"],
        file.md5,
        file.sha256,
    ):
        assert listed(analyst.get(LIST, {"q": term})) == [report.pk], term
    assert listed(analyst.get(LIST, {"q": "nobody@example.com"})) == []
    assert other.pk not in listed(analyst.get(LIST, {"q": str(report.pk)}))


def test_a_report_page_shows_every_section_and_no_media(analyst: Client) -> None:
    report = routed("DE", description="A description in words.")
    ReportedFileFactory.create(report=report, times_seen_before=3)

    page = analyst.get(f"/admin/intake/report/{report.pk}/change/")

    html = page.content.decode()
    for section in (
        "Times",
        "Reporter",
        "Where it resolves",
        "Priority",
        "Content",
        "Referrals and every delivery attempt",
        "The report as submitted, by section",
        "Audit trail",
    ):
        assert f">{section}</h2>" in html, section
    assert "Germany national police (simulated)" in html
    assert IP_BY_COUNTRY["DE"] in html
    history = html[html.index('<table class="referral-history">') :]
    history = history[: history.index("</table>")]
    steps = re.findall(r"<tr><td>direct-de \(delivered\)</td><td>(\w+)</td>", history)
    assert steps == ["created", "delivered"]
    assert "Times seen before" in html
    # No media: the only images are the admin's own icons; nothing inline.
    images = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert all(src.startswith("/static/admin/") for src in images), images
    assert "<video" not in html
    assert "data:image" not in html
    # Read-only: nothing to save; triage through the actions.
    assert 'name="_save"' not in html
    assert f"/admin/intake/report/{report.pk}/triage/mark_reviewed/" in html
    assert f"/admin/intake/report/{report.pk}/triage/route/" not in html  # a supervisor's


def triage(client: Client, report: Report, action: str, **data: Any) -> Any:
    return client.post(f"/admin/intake/report/{report.pk}/triage/{action}/", data)


def audit_of(report: Report) -> AuditEntry:
    return AuditEntry.objects.filter(object_id=str(report.pk), action="action").latest("pk")


def test_changing_priority_needs_a_reason_and_is_audited(analyst: Client) -> None:
    report = routed("DE")
    before = report.priority

    refused = triage(analyst, report, "set_priority", priority="1", reason="  ")
    assert refused.status_code == 200  # the form again
    assert Report.objects.get(pk=report.pk).priority == before

    done = triage(analyst, report, "set_priority", priority="1", reason="A child is named.")

    assert done.status_code == 302
    report.refresh_from_db()
    assert report.priority == "1"
    entry = audit_of(report)
    assert (entry.username, entry.detail) == (
        "ana",
        {"action": "set_priority", "reason": "A child is named.", "from": before, "to": "1"},
    )


def test_marking_reviewed_is_audited(analyst: Client) -> None:
    report = routed("DE")

    triage(analyst, report, "mark_reviewed", reason="Checked the evidence.")

    report.refresh_from_db()
    assert report.reviewed_by == "ana"
    assert report.reviewed_at is not None
    assert audit_of(report).detail == {"action": "mark_reviewed", "reason": "Checked the evidence."}


def test_a_supervisor_routes_a_report_from_the_analyst_queue(supervisor: Client) -> None:
    report = ReportFactory.create(finished=True)
    report_route(report_id=report.pk)
    austria = Agency.objects.get(code="direct-at")

    triage(supervisor, report, "route", agency=austria.pk, reason="The chat names Vienna.")

    referrals = list(Referral.objects.filter(report=report).order_by("created_at", "pk"))
    assert [(r.agency.code, r.status) for r in referrals] == [
        (Agency.ANALYST_QUEUE_CODE, "re_referred"),
        ("direct-at", "delivered"),
    ]
    assert audit_of(report).detail["to"] == "direct-at"


def test_bundle_and_unbundle_keep_the_counts(analyst: Client) -> None:
    report = routed("DE")
    bundle = Bundle.objects.create(
        content_key="md5:" + "b" * 32, country="DE", day=dt.date(2026, 1, 1)
    )

    missing = triage(analyst, report, "bundle", bundle=bundle.pk + 1000, reason="Same item.")
    assert "There is no bundle with this number." in missing.content.decode()
    triage(analyst, report, "bundle", bundle=bundle.pk, reason="Same item.")
    bundle.refresh_from_db()
    assert (Report.objects.get(pk=report.pk).bundle_id, bundle.report_count) == (bundle.pk, 1)

    triage(analyst, report, "unbundle", reason="A different item after all.")

    bundle.refresh_from_db()
    assert (Report.objects.get(pk=report.pk).bundle_id, bundle.report_count) == (None, 0)
    assert audit_of(report).detail == {
        "action": "unbundle",
        "reason": "A different item after all.",
        "from": bundle.pk,
    }


def test_a_supervisor_retracts_a_provider_report_at_its_request(
    supervisor: Client, provider: ProviderCredentials
) -> None:
    report = routed("DE", source=Report.Source.PROVIDER, provider=provider.provider)
    public = routed("DE")

    triage(supervisor, report, "retract", reason="The provider reported the wrong account.")
    refused = triage(supervisor, public, "retract", reason="No.")

    assert Report.objects.get(pk=report.pk).status == "retracted"
    assert Report.objects.get(pk=public.pk).status == "finished"
    assert "Only a provider" in refused.content.decode()
    assert audit_of(report).detail["action"] == "retract"


@pytest.mark.parametrize("action", ["route", "retract"])
def test_an_analyst_cannot_route_or_retract(analyst: Client, action: str) -> None:
    report = routed("DE")

    page = triage(analyst, report, action, agency=1, reason="Trying.")

    assert page.status_code == 403
    assert Report.objects.get(pk=report.pk).status == "finished"
    assert not AuditEntry.objects.filter(action="action").exists()


def test_an_auditor_cannot_triage(client: Client, reference_data: None) -> None:
    signed_in_staff(client, "auditor")
    report = routed("DE")

    assert triage(client, report, "mark_reviewed", reason="x").status_code == 403


def test_bulk_mark_reviewed_on_the_list(analyst: Client) -> None:
    first, second, untouched = routed("DE"), routed("DE"), routed("DE")
    selected = [first.pk, second.pk]

    form = analyst.post(LIST, {"action": "bulk_mark_reviewed", "_selected_action": selected})
    assert "Mark reviewed for these reports" in form.content.decode()
    analyst.post(
        LIST,
        {
            "action": "bulk_mark_reviewed",
            "_selected_action": selected,
            "apply": "1",
            "reason": "Same account, checked together.",
        },
    )

    reviewed = set(Report.objects.filter(reviewed_at__isnull=False).values_list("pk", flat=True))
    assert reviewed == set(selected)
    assert untouched.pk not in reviewed
    assert AuditEntry.objects.filter(action="action").count() == 2
