"""A real Celery worker process, a real Redis and PostgreSQL: a report submitted over
HTTP becomes a referral without anything running in the test's own process."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
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
def celery_worker_process(tmp_path: Path) -> Iterator[Path]:
    """A `celery worker` process on the routing queue, sharing this test run's database
    and Redis key prefix. Yields the path of its log."""
    require(bool(settings.REDIS_URL), "a real worker needs Redis (set REDIS_URL)")
    require(uses_postgresql(), "a real worker needs PostgreSQL (set DATABASE_URL)")
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_KEY_PREFIX": settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"],
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "routing"]
    command += ["--pool", "solo", "--loglevel", "INFO", "--without-heartbeat"]
    command += ["--without-mingle", "--without-gossip", "--logfile", str(log_path)]
    worker = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)
    celery_app.conf.task_always_eager = False
    try:
        wait_for(
            lambda: log_path.exists() and "ready." in log_path.read_text(),
            timeout=60,
            what="the worker to start",
        )
        yield log_path
    finally:
        celery_app.conf.task_always_eager = True
        worker.terminate()
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
    live_server: Any, provider: Any, celery_worker_process: Path
) -> None:
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
    log = celery_worker_process.read_text()
    assert "routing.tasks.route_report" in log
    assert "succeeded" in log
