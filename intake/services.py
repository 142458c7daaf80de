"""Writes for intake. Both the public form and the provider API go through here."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from rest_framework import status

from config.errors import ApplicationError
from intake.authentication import token_hash
from intake.models import ApiToken, IpCaptureEvent, Provider, Report
from routing.tasks import route_report


@dataclass(frozen=True)
class IpCaptureEventData:
    ip_address: str
    event_name: str = ""
    date_time: datetime | None = None
    possible_proxy: bool | None = None
    port: int | None = None


@dataclass(frozen=True)
class ReportData:
    incident_type: str
    incident_datetime: datetime
    incident_datetime_description: str = ""
    description: str = ""
    reporter_name: str = ""
    reporter_email: str = ""
    reporter_phone: str = ""
    stated_country: str = ""
    ip_capture_events: Sequence[IpCaptureEventData] = ()


@dataclass(frozen=True)
class ProviderCredentials:
    provider: Provider
    username: str
    password: str
    token: str


def api_token_create(*, user: User) -> str:
    """Make a new API token for ``user`` and return it. Only its hash is stored."""
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=token_hash(token))
    return token


@transaction.atomic
def provider_create(*, name: str) -> ProviderCredentials:
    """Create a provider with a login (for the XML interface) and an API token.
    The password and token are returned once and stored only as hashes."""
    name = name.strip()
    username = slugify(name)[:150]
    if not name or not username:
        raise ApplicationError("A provider needs a name with letters or digits.", code="invalid")
    if Provider.objects.filter(name=name).exists():
        raise ApplicationError(f"A provider named {name!r} already exists.", code="exists")
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ApplicationError(f"The username {username!r} is already taken.", code="exists")
    password = secrets.token_urlsafe(24)
    user = user_model.objects.create_user(username=username, password=password)
    provider = Provider.objects.create(name=name, user=user)
    token = api_token_create(user=user)
    return ProviderCredentials(provider=provider, username=username, password=password, token=token)


@transaction.atomic
def report_open(*, data: ReportData, provider: Provider | None = None) -> Report:
    """Save a new open report with its IP capture events: a provider's report when
    ``provider`` is given, a member of the public's otherwise. ``data`` is already
    validated by the form or serializer in front of this."""
    report = Report.objects.create(
        source=Report.Source.PROVIDER if provider else Report.Source.PUBLIC,
        provider=provider,
        incident_type=data.incident_type,
        incident_datetime=data.incident_datetime,
        incident_datetime_description=data.incident_datetime_description,
        description=data.description,
        reporter_name=data.reporter_name,
        reporter_email=data.reporter_email,
        reporter_phone=data.reporter_phone,
        stated_country=data.stated_country.upper(),
    )
    IpCaptureEvent.objects.bulk_create(
        IpCaptureEvent(
            report=report,
            ip_address=event.ip_address,
            event_name=event.event_name,
            date_time=event.date_time,
            possible_proxy=event.possible_proxy,
            port=event.port,
        )
        for event in data.ip_capture_events
    )
    return report


@transaction.atomic
def report_finish(*, report: Report) -> Report:
    """Close an open report to changes and enqueue its routing once the transaction
    commits. A report can be finished once; finishing it again is refused."""
    now = timezone.now()
    claimed = Report.objects.filter(pk=report.pk, status=Report.Status.OPEN).update(
        status=Report.Status.FINISHED, finished_at=now, updated_at=now
    )
    report.refresh_from_db()
    if not claimed:
        raise ApplicationError(
            f"Report {report.pk} is {report.status} and cannot be finished.",
            code=f"already_{report.status}" if report.status != Report.Status.OPEN else "conflict",
            http_status=status.HTTP_409_CONFLICT,
        )
    report_id = report.pk
    transaction.on_commit(lambda: route_report.delay(report_id))
    return report


@transaction.atomic
def report_submit_public(*, data: ReportData) -> Report:
    """Open and finish a member of the public's report in one step."""
    return report_finish(report=report_open(data=data))
