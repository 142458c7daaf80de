"""Settings come from the environment; each case runs in a fresh interpreter."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def clean_environment(**variables: str) -> dict[str, str]:
    """This process's environment without any of the app's own variables, plus ``variables``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_")) and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    return {**env, **variables}


PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'name': str(s.DATABASES['default']['NAME']), 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS}))"
)


def run_python(
    code: str, settings_module: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    env = clean_environment(DJANGO_SETTINGS_MODULE=settings_module, **variables)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )


def settings_seen(settings_module: str, **variables: str) -> dict[str, object]:
    result = run_python(PRINT_SETTINGS, settings_module, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_database_or_redis_it_runs_embedded_on_sqlite_with_eager_tasks() -> None:
    seen = settings_seen("config.settings.local")

    assert seen["engine"] == "django.db.backends.sqlite3"
    assert str(seen["name"]).endswith("db.sqlite3")
    assert seen["eager"] is True
    assert seen["broker"] == "memory://"


def test_database_url_and_redis_url_select_postgresql_and_a_real_broker() -> None:
    seen = settings_seen(
        "config.settings.local",
        DATABASE_URL="postgres://tipline:pw@db.example.com:5432/tipline",
        REDIS_URL="redis://cache.example.com:6379/0",
    )

    assert seen["engine"] == "django.db.backends.postgresql"
    assert seen["name"] == "tipline"
    assert seen["eager"] is False
    assert seen["broker"] == "redis://cache.example.com:6379/0"


def test_debug_and_allowed_hosts_come_from_the_environment() -> None:
    seen = settings_seen(
        "config.settings.local",
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="a.example.com,b.example.com",
    )

    assert seen["debug"] is False
    assert seen["hosts"] == ["a.example.com", "b.example.com"]


def test_a_database_other_than_postgresql_is_refused_with_a_message() -> None:
    result = run_python(PRINT_SETTINGS, "config.settings.local", DATABASE_URL="mysql://u@h/db")

    assert result.returncode != 0
    assert "DATABASE_URL must be a postgres:// URL" in result.stderr


@pytest.mark.parametrize(
    ("secret", "message"),
    [(None, "DJANGO_SECRET_KEY is not set"), ("short", "at least 50 characters")],
)
def test_production_refuses_to_start_without_a_real_secret_key(
    secret: str | None, message: str
) -> None:
    variables = {"DJANGO_ALLOWED_HOSTS": "tipline.example.com"}
    if secret is not None:
        variables["DJANGO_SECRET_KEY"] = secret

    result = run_python(PRINT_SETTINGS, "config.settings.production", **variables)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_settings_pass_the_deployment_checks() -> None:
    env = clean_environment(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="tipline.example.com",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        # A broker, so beat runs the daily purge of personal data (intake/checks.py).
        REDIS_URL="redis://redis.example.com:6379/0",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_new_embedded_database_migrates_and_loads_its_reference_data(tmp_path: Path) -> None:
    """What `make run` does first on a new machine (the system checks `migrate` runs come
    before any table exists)."""
    env = clean_environment(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'new.sqlite3'}",
    )
    for command in (["migrate", "--noinput", "-v0"], ["load_reference_data"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-2000:]
