"""docker-compose.yml, the Dockerfile and .env.example must match the code, since no
Docker engine runs them here."""

import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("web", "worker", "worker-urgent", "beat")
REQUIRED_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_DEBUG",
    "DJANGO_SETTINGS_MODULE",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def variables_read_by_settings() -> set[str]:
    source = "".join(path.read_text() for path in (PROJECT_ROOT / "config/settings").glob("*.py"))
    return set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', source))


def command_words(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_compose_has_web_worker_beat_postgres_and_redis(compose: dict) -> None:
    assert set(compose["services"]) >= {*APP_SERVICES, "postgres", "redis"}
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    assert compose["services"]["redis"]["image"].startswith("redis:")


def test_web_worker_and_beat_reuse_one_image(compose: dict) -> None:
    services = compose["services"]
    assert len({(services[name]["build"], services[name]["image"]) for name in APP_SERVICES}) == 1
    assert (PROJECT_ROOT / services["web"]["build"] / "Dockerfile").is_file()


def test_app_services_get_every_variable_the_settings_need_and_no_unknown_one(
    compose: dict,
) -> None:
    known = variables_read_by_settings() | {"DJANGO_SETTINGS_MODULE"}
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert set(environment) >= REQUIRED_VARIABLES, name
        assert set(environment) <= known, f"{name} sets variables no setting reads"
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert "@postgres:5432/" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"].startswith("redis://redis:6379")


def test_workers_consume_every_queue_and_one_serves_only_urgent_reports(compose: dict) -> None:
    consumed: dict[str, set[str]] = {}
    for name in ("worker", "worker-urgent"):
        words = command_words(compose["services"][name])
        assert words[:4] == ["celery", "-A", "config", "worker"]
        consumed[name] = set(option(words, "-Q").split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    everything = routed | {settings.CELERY_TASK_DEFAULT_QUEUE, settings.URGENT_QUEUE}
    assert consumed["worker"] >= everything
    assert consumed["worker-urgent"] == {settings.URGENT_QUEUE}


def test_beat_runs_the_celery_app_and_has_a_schedule(compose: dict) -> None:
    words = command_words(compose["services"]["beat"])
    assert words[:4] == ["celery", "-A", "config", "beat"]
    assert settings.CELERY_BEAT_SCHEDULE


def test_web_migrates_loads_reference_data_and_serves_the_wsgi_app(compose: dict) -> None:
    script = command_words(compose["services"]["web"])[-1]
    assert "manage.py migrate" in script
    assert "manage.py load_reference_data" in script
    assert "gunicorn -c config/gunicorn.py config.wsgi:application" in script
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert '"gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"' in dockerfile
    assert (PROJECT_ROOT / "config" / "gunicorn.py").is_file()
    for package in ("config", "intake", "routing", "templates"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_env_example_documents_exactly_the_variables_the_settings_read() -> None:
    lines = (PROJECT_ROOT / ".env.example").read_text().splitlines()
    documented = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert documented == variables_read_by_settings()
