import os
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from intake.authentication import forget_remembered_logins
from intake.hashes import loaded_exact_index
from intake.pdq import loaded_pdq_index
from intake.services import ProviderCredentials, provider_create
from routing.anonymizers import loaded_anonymizers
from routing.models import Agency
from routing.selectors import loaded_routing_table
from routing.services import reference_data_load

T = TypeVar("T")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip a test whose service is missing on a developer's machine; fail it in CI,
    where every service must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason}: CI must provide it")
    pytest.skip(reason)


def uses_postgresql() -> bool:
    return bool(settings.DATABASES["default"]["ENGINE"].endswith("postgresql"))


def pytest_sessionstart(session: pytest.Session) -> None:
    if IN_CI and not (uses_postgresql() and settings.REDIS_URL):
        pytest.exit(
            "CI runs the suite against PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.",
            returncode=1,
        )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> None:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        reference_data_load()


@pytest.fixture
def reference_data(db: None) -> None:
    """Countries, agencies and the routing table. Loaded once per session; loaded
    again after a transactional test has emptied the tables."""
    if not Agency.objects.filter(code=Agency.ANALYST_QUEUE_CODE).exists():
        reference_data_load()


@pytest.fixture
def provider(reference_data: None) -> ProviderCredentials:
    return provider_create(name="Example Chat")


@pytest.fixture
def other_provider(reference_data: None) -> ProviderCredentials:
    return provider_create(name="Example Photos")


def api_client_for(credentials: ProviderCredentials) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {credentials.token}")
    return client


@pytest.fixture
def api_client(provider: ProviderCredentials) -> APIClient:
    return api_client_for(provider)


@pytest.fixture(autouse=True)
def _forget_process_caches() -> Iterator[None]:
    """Lists and logins each process remembers for a while, and the cache's counts of
    requests (rate limits), start empty in every test."""
    cache.clear()
    yield
    forget_remembered_logins()
    loaded_anonymizers.forget()
    loaded_routing_table.forget()
    loaded_pdq_index.forget()
    loaded_exact_index.forget()


def run_concurrently(work: Callable[[], T], *, threads: int) -> list[T]:
    """Start ``work`` in ``threads`` threads at the same moment (each with its own database
    connection) and return their results; any exception is raised here."""
    barrier = threading.Barrier(threads)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results
