"""A real Celery worker process, a real Redis and PostgreSQL: a report submitted over
HTTP becomes a referral without anything running in the test's own process."""

import json
import os
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
from routing.models import Referral
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


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Starts `celery worker` processes on the given queues, sharing this test run's
    database and Redis key prefix; each call returns the path of that worker's log."""
    require(bool(settings.REDIS_URL), "a real worker needs Redis (set REDIS_URL)")
    require(uses_postgresql(), "a real worker needs PostgreSQL (set DATABASE_URL)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_KEY_PREFIX": settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"],
    }
    workers: list[subprocess.Popen[bytes]] = []

    def start(*queues: str) -> Path:
        log_path = tmp_path / f"worker-{len(workers)}.log"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(queues)]
        command += ["--pool", "solo", "--loglevel", "INFO", "--without-heartbeat"]
        command += ["--without-mingle", "--without-gossip", "--logfile", str(log_path)]
        command += ["--hostname", f"test-{len(workers)}@%h"]
        workers.append(subprocess.Popen(command, cwd=PROJECT_ROOT, env=env))
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


def test_report_submitted_over_http_is_referred_by_a_worker_process(
    live_server: Any, provider: Any, start_worker: Callable[..., Path]
) -> None:
    worker_log = start_worker(settings.ROUTING_QUEUE)
    base = f"{live_server.url}/api/v1/reports"
    opened = post_json(
        base,
        provider.token,
        {
            "incidentSummary": {
                "incidentType": "Child Sex Trafficking",
                "incidentDateTime": "2026-05-06T07:08:09Z",
            },
            "personOrUserReported": {"ipCaptureEvent": [{"ipAddress": IP_BY_COUNTRY["PK"]}]},
        },
    )
    report_id = opened["reportId"]
    assert post_json(f"{base}/{report_id}/finish", provider.token)["status"] == "finished"

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
    document = validated_document(
        ReportSerializer,
        {
            "incidentSummary": {
                "incidentType": "Child Pornography (possession, manufacture, and distribution)",
                "incidentDateTime": "2026-01-02T03:04:05Z",
            },
            "personOrUserReported": {"ipCaptureEvent": [{"ipAddress": IP_BY_COUNTRY["GB"]}]},
        },
    )
    backlog = reports_submit_bulk(provider=provider.provider, items=[(document, [])] * 3000)
    backlog_ids = [report.pk for report in backlog]
    assert Report.objects.get(pk=backlog_ids[0]).provisional_priority == ""

    base = f"{live_server.url}/api/v1/reports"
    urgent_id = post_json(
        base,
        provider.token,
        {
            "incidentSummary": {
                "incidentType": "Online Enticement of Children for Sexual Acts",
                "escalateToHighPriority": "The child says the meeting is tonight.",
                "incidentDateTime": "2026-05-06T07:08:09Z",
            },
            "personOrUserReported": {"ipCaptureEvent": [{"ipAddress": IP_BY_COUNTRY["BR"]}]},
        },
    )["reportId"]
    post_json(f"{base}/{urgent_id}/finish", provider.token)

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
