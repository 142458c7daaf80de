"""Routing and delivery in batches: what a bulk submission's backlog goes through. A batch
gives each report what routing it alone would, in a number of statements that does not
grow with the batch."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake.models import HashSighting, Report, ReportedFile
from routing import services
from routing.delivery import referrals_deliver
from routing.models import Referral, ReferralEvent
from routing.services import report_route, reports_route
from routing.tasks import enqueue_routing, route_report, route_reports
from tests.conftest import require, run_concurrently, uses_postgresql
from tests.factories import IP_BY_COUNTRY, IpCaptureEventFactory, ReportedFileFactory, ReportFactory
from tests.routing.test_delivery import Simulator, start_simulator, webhook_agency

pytestmark = pytest.mark.django_db


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    yield from start_simulator()


def finished_reports(count: int, country: str = "GB", *, files: int = 2) -> list[Report]:
    reports = []
    for _ in range(count):
        report = ReportFactory.create(finished=True)
        IpCaptureEventFactory.create(report=report, ip_address=IP_BY_COUNTRY[country])
        ReportedFileFactory.create_batch(files, report=report)
        reports.append(report)
    return reports


def routing_of(report: Report) -> tuple[Any, ...]:
    report.refresh_from_db()
    referral = Referral.objects.select_related("agency").get(report=report)
    files = list(
        ReportedFile.objects.filter(report=report)
        .order_by("pk")
        .values_list("known_hash", "match_distance", "times_seen_before")
    )
    return (
        report.resolved_country,
        report.country_confidence,
        report.location,
        report.content_status,
        report.priority,
        report.priority_reasons,
        referral.agency.code,
        referral.status,
        files,
    )


def test_a_batch_routes_each_report_as_routing_it_alone_would(reference_data: None) -> None:
    countries = ["GB", "PK", "US", "DE", "AF"]
    alone = [finished_reports(1, country)[0] for country in countries]
    together = [finished_reports(1, country)[0] for country in countries]

    for report in alone:
        report_route(report_id=report.pk)
    referrals = reports_route(report_ids=[report.pk for report in together])

    assert len(referrals) == len(together)
    assert [routing_of(report) for report in together] == [routing_of(report) for report in alone]
    assert [routing_of(report)[6] for report in together] == [
        "direct-gb",
        "attache-pk",
        "domestic-us",
        "direct-de",
        "interpol-af",
    ]


def test_a_batch_counts_a_file_reported_twice_in_it_in_report_order(reference_data: None) -> None:
    reports = finished_reports(3, files=0)
    for report in reports:
        ReportedFileFactory.create(report=report, md5="ab" * 16, sha256="")

    reports_route(report_ids=[report.pk for report in reversed(reports)])

    seen = [ReportedFile.objects.get(report=report).times_seen_before for report in reports]
    assert seen == [0, 1, 2]
    assert HashSighting.objects.get(file_hash="md5:" + "ab" * 16).times_seen == 3


def test_a_batch_leaves_routed_and_unfinished_reports_alone(reference_data: None) -> None:
    routed, waiting = finished_reports(2)
    report_route(report_id=routed.pk)
    open_report = ReportFactory.create()

    referrals = reports_route(report_ids=[routed.pk, waiting.pk, open_report.pk])

    assert [referral.report_id for referral in referrals] == [waiting.pk]
    assert Referral.objects.filter(report=routed).count() == 1
    assert not Referral.objects.filter(report=open_report).exists()


def test_routing_a_batch_takes_as_many_statements_for_many_reports_as_for_few(
    reference_data: None,
) -> None:
    def statements_to_route(count: int) -> int:
        reports = finished_reports(count)
        with CaptureQueriesContext(connection) as queries:
            reports_route(report_ids=[report.pk for report in reports])
        assert Referral.objects.filter(report__in=reports).count() == count
        return len(queries)

    statements_to_route(1)  # loads the routing table and the known-hash list once
    few, many = statements_to_route(3), statements_to_route(30)

    assert many == few


def test_delivering_a_batch_reads_it_once_and_records_each_post_as_it_is_made(
    reference_data: None, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook_agency("direct-gb", simulator)
    monkeypatch.setattr("routing.services.enqueue_deliveries", lambda *args, **kwargs: None)

    def statements_to_deliver(count: int) -> int:
        referrals = reports_route(report_ids=[r.pk for r in finished_reports(count)])
        with CaptureQueriesContext(connection) as queries:
            outcomes = referrals_deliver(referral_ids=[referral.pk for referral in referrals])
        assert all(outcome.delivered for outcome in outcomes.values())
        return len(queries)

    statements_to_deliver(1)
    one, three, thirty = (
        statements_to_deliver(1),
        statements_to_deliver(3),
        statements_to_deliver(30),
    )

    # The claim and the reads are the same for any batch; each POST's outcome is recorded
    # at once, in a transaction of its own (lock, update, event).
    each = (three - one) / 2
    assert thirty == one + 29 * each
    assert each <= 5
    assert simulator.state.counts["accepted"] == 35
    assert simulator.state.counts["duplicates"] == 0


def test_a_batch_that_runs_out_of_time_hands_the_rest_back_unposted(
    reference_data: None, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook_agency("direct-gb", simulator)
    monkeypatch.setattr("routing.services.enqueue_deliveries", lambda *args, **kwargs: None)
    referrals = reports_route(report_ids=[r.pk for r in finished_reports(3)])
    monkeypatch.setattr("routing.delivery.BATCH_SECONDS", -1)

    outcomes = referrals_deliver(referral_ids=[referral.pk for referral in referrals])

    assert all(not o.attempted and o.retry_in == 0 for o in outcomes.values())
    assert simulator.state.counts["accepted"] == 0
    for referral in referrals:
        referral.refresh_from_db()
        assert (referral.status, referral.claimed_until, referral.attempts) == ("pending", None, 0)


def test_a_report_that_cannot_be_routed_does_not_hold_back_its_batch(
    reference_data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    poison, fine = finished_reports(2)
    real_location = services.report_location

    def location(report: Report) -> Any:
        if report.pk == poison.pk:
            raise ValueError("cannot be located")
        return real_location(report)

    monkeypatch.setattr(services, "report_location", location)

    with pytest.raises(ValueError, match="cannot be located"):
        route_reports([poison.pk, fine.pk])

    assert Referral.objects.filter(report=fine).count() == 1
    assert not Referral.objects.filter(report=poison).exists()


def test_a_single_message_leaves_urgent_and_old_waiting_reports_alone(
    reference_data: None, settings: Any
) -> None:
    settings.ROUTING_SWEEP_GRACE_SECONDS = 60
    urgent, old, recent = finished_reports(3, files=1)
    Report.objects.filter(pk=urgent.pk).update(provisional_priority="1")
    Report.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(minutes=5))
    report = finished_reports(1, files=1)[0]

    route_report(report.pk, True)

    assert set(Referral.objects.values_list("report_id", flat=True)) == {report.pk, recent.pk}


def test_a_batch_delivers_each_referral_once_and_leaves_the_rest_alone(
    reference_data: None, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook_agency("direct-gb", simulator)
    monkeypatch.setattr("routing.services.enqueue_deliveries", lambda *args, **kwargs: None)
    first, second, third = reports_route(report_ids=[r.pk for r in finished_reports(3)])
    referrals_deliver(referral_ids=[first.pk])

    outcomes = referrals_deliver(referral_ids=[first.pk, second.pk, third.pk, 10**9])

    assert not outcomes[first.pk].attempted
    assert not outcomes[10**9].attempted
    assert outcomes[second.pk].delivered
    assert outcomes[third.pk].delivered
    assert simulator.received()["received"] == {
        str(first.pk): 1,
        str(second.pk): 1,
        str(third.pk): 1,
    }
    delivered = ReferralEvent.objects.filter(kind=ReferralEvent.Kind.DELIVERED)
    assert sorted(delivered.values_list("referral_id", flat=True)) == [
        first.pk,
        second.pk,
        third.pk,
    ]
    assert all(event.duration_ms is not None for event in delivered)


@pytest.mark.django_db(transaction=True)
def test_two_workers_routing_overlapping_batches_refer_each_report_once(
    reference_data: None,
) -> None:
    require(uses_postgresql(), "row locks need PostgreSQL (set DATABASE_URL)")
    reports = finished_reports(20, files=1)
    for report in reports:  # every report has the same file: one sighting row for all
        ReportedFile.objects.filter(report=report).update(md5="cd" * 16, sha256="")
    ids = [report.pk for report in reports]

    run_concurrently(lambda: reports_route(report_ids=ids[::-1]), threads=2)
    run_concurrently(lambda: reports_route(report_ids=ids), threads=2)

    assert Referral.objects.filter(report__in=reports).count() == 20
    assert HashSighting.objects.get(file_hash="md5:" + "cd" * 16).times_seen == 20
    seen = ReportedFile.objects.order_by("times_seen_before").values_list(
        "times_seen_before", flat=True
    )
    assert list(seen) == list(range(20))


def test_a_bulk_submission_is_routed_and_delivered_in_batches(
    reference_data: None, simulator: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    webhook_agency("direct-gb", simulator)
    reports = finished_reports(150)

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_routing([report.pk for report in reports])

    assert Referral.objects.filter(status=Referral.Status.DELIVERED).count() == 150
    assert simulator.state.counts["accepted"] == 150


def test_a_single_message_takes_the_reports_waiting_behind_it_up_to_a_batch(
    reference_data: None,
) -> None:
    waiting = finished_reports(3, files=1)
    report = finished_reports(1, files=1)[0]

    route_report(report.pk, True)

    assert Referral.objects.filter(report__in=[*waiting, report]).count() == 4
    # Each waiting report's own message then finds it routed, and changes nothing.
    for other in waiting:
        route_report(other.pk, True)
    assert Referral.objects.count() == 4


def test_a_priority_one_message_routes_its_report_alone(reference_data: None) -> None:
    waiting = finished_reports(3, files=1)
    report = finished_reports(1, files=1)[0]

    enqueue_routing([report.pk], urgent=True)

    assert Referral.objects.filter(report=report).count() == 1
    assert not Referral.objects.filter(report__in=waiting).exists()
