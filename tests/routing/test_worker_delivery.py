"""A real Celery worker process, a real Redis and PostgreSQL: a report submitted over
HTTP becomes a referral without anything running in the test's own process."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from intake.documents import ReportSerializer, validated_document
from intake.models import Report
from intake.services import reports_submit_bulk
from routing.models import Agency, Referral
from routing.services import agency_webhook_configure
from routing.tasks import route_report
from tests.conftest import require, uses_postgresql
from tests.factories import IP_BY_COUNTRY

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def database_url_of_test_database() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def wait_for(condition: Any, *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def project_env(**overrides: str) -> dict[str, str]:
    """The environment of a process of ours that shares this test run's database and
    Redis key prefix."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_KEY_PREFIX": settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"],
        "TEST_WORKER": "1",
        **overrides,
    }


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Starts `celery worker` processes on the given queues, sharing this test run's
    database and Redis key prefix; each call returns the path of that worker's log.
    ``beat=True`` runs the beat scheduler (the sweeps) in the worker; ``env`` adds
    settings."""
    require(bool(settings.REDIS_URL), "a real worker needs Redis (set REDIS_URL)")
    require(uses_postgresql(), "a real worker needs PostgreSQL (set DATABASE_URL)")
    workers: list[subprocess.Popen[bytes]] = []

    def start(*queues: str, beat: bool = False, env: dict[str, str] | None = None) -> Path:
        log_path = tmp_path / f"worker-{len(workers)}.log"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(queues)]
        # Prefork, as in production: a solo worker runs messages published by a task
        # inside that task.
        command += ["--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO"]
        command += ["--without-heartbeat"]
        command += ["--without-mingle", "--without-gossip", "--logfile", str(log_path)]
        command += ["--hostname", f"test-{len(workers)}@%h"]
        if beat:
            command += ["--beat", "--schedule", str(tmp_path / f"beat-{len(workers)}")]
        workers.append(subprocess.Popen(command, cwd=PROJECT_ROOT, env=project_env(**(env or {}))))
        wait_for(
            lambda: log_path.exists() and "ready." in log_path.read_text(),
            timeout=60,
            what=f"the worker on {queues} to start",
        )
        return log_path

    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = True
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)


def post_json(url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (the test's own live server)
        url,
        data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def report_finished_over_http(
    live_server: Any,
    provider: Any,
    country: str,
    incident_type: str = "Child Sex Trafficking",
    **summary: str,
) -> int:
    """A report opened and finished through the JSON API, seen at an address in ``country``."""
    base = f"{live_server.url}/api/v1/reports"
    report_id: int = post_json(
        base,
        provider.token,
        {
            "incidentSummary": {
                "incidentType": incident_type,
                "incidentDateTime": "2026-05-06T07:08:09Z",
                **summary,
            },
            "personOrUserReported": {"ipCaptureEvent": [{"ipAddress": IP_BY_COUNTRY[country]}]},
        },
    )["reportId"]
    assert post_json(f"{base}/{report_id}/finish", provider.token)["status"] == "finished"
    return report_id


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


ALL_QUEUES = (
    settings.URGENT_QUEUE,
    settings.ROUTING_QUEUE,
    settings.DELIVERY_QUEUE,
    settings.CELERY_TASK_DEFAULT_QUEUE,
)
# Retries and sweeps in seconds rather than minutes, so the tests finish.
QUICK_RETRIES = {
    "DELIVERY_RETRY_BASE_SECONDS": "0.05",
    "DELIVERY_RETRY_MAX_SECONDS": "0.3",
    "DELIVERY_MAX_ATTEMPTS": "40",
}
QUICK_SWEEPS = {
    "ROUTING_SWEEP_GRACE_SECONDS": "1",
    "ROUTING_SWEEP_INTERVAL_SECONDS": "1",
    "DELIVERY_SWEEP_GRACE_SECONDS": "1",
    "DELIVERY_SWEEP_INTERVAL_SECONDS": "1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
        return json.load(response)


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


def finished_reports(provider: Any, country: str, count: int) -> list[int]:
    """``count`` finished reports resolving to ``country``, their routing enqueued."""
    document = validated_document(
        ReportSerializer,
        {
            "incidentSummary": {
                "incidentType": "Child Pornography (possession, manufacture, and distribution)",
                "incidentDateTime": "2026-01-02T03:04:05Z",
            },
            "personOrUserReported": {"ipCaptureEvent": [{"ipAddress": IP_BY_COUNTRY[country]}]},
        },
    )
    reports = reports_submit_bulk(provider=provider.provider, items=[(document, [])] * count)
    return [report.pk for report in reports]


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


class OwnRedis:
    """A Redis server of a test's own on a spare port, which the test may stop and start
    again without touching the machine's Redis."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for(lambda: port_open(self.port), timeout=10, what="Redis to start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def publish_to(broker_url: str) -> None:
    """Point this process's Celery app at another broker, dropping pooled connections."""
    celery_app.conf["broker_url"] = broker_url
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A Redis of this test's own, to which this process publishes meanwhile."""
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    redis = OwnRedis(tmp_path)
    previous = celery_app.conf.broker_url
    redis.start()
    publish_to(redis.url)
    try:
        yield redis
    finally:
        publish_to(previous)
        redis.stop()


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


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
