"""What every benchmark needs: a throwaway PostgreSQL database and Redis key prefix, the
app served by gunicorn as in production, and a time-bounded load loop."""

import atexit
import base64
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


# A small complete report; its IP evidence resolves to GB (agency direct-gb).
REPORT = {
    "incidentSummary": {
        "incidentType": "Child Pornography (possession, manufacture, and distribution)",
        "incidentDateTime": "2026-01-02T03:04:05Z",
    },
    "reporter": {"reportingPerson": {"email": "safety@example.com"}},
    "personOrUserReported": {
        "screenName": "user-1",
        "ipCaptureEvent": [{"ipAddress": "81.2.69.160", "eventName": "Upload"}],
    },
}


@dataclass
class Stack:
    env: dict[str, str]
    port: int
    provider: dict[str, str]
    server_pid: int

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)


def machine_description() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    with psycopg.connect(
        os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    ) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    redis_version = redis.Redis.from_url(redis_url()).info()["redis_version"]
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_kb // 1024 // 1024} GiB; Python {sys.version.split()[0]}, "
        f"PostgreSQL {postgres}, Redis {redis_version}; web, PostgreSQL, Redis and load generator on one machine"
    )


def peak_memory_mib(pid: int) -> tuple[float, list[float]]:
    """The peak resident memory (VmHWM) of a process and of each of its children, in MiB."""

    def peak(process: int) -> float:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return peak(pid), [peak(int(child)) for child in children]


def memory_line(kind: str, pid: int) -> str:
    main, children = peak_memory_mib(pid)
    each = f"; {len(children)} children, each at most {max(children):.0f} MiB" if children else ""
    return f"peak memory, {kind}: {main:.0f} MiB{each}"


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


# The migrated database every scratch database of this run is copied from, made once.
migrated_templates: dict[str, str] = {}


def migrated_template(admin_url: str, env: dict[str, str]) -> str:
    """A database migrated once per run (dropped when the run ends): each benchmark's scratch
    database is a copy of it, which takes a second instead of a migration's 15."""
    if admin_url not in migrated_templates:
        name = f"tipline_bench_template_{os.getpid()}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(drop_database, admin_url, name)
        template_url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
        migrate_env = {**env, "DATABASE_URL": template_url}
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=migrate_env, check=True
        )
        migrated_templates[admin_url] = name
    return migrated_templates[admin_url]


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database() -> Iterator[dict[str, str]]:
    """A fresh, migrated PostgreSQL database and Redis key prefix, and the environment that
    points the app at them; both are removed afterwards."""
    admin_url = os.environ.get(
        "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
    )
    name = f"tipline_bench_{os.getpid()}"
    database_url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    prefix = f"bench-{os.getpid()}:"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # A Fernet key (32 random bytes, URL-safe base64) for reporters' contact details.
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url(),
        "CELERY_KEY_PREFIX": prefix,
        "PROVIDER_RATE_LIMIT_PER_MINUTE": "0",
    }
    template = migrated_template(admin_url, env)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield env
    finally:
        drop_database(admin_url, name)
        client = redis.Redis.from_url(redis_url())
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


@contextmanager
def stack(*, port: int = 8765, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """A scratch database with reference data and a provider, served by gunicorn with
    production settings (and ``extra_env``), its static files collected into a directory
    of their own as the image build does (the pages name them through the manifest)."""
    with (
        scratch_database() as base_env,
        tempfile.TemporaryDirectory(prefix="bench-static-") as static_root,
    ):
        env = {
            **base_env,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "BENCH_STATIC_ROOT": static_root,
            **(extra_env or {}),
        }
        subprocess.run(
            [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        subprocess.run(
            [PYTHON, "manage.py", "load_reference_data"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        provider = json.loads(
            subprocess.run(
                [PYTHON, "manage.py", "create_provider", "Bench Provider"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("CREATE TABLE bench_row (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: healthy(port), 60, "gunicorn")
            yield Stack(env=env, port=port, provider=provider, server_pid=server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


def run_load(
    stack: Stack,
    unit: Callable[[http.client.HTTPConnection], int],
    *,
    seconds: float,
    concurrency: int,
) -> float:
    """Call ``unit`` (which returns how many items it completed) from ``concurrency`` threads
    for ``seconds``; return items per second. Any failed request aborts the run."""
    done = [0] * concurrency
    errors: list[BaseException] = []
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        connection = stack.connection()
        try:
            while time.monotonic() < deadline:
                done[index] += unit(connection)
        except BaseException as error:
            errors.append(error)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if errors:
        raise errors[0]
    return sum(done) / elapsed


def call(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    expect: int,
) -> bytes:
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    if response.status != expect:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
    return data
