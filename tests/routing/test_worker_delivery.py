"""A real Celery worker process, a real Redis and PostgreSQL: a report submitted over
HTTP becomes a referral without anything running in the test's own process."""

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from intake.models import Report
from routing.models import Agency, Referral
from routing.services import agency_webhook_configure
from routing.tasks import route_report
from tests.routing.processes import (
    ALL_QUEUES,
    PROJECT_ROOT,
    QUICK_RETRIES,
    QUICK_SWEEPS,
    OwnRedis,
    finished_reports,
    free_port,
    get_json,
    own_redis_fixture,  # noqa: F401 (a fixture)
    project_env,
    report_finished_over_http,
    start_worker_fixture,  # noqa: F401 (a fixture)
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_report_submitted_over_http_is_referred_by_a_worker_process(
    live_server: Any, provider: Any, start_worker: Callable[..., Path]
) -> None:
    worker_log = start_worker(settings.ROUTING_QUEUE)
    report_id = report_finished_over_http(live_server, provider, "PK")

    referral = wait_for(
        lambda: Referral.objects.select_related("agency").filter(report_id=report_id).first(),
        timeout=60,
        what="the worker to refer the report",
    )

    assert referral.agency.code == "attache-pk"
    assert referral.status == Referral.Status.DELIVERED
    log = worker_log.read_text()
    assert "routing.tasks.route_report" in log
    assert "succeeded" in log


def test_an_urgent_report_is_referred_while_thousands_queued_before_it_wait(
    live_server: Any, provider: Any, start_worker: Callable[..., Path]
) -> None:
    start_worker(settings.ROUTING_QUEUE)
    start_worker(settings.URGENT_QUEUE)
    backlog_ids = finished_reports(provider, "GB", 3000)
    assert Report.objects.get(pk=backlog_ids[0]).provisional_priority == ""

    urgent_id = report_finished_over_http(
        live_server,
        provider,
        "BR",
        "Online Enticement of Children for Sexual Acts",
        escalateToHighPriority="The child says the meeting is tonight.",
    )

    referral = wait_for(
        lambda: Referral.objects.filter(report_id=urgent_id).first(),
        timeout=60,
        what="the urgent report to be referred",
    )
    still_waiting = Report.objects.filter(pk__in=backlog_ids, routed_at__isnull=True).count()

    assert Report.objects.get(pk=urgent_id).priority == "1"
    assert referral.agency.code == "direct-br"
    assert still_waiting > 0, "the backlog drained before the urgent report was referred"
    wait_for(
        lambda: not Report.objects.filter(pk__in=backlog_ids, routed_at__isnull=True).exists(),
        timeout=300,
        what="the backlog to drain",
    )
    assert Referral.objects.filter(report_id__in=backlog_ids).count() == len(backlog_ids)


@pytest.fixture
def agency_simulator(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Starts `manage.py run_agency_simulator` on a free port; returns its base URL."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(*arguments: str) -> str:
        port = free_port()
        log_path = tmp_path / f"simulator-{port}.log"
        with log_path.open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "manage.py",
                        "run_agency_simulator",
                        "--port",
                        str(port),
                        *list(arguments),
                    ],
                    cwd=PROJECT_ROOT,
                    env=project_env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for(
            lambda: "listening" in log_path.read_text(),
            timeout=30,
            what="the simulated agency to start",
        )
        return f"http://127.0.0.1:{port}"

    try:
        yield start
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def test_a_replayed_routing_message_refers_the_report_once(
    provider: Any, start_worker: Callable[..., Path]
) -> None:
    [report_id] = finished_reports(provider, "KE", 1)  # its message is sent on commit
    route_report.apply_async((report_id,), queue=settings.ROUTING_QUEUE)
    route_report.apply_async((report_id,), queue=settings.ROUTING_QUEUE)

    worker_log = start_worker(settings.ROUTING_QUEUE)

    wait_for(
        lambda: worker_log.read_text().count("succeeded") >= 3,
        timeout=60,
        what="the worker to run the three routing messages",
    )
    referrals = list(Referral.objects.filter(report_id=report_id).values_list("agency__code"))
    assert referrals == [("direct-ke",)]


def test_two_workers_deliver_every_referral_once_to_an_agency_failing_half_the_time(
    provider: Any,
    start_worker: Callable[..., Path],
    agency_simulator: Callable[..., str],
) -> None:
    simulator = agency_simulator("--fail-share", "0.5", "--seed", "5")
    agency_webhook_configure(
        agency=Agency.objects.get(code="direct-gb"), url=f"{simulator}/referrals"
    )
    report_ids = finished_reports(provider, "GB", 40)

    for _ in range(2):
        start_worker(settings.ROUTING_QUEUE, settings.DELIVERY_QUEUE, env=QUICK_RETRIES)

    wait_for(
        lambda: (
            Referral.objects.filter(
                report_id__in=report_ids, status=Referral.Status.DELIVERED
            ).count()
            == len(report_ids)
        ),
        timeout=180,
        what="every referral to be delivered",
    )
    received = get_json(f"{simulator}/received")
    referral_ids = set(
        Referral.objects.filter(report_id__in=report_ids).values_list("pk", flat=True)
    )
    assert {int(key) for key in received["received"]} == referral_ids
    assert set(received["received"].values()) == {1}, "a referral arrived twice"
    assert received["duplicates"] == 0
    assert received["failed"] > 0, "the simulated agency never failed"
    attempts = Referral.objects.filter(report_id__in=report_ids).values_list("attempts", flat=True)
    assert sum(attempts) == len(report_ids) + received["failed"]


def test_reports_accepted_while_redis_is_down_are_each_referred_once_when_it_returns(
    live_server: Any, provider: Any, start_worker: Callable[..., Path], own_redis: OwnRedis
) -> None:
    start_worker(*ALL_QUEUES, beat=True, env={"REDIS_URL": own_redis.url, **QUICK_SWEEPS})
    before_outage = finished_reports(provider, "DE", 3)
    wait_for(
        lambda: Referral.objects.filter(report_id__in=before_outage).count() == 3,
        timeout=60,
        what="the reports before the outage to be referred",
    )

    own_redis.stop()
    during_outage = [report_finished_over_http(live_server, provider, "DE") for _ in range(10)]
    assert not Referral.objects.filter(report_id__in=during_outage).exists()

    own_redis.start()

    wait_for(
        lambda: not Report.objects.filter(pk__in=during_outage, routed_at__isnull=True).exists(),
        timeout=120,
        what="the sweep to route the reports accepted during the outage",
    )
    for report_id in before_outage + during_outage:
        assert list(
            Referral.objects.filter(report_id=report_id).values_list("agency__code", flat=True)
        ) == ["direct-de"], report_id
