"""Processes of a test's own: Celery workers sharing the test run's database and Redis key
prefix, and Redis and PostgreSQL servers on spare ports that a test may kill and start
again without touching the machine's own. A test module uses one of the fixtures
(start_worker, own_redis, own_postgres) by importing it: `start_worker_fixture` and so on."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from intake.documents import ReportSerializer, validated_document
from intake.services import reports_submit_bulk
from tests.conftest import require, uses_postgresql
from tests.factories import IP_BY_COUNTRY

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Workers:
    """Starts `celery worker` processes on the given queues; each call returns the path of
    that worker's log, by which `kill` names it. ``beat=True`` runs the beat scheduler (the
    sweeps) in the worker; ``env`` adds settings. Each worker is a process group of its
    own (its pool and beat processes with it), so a test can kill all of it at once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: dict[Path, subprocess.Popen[bytes]] = {}

    def __call__(self, *queues: str, beat: bool = False, env: dict[str, str] | None = None) -> Path:
        number = len(self.processes)
        log_path = self.directory / f"worker-{number}.log"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(queues)]
        # Prefork, as in production: a solo worker runs messages published by a task
        # inside that task.
        command += ["--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO"]
        command += ["--without-heartbeat"]
        command += ["--without-mingle", "--without-gossip", "--logfile", str(log_path)]
        command += ["--hostname", f"test-{number}@%h"]
        if beat:
            command += ["--beat", "--schedule", str(self.directory / f"beat-{number}")]
        self.processes[log_path] = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=project_env(**(env or {})), start_new_session=True
        )
        wait_for(
            lambda: log_path.exists() and "ready." in log_path.read_text(),
            timeout=60,
            what=f"the worker on {queues} to start",
        )
        return log_path

    def kill(self, log_path: Path) -> None:
        """SIGKILL the worker and every process of its own at once, as a lost host or the
        kernel's out-of-memory killer would: nothing of it runs another instruction."""
        process = self.processes[log_path]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        running = [process for process in self.processes.values() if process.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            process.wait(timeout=30)
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # any pool process left behind


@pytest.fixture(name="start_worker")
def start_worker_fixture(tmp_path: Path) -> Iterator[Workers]:
    """Starts worker processes sharing this test run's database and Redis key prefix (see
    Workers)."""
    require(bool(settings.REDIS_URL), "a real worker needs Redis (set REDIS_URL)")
    require(uses_postgresql(), "a real worker needs PostgreSQL (set DATABASE_URL)")
    workers = Workers(tmp_path)
    celery_app.conf.task_always_eager = False
    try:
        yield workers
    finally:
        celery_app.conf.task_always_eager = True
        workers.stop_all()


@pytest.fixture(name="shared_cache")
def shared_cache_fixture(settings: Any) -> dict[str, str]:
    """This test's cache in Redis, as in production, under a prefix of its own; pass the
    returned environment to the workers that should share it."""
    prefix = f"test-{os.getpid()}-cache"
    settings.CACHES = {
        "default": {
            "BACKEND": "config.unavailable.FailOpenRedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    return {"TEST_SHARED_CACHE_PREFIX": prefix}


def post_json(url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (the test's own live server)
        url,
        data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
        return json.load(response)


def report_body(country: str, incident_type: str = "Child Sex Trafficking", **summary: str) -> Any:
    """A report to open through the JSON API, seen at an address in ``country``."""
    return {
        "incidentSummary": {
            "incidentType": incident_type,
            "incidentDateTime": "2026-05-06T07:08:09Z",
            **summary,
        },
        "personOrUserReported": {"ipCaptureEvent": [{"ipAddress": IP_BY_COUNTRY[country]}]},
    }


def report_finished_over_http(
    live_server: Any,
    provider: Any,
    country: str,
    incident_type: str = "Child Sex Trafficking",
    **summary: str,
) -> int:
    """A report opened and finished through the JSON API, seen at an address in ``country``."""
    base = f"{live_server.url}/api/v1/reports"
    body = report_body(country, incident_type, **summary)
    report_id: int = post_json(base, provider.token, body)["reportId"]
    assert post_json(f"{base}/{report_id}/finish", provider.token)["status"] == "finished"
    return report_id


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


class OwnRedis:
    """A Redis server of a test's own on a spare port, which the test may stop (or kill)
    and start again without touching the machine's Redis."""

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

    def kill(self) -> None:
        """SIGKILL: whatever it held (queued messages, unacknowledged ones) is gone."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


def publish_to(broker_url: str) -> None:
    """Point this process's Celery app at another broker, dropping pooled connections."""
    celery_app.conf["broker_url"] = broker_url
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture(name="own_redis")
def own_redis_fixture(tmp_path: Path) -> Iterator[OwnRedis]:
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


POSTGRES_BIN = Path(os.environ.get("POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))


class OwnPostgres:
    """A PostgreSQL server of a test's own on a spare port, with an empty database
    `tipline`, which the test may stop and start again without touching the machine's
    PostgreSQL. Run by the `postgres` user when the tests run as root (PostgreSQL refuses
    root)."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path, which only its owner may enter.
        self.directory = Path(tempfile.mkdtemp(prefix="tipline-postgres-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/tipline"
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, user="postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def run(self, program: str, *arguments: str) -> None:
        subprocess.run(
            [*self.as_owner, str(POSTGRES_BIN / program), *arguments],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def create(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.start()
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "tipline")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        options += " -c fsync=off -c full_page_writes=off"
        log = str(self.directory / "postgres.log")
        self.run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", log, "-o", options)

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended, and their transactions rolled back."""
        self.run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(name="own_postgres")
def own_postgres_fixture() -> Iterator[OwnPostgres]:
    """A PostgreSQL of this test's own, running, with an empty database."""
    require((POSTGRES_BIN / "initdb").exists(), f"PostgreSQL is not installed in {POSTGRES_BIN}")
    postgres = OwnPostgres()
    try:
        postgres.create()
        yield postgres
    finally:
        postgres.remove()
