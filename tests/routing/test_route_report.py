import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from intake.models import Report
from routing.models import Agency, Channel, Referral
from routing.services import report_route
from routing.tasks import enqueue_unrouted_reports, route_report
from tests.conftest import require, run_concurrently, uses_postgresql
from tests.factories import IP_BY_COUNTRY, IpCaptureEventFactory, ReportFactory

pytestmark = pytest.mark.django_db


def finished_report(*ips: str, stated_country: str = "") -> Report:
    """A finished provider-style report with these IPs and, optionally, the provider's
    estimate of the reported person's country."""
    document = (
        {"personOrUserReported": [{"estimatedLocation": {"countryCode": stated_country}}]}
        if stated_country
        else {}
    )
    report = ReportFactory.create(finished=True, document=document, stated_country=stated_country)
    for ip in ips:
        IpCaptureEventFactory.create(report=report, ip_address=ip)
    return report


@pytest.mark.parametrize(
    ("country", "agency_code", "channel"),
    [
        ("GB", "direct-gb", Channel.DIRECT),
        ("PK", "attache-pk", Channel.ATTACHE),
        ("AF", "interpol-af", Channel.INTERPOL),
        ("US", "domestic-us", Channel.DOMESTIC),
    ],
)
def test_report_is_referred_to_the_agency_of_its_ip_country(
    reference_data: None, country: str, agency_code: str, channel: str
) -> None:
    report = finished_report(IP_BY_COUNTRY[country])

    route_report(report.pk)

    referral = Referral.objects.select_related("agency").get(report=report)
    assert (referral.agency.code, referral.agency.channel) == (agency_code, channel)
    assert referral.status == Referral.Status.DELIVERED
    assert referral.delivered_at is not None
    report.refresh_from_db()
    assert report.resolved_country == country
    assert report.routed_at is not None


def test_the_country_most_ips_resolve_to_wins(reference_data: None) -> None:
    report = finished_report(IP_BY_COUNTRY["GB"], IP_BY_COUNTRY["DE"], "5.9.0.2")

    referral = report_route(report_id=report.pk)

    assert referral is not None
    assert referral.agency.code == "direct-de"
    report.refresh_from_db()
    assert report.country_confidence == "medium"
    assert report.location["candidates"] == [{"country": "GB", "weight": 1.0}]


def test_evenly_conflicting_evidence_goes_to_analysts_with_both_candidates(
    reference_data: None,
) -> None:
    report = finished_report(IP_BY_COUNTRY["GB"], IP_BY_COUNTRY["DE"])

    referral = report_route(report_id=report.pk)

    assert referral is not None
    assert referral.agency.code == Agency.ANALYST_QUEUE_CODE
    report.refresh_from_db()
    assert (report.resolved_country, report.country_confidence) == ("GB", "low")
    assert report.location["candidates"] == [{"country": "DE", "weight": 1.0}]


def test_private_and_documentation_addresses_are_ignored_for_the_stated_country(
    reference_data: None,
) -> None:
    report = finished_report(
        "10.1.2.3", "192.0.2.10", "2001:db8::1", "127.0.0.1", stated_country="BR"
    )

    referral = report_route(report_id=report.pk)

    assert referral is not None
    assert referral.agency.code == "direct-br"


def test_report_with_no_country_goes_to_the_analyst_queue(reference_data: None) -> None:
    report = finished_report("192.168.1.1")

    referral = report_route(report_id=report.pk)

    assert referral is not None
    assert referral.agency.code == Agency.ANALYST_QUEUE_CODE
    report.refresh_from_db()
    assert report.resolved_country == ""


def test_a_country_whose_agency_is_inactive_goes_to_the_analyst_queue(
    reference_data: None,
) -> None:
    Agency.objects.filter(code="direct-gb").update(is_active=False)
    report = finished_report(IP_BY_COUNTRY["GB"])

    referral = report_route(report_id=report.pk)

    assert referral is not None
    assert referral.agency.code == Agency.ANALYST_QUEUE_CODE


def test_routing_a_report_twice_refers_it_once(reference_data: None) -> None:
    report = finished_report(IP_BY_COUNTRY["GB"])

    first = report_route(report_id=report.pk)
    route_report(report.pk)
    second = report_route(report_id=report.pk)

    assert first is not None
    assert second is not None
    assert first.pk == second.pk
    assert Referral.objects.filter(report=report).count() == 1


@pytest.mark.parametrize("status", [Report.Status.OPEN, Report.Status.RETRACTED])
def test_a_report_that_is_not_finished_is_not_routed(reference_data: None, status: str) -> None:
    report = ReportFactory.create(status=status)
    IpCaptureEventFactory.create(report=report)

    assert report_route(report_id=report.pk) is None
    assert not Referral.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_routing_the_same_report_at_once_refer_it_once(reference_data: None) -> None:
    require(uses_postgresql(), "row locks need PostgreSQL (set DATABASE_URL)")
    reports = [finished_report(IP_BY_COUNTRY["GB"]) for _ in range(10)]

    def route_all() -> None:
        for report in reports:
            report_route(report_id=report.pk)

    run_concurrently(route_all, threads=2)

    for report in reports:
        assert Referral.objects.filter(report=report).count() == 1


def test_the_sweep_routes_finished_reports_whose_message_was_lost(
    reference_data: None, settings: Any
) -> None:
    settings.ROUTING_SWEEP_GRACE_SECONDS = 60
    lost = finished_report(IP_BY_COUNTRY["GB"])
    Report.objects.filter(pk=lost.pk).update(finished_at=timezone.now() - dt.timedelta(minutes=5))
    just_finished = finished_report(IP_BY_COUNTRY["DE"])

    swept = enqueue_unrouted_reports()

    assert swept == 1
    assert Referral.objects.filter(report=lost).count() == 1
    assert not Referral.objects.filter(report=just_finished).exists()
