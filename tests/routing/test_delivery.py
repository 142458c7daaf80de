"""Delivery of referrals to webhook agencies, against the simulated agency served over
loopback in this process; and the referral's life after it: acknowledgement,
re-referral, dead letters."""

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from config.errors import ApplicationError
from intake.models import Report
from intake.selectors import report_triage_record
from routing.delivery import due_delivery_ids, referral_deliver, retry_delay
from routing.models import Agency, DeliveryMode, Referral, ReferralEvent
from routing.services import (
    agency_webhook_configure,
    referral_acknowledge,
    referral_redeliver,
    referral_refer_on,
    report_route,
)
from routing.signing import signature_problem, signed_headers
from routing.simulator import SimulatedAgencies, simulator_server
from tests.conftest import run_concurrently, signed_in_staff
from tests.factories import IP_BY_COUNTRY, IpCaptureEventFactory, ReportFactory

pytestmark = pytest.mark.django_db


class Simulator:
    def __init__(self, state: SimulatedAgencies, url: str) -> None:
        self.state = state
        self.url = url

    def received(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/received").json()


def start_simulator(fail_share: float = 0.0) -> Iterator[Simulator]:
    # The agencies' secrets are given to it: its threads cannot see the test's transaction.
    state = SimulatedAgencies(fail_share=fail_share, seed=7, secrets={})
    server = simulator_server(host="127.0.0.1", port=0, state=state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Simulator(state, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    yield from start_simulator()


@pytest.fixture
def failing_simulator() -> Iterator[Simulator]:
    yield from start_simulator(fail_share=1.0)


@pytest.fixture
def fast_retries(settings: Any) -> Any:
    settings.DELIVERY_RETRY_BASE_SECONDS = 0.01
    settings.DELIVERY_RETRY_MAX_SECONDS = 0.02
    settings.DELIVERY_MAX_ATTEMPTS = 3
    return settings


def webhook_agency(code: str, simulator: Simulator) -> Agency:
    agency = agency_webhook_configure(
        agency=Agency.objects.get(code=code), url=f"{simulator.url}/referrals"
    )
    assert simulator.state.secrets is not None
    simulator.state.secrets[code] = agency.webhook_secret
    return agency


def routed_report(country: str = "GB", **report_fields: Any) -> Referral:
    report = ReportFactory.create(finished=True, **report_fields)
    IpCaptureEventFactory.create(report=report, ip_address=IP_BY_COUNTRY[country])
    referral = report_route(report_id=report.pk)
    assert referral is not None
    return referral


def deliver_until_settled(referral: Referral, *, timeout: float = 10) -> Referral:
    """What workers do: attempt each due delivery until it is delivered or dead-lettered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        referral.refresh_from_db()
        if referral.status != Referral.Status.PENDING:
            return referral
        referral_deliver(referral_id=referral.pk)
    raise AssertionError(f"referral {referral.pk} still pending after {timeout}s")


def test_a_webhook_agency_receives_the_signed_referral_with_the_reports_metadata(
    reference_data: None, simulator: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    webhook_agency("direct-gb", simulator)

    with django_capture_on_commit_callbacks(execute=True):
        referral = routed_report("GB")

    referral.refresh_from_db()
    assert referral.status == Referral.Status.DELIVERED
    assert simulator.received()["received"] == {str(referral.pk): 1}
    record = report_triage_record(report_id=referral.report_id)["referrals"][0]
    assert record["deliveredAt"] == referral.delivered_at.isoformat()  # type: ignore[union-attr]
    assert record["attempts"] == 1
    assert [step["event"] for step in record["history"]] == ["created", "delivered"]
    assert record["history"][1]["httpStatus"] == 200


def test_the_payload_is_the_referral_and_metadata_and_names_no_staff(
    reference_data: None, simulator: Simulator
) -> None:
    from routing.delivery import referral_payload

    referral = routed_report("GB")

    payload = referral_payload(referral)

    assert payload["referralId"] == referral.pk
    assert payload["agency"] == "direct-gb"
    assert payload["report"]["reportId"] == referral.report_id
    assert payload["report"]["country"] == "GB"
    assert "referrals" not in payload["report"]
    assert "priorityOverrides" not in payload["report"]
    json.dumps(payload)  # plain JSON


def test_a_failed_attempt_is_scheduled_again_with_its_error_recorded(
    reference_data: None, failing_simulator: Simulator
) -> None:
    webhook_agency("direct-gb", failing_simulator)
    referral = routed_report("GB")
    before = timezone.now()

    outcome = referral_deliver(referral_id=referral.pk)

    referral.refresh_from_db()
    assert outcome.attempted
    assert not outcome.delivered
    assert outcome.retry_in is not None
    assert outcome.retry_in > 0
    assert referral.status == Referral.Status.PENDING
    assert referral.attempts == 1
    assert referral.next_attempt_at is not None
    assert referral.next_attempt_at > before
    assert referral.last_error.startswith("HTTP 503")
    assert referral.claimed_until is None
    event = referral.events.get(kind=ReferralEvent.Kind.ATTEMPT_FAILED)
    assert event.http_status == 503
    assert event.duration_ms is not None
    # Not due yet: a second call does nothing.
    assert referral_deliver(referral_id=referral.pk).attempted is False


def test_an_unreachable_agency_is_an_attempt_that_failed(
    reference_data: None, fast_retries: Any
) -> None:
    agency_webhook_configure(
        agency=Agency.objects.get(code="direct-gb"), url="http://127.0.0.1:9/referrals"
    )
    referral = routed_report("GB")

    referral_deliver(referral_id=referral.pk)

    referral.refresh_from_db()
    assert referral.attempts == 1
    assert "ConnectError" in referral.last_error


def test_after_the_last_attempt_the_referral_is_dead_lettered_and_staff_can_send_it_again(
    reference_data: None,
    failing_simulator: Simulator,
    fast_retries: Any,
    admin_user: User,
) -> None:
    webhook_agency("direct-gb", failing_simulator)
    referral = routed_report("GB")

    referral = deliver_until_settled(referral)

    assert referral.status == Referral.Status.DEAD_LETTERED
    assert referral.attempts == 3
    assert referral.dead_lettered_at is not None
    assert referral.next_attempt_at is None
    assert failing_simulator.received()["failed"] == 3
    record = report_triage_record(report_id=referral.report_id)["referrals"][0]
    assert record["status"] == "dead_lettered"
    assert record["attempts"] == 3
    assert record["lastError"].startswith("HTTP 503")

    failing_simulator.state.fail_share = 0.0
    referral_redeliver(referral_id=referral.pk, by_user=admin_user)
    referral = deliver_until_settled(referral)

    assert referral.status == Referral.Status.DELIVERED
    assert failing_simulator.received()["received"] == {str(referral.pk): 1}
    kinds = list(referral.events.values_list("kind", flat=True))
    assert kinds == ["created", *["attempt_failed"] * 2, "dead_lettered", "redelivery", "delivered"]
    with pytest.raises(ApplicationError) as refused:
        referral_redeliver(referral_id=referral.pk, by_user=admin_user)
    assert refused.value.code == "not_dead_lettered"


def test_dead_lettered_referrals_are_listed_for_staff(
    reference_data: None,
    failing_simulator: Simulator,
    fast_retries: Any,
    client: Client,
) -> None:
    signed_in_staff(client, "supervisor")
    webhook_agency("direct-gb", failing_simulator)
    dead = deliver_until_settled(routed_report("GB"))
    delivered = routed_report("DE")

    page = client.get("/admin/routing/referral/", {"status__exact": "dead_lettered"})

    assert page.status_code == 200
    listed = {referral.pk for referral in page.context["cl"].result_list}
    assert listed == {dead.pk}
    assert delivered.pk not in listed
    assert "HTTP 503" in page.content.decode()
    detail = client.get(f"/admin/routing/referral/{dead.pk}/change/")
    assert "Dead-lettered" in detail.content.decode()


def test_the_delivered_referral_is_not_sent_again(
    reference_data: None, simulator: Simulator
) -> None:
    webhook_agency("direct-gb", simulator)
    referral = routed_report("GB")

    first = referral_deliver(referral_id=referral.pk)
    again = referral_deliver(referral_id=referral.pk)

    assert first.delivered
    assert not again.attempted
    assert simulator.received()["received"] == {str(referral.pk): 1}


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_referral_at_once_send_it_once(
    reference_data: None, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook_agency("direct-gb", simulator)
    # No delivery as the referral is made: the workers below make it.
    monkeypatch.setattr("routing.services.enqueue_deliveries", lambda *args, **kwargs: None)
    referral = routed_report("GB")

    outcomes = run_concurrently(lambda: referral_deliver(referral_id=referral.pk), threads=4)

    assert sum(outcome.attempted for outcome in outcomes) == 1
    assert simulator.received()["received"] == {str(referral.pk): 1}


def test_a_claim_left_by_a_dead_worker_expires_and_the_sweep_takes_the_referral(
    reference_data: None, simulator: Simulator, settings: Any
) -> None:
    settings.DELIVERY_SWEEP_GRACE_SECONDS = 0
    webhook_agency("direct-gb", simulator)
    referral = routed_report("GB")
    long_ago = timezone.now() - timedelta(minutes=5)
    Referral.objects.filter(pk=referral.pk).update(
        next_attempt_at=long_ago, claimed_until=timezone.now() + timedelta(minutes=1)
    )
    assert due_delivery_ids() == []  # a live claim: another worker is on it

    Referral.objects.filter(pk=referral.pk).update(claimed_until=long_ago)

    assert due_delivery_ids() == [(referral.pk, False)]
    assert referral_deliver(referral_id=referral.pk).delivered


def test_the_sweep_takes_priority_one_first(
    reference_data: None, simulator: Simulator, settings: Any, provider: Any
) -> None:
    settings.DELIVERY_SWEEP_GRACE_SECONDS = 0
    webhook_agency("direct-gb", simulator)
    normal = routed_report("GB")
    urgent = routed_report(
        "GB",
        source=Report.Source.PROVIDER,
        provider=provider.provider,
        escalate_to_high_priority="The child says the meeting is tonight.",
    )
    assert Report.objects.get(pk=urgent.report_id).priority == "1"
    Referral.objects.filter(pk=normal.pk).update(
        next_attempt_at=timezone.now() - timedelta(hours=1)
    )
    Referral.objects.filter(pk=urgent.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=1)
    )

    assert due_delivery_ids() == [(urgent.pk, True), (normal.pk, False)]


def test_retry_delays_double_with_jitter_up_to_the_cap(settings: Any) -> None:
    settings.DELIVERY_RETRY_BASE_SECONDS = 10
    settings.DELIVERY_RETRY_MAX_SECONDS = 3600
    for attempts, bound in [(1, 10), (2, 20), (5, 160), (9, 2560), (10, 3600), (19, 3600)]:
        delays = [retry_delay(attempts) for _ in range(200)]
        assert all(bound / 2 <= delay <= bound for delay in delays), attempts
        assert len(set(delays)) > 1, "no jitter"


def test_the_default_schedule_retries_for_hours(settings: Any) -> None:
    shortest = sum(
        min(
            settings.DELIVERY_RETRY_MAX_SECONDS,
            settings.DELIVERY_RETRY_BASE_SECONDS * 2 ** (attempt - 1),
        )
        / 2
        for attempt in range(1, settings.DELIVERY_MAX_ATTEMPTS)
    )
    assert shortest > 4 * 3600


def test_a_signature_is_refused_for_another_body_another_secret_or_a_stale_time() -> None:
    body = b'{"referralId": 1}'
    headers = signed_headers(secret="s3cret", body=body)

    def problem(secret: str, payload: bytes, stamp: str, signed: str) -> str | None:
        return signature_problem(
            secret=secret, timestamp=stamp, signature_value=signed, body=payload
        )

    stamp, signed = headers["X-Tipline-Timestamp"], headers["X-Tipline-Signature"]
    assert problem("s3cret", body, stamp, signed) is None
    assert problem("s3cret", b'{"referralId": 2}', stamp, signed) is not None
    assert problem("other", body, stamp, signed) is not None
    old = signed_headers(secret="s3cret", body=body, now=time.time() - 3600)
    assert "from now" in str(
        problem("s3cret", body, old["X-Tipline-Timestamp"], old["X-Tipline-Signature"])
    )
    assert problem("s3cret", body, "", signed) is not None


def test_the_simulator_refuses_an_unsigned_or_forged_delivery(
    reference_data: None, simulator: Simulator
) -> None:
    webhook_agency("direct-gb", simulator)
    body = b'{"referralId": 1}'
    forged = signed_headers(secret="not-the-agency-secret", body=body)

    unsigned = httpx.post(
        f"{simulator.url}/referrals", content=body, headers={"X-Tipline-Agency": "direct-gb"}
    )
    forgery = httpx.post(
        f"{simulator.url}/referrals",
        content=body,
        headers={**forged, "X-Tipline-Agency": "direct-gb", "X-Tipline-Referral": "1"},
    )

    assert unsigned.status_code == 401
    assert forgery.status_code == 401
    assert "does not match" in forgery.json()["error"]
    assert simulator.received()["rejected"] == 2
    assert simulator.received()["received"] == {}


def test_an_agency_refers_a_report_on_and_the_new_agency_receives_it(
    reference_data: None, simulator: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    first = routed_report("GB")
    webhook_agency("direct-de", simulator)
    gb = Agency.objects.get(code="direct-gb")

    with django_capture_on_commit_callbacks(execute=True):
        second = referral_refer_on(
            referral_id=first.pk,
            to_agency=Agency.objects.get(code="direct-de"),
            reason="The suspect lives in Berlin.",
            by_agency=gb,
        )

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Referral.Status.RE_REFERRED
    assert first.closed_at is not None
    assert second.referred_from == first
    assert second.reason == "The suspect lives in Berlin."
    assert second.status == Referral.Status.DELIVERED
    assert simulator.received()["received"] == {str(second.pk): 1}
    record = report_triage_record(report_id=first.report_id)["referrals"]
    assert [(item["agency"], item["status"]) for item in record] == [
        ("direct-gb", "re_referred"),
        ("direct-de", "delivered"),
    ]
    assert record[0]["history"][-1]["event"] == "re_referred"
    assert record[0]["history"][-1]["by"] == "direct-gb"
    assert record[1]["referredFrom"] == "direct-gb"


def test_staff_route_a_report_from_the_analyst_queue_and_it_may_come_back(
    reference_data: None, admin_user: User
) -> None:
    report = ReportFactory.create(finished=True)
    analyst = report_route(report_id=report.pk)
    assert analyst is not None
    assert analyst.agency.code == Agency.ANALYST_QUEUE_CODE
    gb = Agency.objects.get(code="direct-gb")

    to_gb = referral_refer_on(
        referral_id=analyst.pk, to_agency=gb, reason="Chat logs name Leeds.", by_user=admin_user
    )
    back = referral_refer_on(
        referral_id=to_gb.pk,
        to_agency=analyst.agency,
        reason="No jurisdiction after all.",
        by_user=admin_user,
    )

    assert back.agency == analyst.agency
    assert Referral.objects.filter(report=report).count() == 3
    assert Referral.objects.filter(report=report, status__in=Referral.OPEN_STATUSES).count() == 1


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("no reason", "reason_required"),
        ("same agency", "invalid_agency"),
        ("inactive agency", "invalid_agency"),
        ("another agency's referral", "not_found"),
        ("already referred on", "referral_closed"),
        ("already at that agency", "already_referred"),
    ],
)
def test_a_re_referral_that_cannot_be_made_is_refused_and_changes_nothing(
    reference_data: None, case: str, code: str
) -> None:
    referral = routed_report("GB")
    gb, de, ke = (Agency.objects.get(code=c) for c in ("direct-gb", "direct-de", "direct-ke"))
    kwargs: dict[str, Any] = {"referral_id": referral.pk, "to_agency": de, "reason": "Moved."}
    if case == "no reason":
        kwargs["reason"] = "  "
    elif case == "same agency":
        kwargs["to_agency"] = gb
    elif case == "inactive agency":
        Agency.objects.filter(pk=de.pk).update(is_active=False)
        de.refresh_from_db()
    elif case == "another agency's referral":
        kwargs["by_agency"] = ke
    elif case == "already referred on":
        referral_refer_on(referral_id=referral.pk, to_agency=ke, reason="Nairobi.")
    elif case == "already at that agency":
        Referral.objects.create(
            report_id=referral.report_id,
            agency=de,
            status=Referral.Status.DELIVERED,
            delivered_at=timezone.now(),
        )
    before = list(Referral.objects.order_by("pk").values_list("pk", "status"))

    with pytest.raises(ApplicationError) as refused:
        referral_refer_on(**kwargs)

    assert refused.value.code == code
    assert list(Referral.objects.order_by("pk").values_list("pk", "status")) == before


def test_an_agency_acknowledges_only_its_own_delivered_referral(reference_data: None) -> None:
    referral = routed_report("GB")
    other = Agency.objects.get(code="direct-de")

    with pytest.raises(ApplicationError):
        referral_acknowledge(referral_id=referral.pk, by_agency=other)
    acknowledged = referral_acknowledge(referral_id=referral.pk, by_agency=referral.agency)
    again = referral_acknowledge(referral_id=referral.pk, by_agency=referral.agency)

    assert acknowledged.status == Referral.Status.ACKNOWLEDGED
    assert again.acknowledged_at == acknowledged.acknowledged_at
    record = report_triage_record(report_id=referral.report_id)["referrals"][0]
    assert record["acknowledgedAt"] == acknowledged.acknowledged_at.isoformat()  # type: ignore[union-attr]


def test_configure_agency_webhook_prints_the_new_secret_once(
    reference_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = Agency.objects.get(code="direct-gb").webhook_secret

    call_command("configure_agency_webhook", "direct-gb", "https://agency.example.com/tips")

    printed = json.loads(capsys.readouterr().out)
    agency = Agency.objects.get(code="direct-gb")
    assert printed == {
        "agency": "direct-gb",
        "deliveryMode": "webhook",
        "url": "https://agency.example.com/tips",
        "secret": agency.webhook_secret,
    }
    assert agency.webhook_secret != before
    assert agency.delivery_mode == DeliveryMode.WEBHOOK


@pytest.mark.parametrize(
    ("code", "url", "message"),
    [("no-such-agency", "https://agency.example.com/", "No agency"), ("direct-gb", "ftp:x", "URL")],
)
def test_configure_agency_webhook_refuses_an_unknown_agency_or_a_bad_url(
    reference_data: None, code: str, url: str, message: str
) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("configure_agency_webhook", code, url)
    assert Agency.objects.get(code="direct-gb").delivery_mode == DeliveryMode.INBOX


def test_in_embedded_mode_a_failed_delivery_waits_for_the_sweep_instead_of_looping(
    reference_data: None,
    failing_simulator: Simulator,
    fast_retries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    webhook_agency("direct-gb", failing_simulator)

    with django_capture_on_commit_callbacks(execute=True):
        referral = routed_report("GB")

    referral.refresh_from_db()
    assert referral.status == Referral.Status.PENDING
    assert referral.attempts == 1
    assert failing_simulator.received()["failed"] == 1
