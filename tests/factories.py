"""Synthetic reports only: example.com addresses and IPs from public allocations."""

import datetime as dt

import factory
from django.utils import timezone

from intake.models import IncidentType, IpCaptureEvent, Report, ReportedFile

# Addresses from public allocations, by the country their registry delegated them to.
IP_BY_COUNTRY = {
    "GB": "81.2.69.160",
    "DE": "5.9.0.1",
    "KE": "41.90.64.1",
    "PK": "39.32.0.1",
    "AF": "180.94.64.1",
    "US": "3.0.0.1",
    "BR": "200.160.0.8",
}


class ReportFactory(factory.django.DjangoModelFactory[Report]):
    class Meta:
        model = Report

    source = Report.Source.PUBLIC
    incident_type = IncidentType.CHILD_PORNOGRAPHY
    incident_datetime = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    description = "Synthetic test report."

    class Params:
        finished = factory.Trait(
            status=Report.Status.FINISHED, finished_at=factory.LazyFunction(timezone.now)
        )


class IpCaptureEventFactory(factory.django.DjangoModelFactory[IpCaptureEvent]):
    class Meta:
        model = IpCaptureEvent

    report = factory.SubFactory(ReportFactory)
    ip_address = IP_BY_COUNTRY["GB"]
    event_name = IpCaptureEvent.EventName.UPLOAD


class ReportedFileFactory(factory.django.DjangoModelFactory[ReportedFile]):
    class Meta:
        model = ReportedFile

    report = factory.SubFactory(ReportFactory)
    file_id = factory.Sequence(lambda n: f"{n:032x}")
    file_name = factory.Sequence(lambda n: f"file-{n}.jpg")
    media_type = ReportedFile.MediaType.IMAGE
    size_bytes = 123_456
    md5 = factory.Sequence(lambda n: f"{n:032x}")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
