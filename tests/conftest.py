import importlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from intake.authentication import forget_remembered_logins
from intake.hashes import loaded_exact_index
from intake.models import Report
from intake.pdq import loaded_pdq_index
from intake.services import ProviderCredentials, provider_create, staff_user_create
from routing.anonymizers import loaded_anonymizers
from routing.models import Agency, Referral
from routing.selectors import loaded_routing_table
from routing.services import reference_data_load, report_route
from tests.factories import IP_BY_COUNTRY, IpCaptureEventFactory, ReportFactory

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


ROLE_MIGRATIONS = (
    "routing.migrations.0004_supervisor_group",
    "intake.migrations.0009_staff_roles",
    "routing.migrations.0008_figures_for_analysts_and_supervisors",
    "intake.migrations.0015_hash_sharing",
    "routing.migrations.0010_notice_view_permissions",
    "intake.migrations.0017_withdraw_known_hashes",
)


def ensure_staff_roles() -> None:
    """The staff roles, as their migrations make them; made again after a transactional
    test has emptied the tables."""
    if Group.objects.filter(name="auditor").exists():
        return
    for migration in ROLE_MIGRATIONS:
        for operation in importlib.import_module(migration).Migration.operations:
            if hasattr(operation, "code"):  # its data operations, not its schema changes
                operation.code(django_apps, None)


def referral_in(country: str, priority: str = "3") -> Referral:
    """A finished report resolving to ``country`` (by its IP evidence), routed and
    delivered to that country's agency, at ``priority``."""
    report = ReportFactory.create(finished=True)
    IpCaptureEventFactory.create(report=report, ip_address=IP_BY_COUNTRY[country])
    referral = report_route(report_id=report.pk)
    assert referral is not None
    Report.objects.filter(pk=report.pk).update(priority=priority)
    return referral


@pytest.fixture
def routed_report(reference_data: None) -> Report:
    """A finished report whose IP evidence resolves to Germany, routed there."""
    report = ReportFactory.create(finished=True)
    IpCaptureEventFactory.create(report=report, ip_address=IP_BY_COUNTRY["DE"])
    report_route(report_id=report.pk)
    return Report.objects.get(pk=report.pk)


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


def current_totp(username: str) -> str:
    """The code the staff member's authenticator app shows now."""
    device = TOTPDevice.objects.get(user__username=username)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


def sign_in(client: Client, user: User) -> Client:
    """``client`` signed in as ``user``, past both factors (as if the login form had taken
    the password and a TOTP code from the user's device, made here if it has none)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, defaults={"name": "authenticator", "confirmed": True}
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def signed_in_staff(
    client: Client, role: str, *, username: str = "", superuser: bool = False
) -> Client:
    """``client`` signed in as a new staff member in ``role``."""
    ensure_staff_roles()
    credentials = staff_user_create(username=username or role, role=role, superuser=superuser)
    return sign_in(client, User.objects.get(username=credentials.username))
