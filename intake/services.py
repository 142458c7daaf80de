"""Writes for intake. The public form, the JSON API and the XML interface all go through
here, with documents already validated against intake/schema.py."""

import mimetypes
import secrets
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from rest_framework import status

from config.errors import ApplicationError, reason_required
from intake.accounts import account_with_second_factor_create
from intake.authentication import api_token_create
from intake.encryption import SEALED_SECTIONS
from intake.identifiers import identifiers_in
from intake.models import (
    Bundle,
    IdempotencyKey,
    IpCaptureEvent,
    Provider,
    PublicReceipt,
    Report,
    ReportAddition,
    ReportedFile,
    ReportIdentifier,
)
from intake.priority import provisional_priority
from intake.ratelimit import count_and_wait, wait_if_reached
from intake.receipts import new_receipt_code, receipt_code_hash, receipt_code_matches
from intake.retention import report_lock_unless_purged
from intake.selectors import report_get_for_provider
from intake.uploads import UploadDigest
from routing.tasks import enqueue_routing

# An unfinished report expires 24 hours after it was opened or 1 hour after its last
# change, whichever is later, as the CyberTipline's do.
OPEN_REPORT_LIFETIME = timedelta(hours=24)
OPEN_REPORT_IDLE_LIFETIME = timedelta(hours=1)
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class ProviderCredentials:
    provider: Provider
    username: str
    password: str
    token: str


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


# Staff --------------------------------------------------------------------------------

STAFF_ROLES = ("analyst", "supervisor", "auditor")


@dataclass(frozen=True)
class StaffCredentials:
    username: str
    password: str  # one-time: shown once, stored as Django's password hash
    totp_uri: str  # otpauth:// for an authenticator app, shown once


@transaction.atomic
def staff_user_create(*, username: str, role: str, superuser: bool = False) -> StaffCredentials:
    """A staff member in ``role`` (a group made by intake/migrations/0009) with a password
    and a TOTP device, both to be handed over once: the admin needs both to sign in."""
    if role not in STAFF_ROLES:
        raise ApplicationError(
            f"Unknown role {role!r}: choose one of {', '.join(STAFF_ROLES)}.", code="invalid"
        )
    account = account_with_second_factor_create(
        username=username, is_staff=True, is_superuser=superuser
    )
    account.user.groups.add(Group.objects.get(name=role))
    return StaffCredentials(
        username=account.user.username, password=account.password, totp_uri=account.totp_uri
    )


# Reports ------------------------------------------------------------------------------


def first_value(items: list[Any] | None) -> str:
    """The text of the first of a repeatable element (``{"value": ...}`` or plain)."""
    if not items:
        return ""
    item = items[0]
    return str(item.get("value", "")) if isinstance(item, Mapping) else str(item)


def stated_country(document: Mapping[str, Any], *, source: str) -> str:
    """The country the report itself names: where the provider estimates the reported
    person is, else where the victim is; for a member of the public, else where they are."""
    for section in ("personOrUserReported", "victim"):
        for party in document.get(section, []):
            country = party.get("estimatedLocation", {}).get("countryCode")
            if country:
                return str(country)
    if source == Report.Source.PUBLIC:
        for address in document.get("reporter", {}).get("reportingPerson", {}).get("address", []):
            if address.get("country"):
                return str(address["country"])
    return ""


def report_columns(document: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """The columns that search, categorization and routing need, copied from the document."""
    summary = document["incidentSummary"]
    reporting_person = document.get("reporter", {}).get("reportingPerson", {})
    name = " ".join(
        part
        for part in (reporting_person.get("firstName"), reporting_person.get("lastName"))
        if part
    )
    return {
        "incident_type": summary["incidentType"],
        "incident_datetime": parse_datetime(summary["incidentDateTime"]),
        "incident_datetime_description": summary.get("incidentDateTimeDescription", ""),
        "escalate_to_high_priority": summary.get("escalateToHighPriority", ""),
        "description": document.get("additionalInfo", ""),
        "reporter_name": name[:200],
        "reporter_email": first_value(reporting_person.get("email")),
        "reporter_phone": first_value(reporting_person.get("phone"))[:40],
        "stated_country": stated_country(document, source=source),
    }


def ip_capture_events_in(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every IP capture event in a report document, with the role of who was seen."""
    roles = (
        ("personOrUserReported", IpCaptureEvent.Role.REPORTED_PERSON),
        ("intendedRecipient", IpCaptureEvent.Role.INTENDED_RECIPIENT),
        ("victim", IpCaptureEvent.Role.VICTIM),
    )
    for section, role in roles:
        for party in document.get(section, []):
            yield from ((role, event) for event in party.get("ipCaptureEvent", []))
            for account in party.get("associatedAccount", []):
                yield from ((role, event) for event in account.get("ipCaptureEvent", []))
    for details in document.get("internetDetails", []):
        for event in details.get("peer2peerIncident", {}).get("ipCaptureEvent", []):
            yield IpCaptureEvent.Role.PEER_TO_PEER, event


def ip_capture_event(
    event: Mapping[str, Any], *, report: Report, role: str, file: ReportedFile | None = None
) -> IpCaptureEvent:
    date_time = event.get("dateTime")
    return IpCaptureEvent(
        report=report,
        file=file,
        role=role,
        ip_address=event["ipAddress"],
        event_name=event.get("eventName", ""),
        date_time=parse_datetime(date_time) if date_time else None,
        possible_proxy=event.get("possibleProxy"),
        port=event.get("port"),
    )


def searchable_identifiers(report: Report) -> list[ReportIdentifier]:
    """The screen names, emails, phones and web addresses the report names, each once, for
    staff search: those of the people it is about, never the reporter's own (kept only
    encrypted)."""
    named = {key: value for key, value in report.document.items() if key not in SEALED_SECTIONS}
    unique = dict.fromkeys(identifiers_in(named))
    return [ReportIdentifier(report=report, kind=kind, value=value) for kind, value in unique]


def report_build(*, document: Mapping[str, Any], provider: Provider | None) -> Report:
    source = Report.Source.PROVIDER if provider else Report.Source.PUBLIC
    report = Report(
        source=source,
        provider=provider,
        document=dict(document),
        **report_columns(document, source=source),
    )
    report.provisional_priority = provisional_priority(report)
    return report


@transaction.atomic
def report_open(*, document: Mapping[str, Any], provider: Provider | None = None) -> Report:
    """Save a new open report: a provider's when ``provider`` is given, a member of the
    public's otherwise. ``document`` is a report validated against intake/schema.py."""
    report = report_build(document=document, provider=provider)
    report.save()
    IpCaptureEvent.objects.bulk_create(
        ip_capture_event(event, report=report, role=role)
        for role, event in ip_capture_events_in(document)
    )
    ReportIdentifier.objects.bulk_create(searchable_identifiers(report))
    return report


def refuse_unless_open(report: Report) -> None:
    if report.status == Report.Status.OPEN:
        return
    if report.status == Report.Status.EXPIRED:
        raise ApplicationError(
            f"Report {report.pk} expired before it was finished.",
            code="not_found",
            http_status=status.HTTP_404_NOT_FOUND,
        )
    raise ApplicationError(
        f"Report {report.pk} is already {report.status}.",
        code=f"already_{report.status}",
        http_status=status.HTTP_409_CONFLICT,
    )


def report_lock(report: Report) -> Report:
    """The report, re-read under a row lock, refused unless it is still open."""
    locked = Report.objects.select_for_update().get(pk=report.pk)
    refuse_unless_open(locked)
    return locked


def touch(report: Report) -> None:
    """Record a change to an open report (which postpones its expiry)."""
    report.updated_at = timezone.now()
    report.save(update_fields=["updated_at"])


def report_finish(*, report_id: int, provider: Provider | None) -> list[str]:
    """Close the provider's open report to changes, enqueue its routing once that is
    committed, and return the ids of its files. Finishing a report that is not open is
    refused; another provider's report is answered as one that does not exist."""
    now = timezone.now()
    # One conditional update claims the report: no read, no lock held across round trips.
    claimed = Report.objects.filter(
        pk=report_id, provider=provider, status=Report.Status.OPEN
    ).update(status=Report.Status.FINISHED, finished_at=now, updated_at=now)
    if not claimed:
        refuse_unless_open(report_get_for_provider(provider=provider, report_id=report_id))
    urgent = Report.objects.filter(pk=report_id, provisional_priority="1").exists()
    transaction.on_commit(lambda: enqueue_routing([report_id], urgent=urgent))
    return list(
        ReportedFile.objects.filter(report_id=report_id)
        .order_by("pk")
        .values_list("file_id", flat=True)
    )


@transaction.atomic
def report_retract(*, report: Report) -> Report:
    """Withdraw an open report. A finished report cannot be retracted."""
    report = report_lock(report)
    now = timezone.now()
    report.status = Report.Status.RETRACTED
    report.retracted_at = report.updated_at = now
    report.save(update_fields=["status", "retracted_at", "updated_at"])
    return report


@dataclass(frozen=True)
class PublicSubmission:
    report: Report
    receipt_code: str  # shown to the reporter once; only its hash is kept


@transaction.atomic
def report_submit_public(*, document: Mapping[str, Any]) -> PublicSubmission:
    """Open and finish a member of the public's report in one step, with a new receipt
    code for it."""
    report = report_open(document=document)
    report_finish(report_id=report.pk, provider=None)
    report.refresh_from_db()
    code = new_receipt_code()
    PublicReceipt.objects.create(report=report, code_hash=receipt_code_hash(code))
    return PublicSubmission(report=report, receipt_code=code)


@dataclass(frozen=True)
class ReceiptCheck:
    report: Report | None  # when the number and code match
    retry_after: int | None = None  # when there were too many wrong codes


def public_report_unlock(*, client: str, report_id: int, code: str) -> ReceiptCheck:
    """The report a member of the public has the receipt code of. Wrong codes are counted
    per client and per report number; past either limit nothing is checked until the
    window ends, so a 16-digit code cannot be guessed."""
    limits = [
        (f"receipt:client:{client}", settings.PUBLIC_STATUS_FAILURES_PER_HOUR, 3600),
        (f"receipt:report:{report_id}", settings.PUBLIC_STATUS_FAILURES_PER_REPORT_PER_DAY, 86400),
    ]
    for name, limit, window in limits:
        wait = wait_if_reached(name, limit=limit, window=window)
        if wait:
            return ReceiptCheck(report=None, retry_after=wait)
    receipt = (
        PublicReceipt.objects.select_related("report")
        .filter(report_id=report_id, report__source=Report.Source.PUBLIC)
        .first()
    )
    if receipt is None or not receipt_code_matches(code, receipt.code_hash):
        for name, limit, window in limits:
            count_and_wait(name, limit=limit, window=window)
        return ReceiptCheck(report=None)
    return ReceiptCheck(report=receipt.report)


@transaction.atomic
def report_addition_add(*, report: Report, text: str) -> ReportAddition:
    """What a member of the public adds to their report after sending it; refused once the
    report's personal data was purged."""
    report_lock_unless_purged(report_id=report.pk)
    return ReportAddition.objects.create(report=report, text=text)


def reports_expire() -> int:
    """Mark expired every open report past its lifetime; return how many."""
    now = timezone.now()
    return Report.objects.filter(
        status=Report.Status.OPEN,
        received_at__lt=now - OPEN_REPORT_LIFETIME,
        updated_at__lt=now - OPEN_REPORT_IDLE_LIFETIME,
    ).update(status=Report.Status.EXPIRED, expired_at=now, updated_at=now)


def idempotency_keys_purge() -> int:
    cutoff = timezone.now() - IDEMPOTENCY_KEY_LIFETIME
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# Files --------------------------------------------------------------------------------

HASH_COLUMNS = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "PDQ": "pdq"}


def new_file_id() -> str:
    return uuid.uuid4().hex


def hashes_from_details(details: Mapping[str, Any]) -> dict[str, str]:
    """``{"md5": ..., "sha1": ..., "sha256": ...}`` from a fileDetails' originalFileHash list."""
    columns: dict[str, str] = {}
    for entry in details.get("originalFileHash", []):
        column = HASH_COLUMNS.get(str(entry.get("hashType", "")).upper())
        if column and column not in columns:
            columns[column] = str(entry["value"]).lower()
    return columns


def file_ip_capture_events(file: ReportedFile, details: Mapping[str, Any]) -> None:
    event = details.get("ipCaptureEvent")
    if event:
        ip_capture_event(event, report=file.report, role=IpCaptureEvent.Role.FILE, file=file).save()


@transaction.atomic
def report_file_upload(*, report: Report, upload: UploadDigest) -> ReportedFile:
    """Record an uploaded file by its digests, size and sniffed type. Its bytes were
    hashed in transit and are gone."""
    report = report_lock(report)
    touch(report)
    return ReportedFile.objects.create(
        report=report,
        file_id=new_file_id(),
        source=ReportedFile.Source.UPLOAD,
        file_name=upload.file_name[:2056],
        media_type=upload.media_type,
        mime_type=upload.mime_type,
        size_bytes=upload.size,
        md5=upload.md5,
        sha1=upload.sha1,
        sha256=upload.sha256,
    )


@transaction.atomic
def report_file_details_set(
    *, report: Report, file_id: str, details: Mapping[str, Any]
) -> ReportedFile:
    """Attach a fileDetails document to an uploaded file. A file's details are sent once."""
    report = report_lock(report)
    file = ReportedFile.objects.select_for_update().filter(report=report, file_id=file_id).first()
    if file is None:
        raise ApplicationError(
            f"File {file_id} does not exist in report {report.pk}.",
            code="file_not_found",
            http_status=status.HTTP_404_NOT_FOUND,
        )
    if file.details is not None:
        raise ApplicationError(
            f"The details of file {file_id} were already sent.",
            code="details_already_sent",
            http_status=status.HTTP_409_CONFLICT,
        )
    file.details = dict(details)
    file.details_received_at = timezone.now()
    file.file_name = file.file_name or str(details.get("fileName", ""))[:2056]
    file.pdq = file.pdq or hashes_from_details(details).get("pdq", "")
    file.save(update_fields=["details", "details_received_at", "file_name", "pdq"])
    file_ip_capture_events(file, details)
    touch(report)
    return file


def media_type_from_name(file_name: str) -> tuple[str, str]:
    """(media type, MIME type) guessed from a file's name, for files known only by hashes."""
    mime_type = mimetypes.guess_type(file_name)[0] or ""
    family = mime_type.split("/", 1)[0]
    return (family if family in {"image", "video"} else ReportedFile.MediaType.OTHER), mime_type


def reported_file_build(*, report: Report, details: Mapping[str, Any]) -> ReportedFile:
    file_name = str(details.get("fileName") or details.get("originalFileName") or "")[:2056]
    media_type, mime_type = media_type_from_name(file_name)
    return ReportedFile(
        report=report,
        file_id=new_file_id(),
        source=ReportedFile.Source.METADATA,
        file_name=file_name,
        media_type=media_type,
        mime_type=mime_type,
        details=dict(details),
        details_received_at=timezone.now(),
        **hashes_from_details(details),
    )


@transaction.atomic
def report_file_add(*, report: Report, details: Mapping[str, Any]) -> ReportedFile:
    """Record a file the provider describes by its hashes (no bytes)."""
    report = report_lock(report)
    touch(report)
    file = reported_file_build(report=report, details=details)
    file.save()
    file_ip_capture_events(file, details)
    return file


@transaction.atomic
def reports_submit_bulk(
    *, provider: Provider, items: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]]
) -> list[Report]:
    """Open and finish many complete reports at once: each item is a report document and
    the file metadata it carries. Written with a handful of bulk inserts."""
    now = timezone.now()
    reports = [report_build(document=document, provider=provider) for document, _ in items]
    for report in reports:
        report.status = Report.Status.FINISHED
        report.finished_at = now
    Report.objects.bulk_create(reports)
    files: list[ReportedFile] = []
    events: list[IpCaptureEvent] = []
    for report, (document, file_details) in zip(reports, items, strict=True):
        events += (
            ip_capture_event(event, report=report, role=role)
            for role, event in ip_capture_events_in(document)
        )
        files += (reported_file_build(report=report, details=details) for details in file_details)
    ReportedFile.objects.bulk_create(files)
    events += (
        ip_capture_event(
            file.details["ipCaptureEvent"],
            report=file.report,
            role=IpCaptureEvent.Role.FILE,
            file=file,
        )
        for file in files
        if file.details and file.details.get("ipCaptureEvent")
    )
    IpCaptureEvent.objects.bulk_create(events)
    ReportIdentifier.objects.bulk_create(
        identifier for report in reports for identifier in searchable_identifiers(report)
    )
    urgent_ids = [report.pk for report in reports if report.provisional_priority == "1"]
    other_ids = [report.pk for report in reports if report.provisional_priority != "1"]

    def enqueue() -> None:
        if urgent_ids:
            enqueue_routing(urgent_ids, urgent=True)
        if other_ids:
            enqueue_routing(other_ids)

    transaction.on_commit(enqueue)
    return reports


@transaction.atomic
def report_priority_override(*, report: Report, priority: str, reason: str, user: User) -> Report:
    """Set a report's priority by hand. The reason is required and kept, with who, when
    and the priority before, in ``priority_overrides``; the reasons shown become the
    staff member's."""
    if priority not in Report.Priority.values:
        raise ApplicationError(
            f"{priority!r} is not a priority.",
            fields={"priority": [f"One of {Report.Priority.values}."]},
        )
    reason = reason_required(reason)
    report = Report.objects.select_for_update().get(pk=report.pk)
    report.priority_overrides = [
        *report.priority_overrides,
        {
            "by": user.get_username(),
            "at": timezone.now().isoformat(),
            "from": report.priority,
            "to": priority,
            "reason": reason.strip(),
        },
    ]
    report.priority = priority
    report.priority_reasons = [f"Set by staff ({user.get_username()}): {reason.strip()}"]
    report.save(update_fields=["priority", "priority_reasons", "priority_overrides", "updated_at"])
    return report


# Triage by staff ----------------------------------------------------------------------


@transaction.atomic
def report_mark_reviewed(*, report: Report, reason: str, user: User) -> Report:
    """Staff have looked at the report and decided what it needs."""
    reason_required(reason)
    report = Report.objects.select_for_update().get(pk=report.pk)
    report.reviewed_at = report.updated_at = timezone.now()
    report.reviewed_by = user.get_username()
    report.save(update_fields=["reviewed_at", "reviewed_by", "updated_at"])
    return report


@transaction.atomic
def report_bundle_set(*, report: Report, bundle: Bundle | None, reason: str) -> Report:
    """Put the report in ``bundle`` (or in none), keeping the bundles' counts right."""
    reason_required(reason)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.bundle_id == (bundle.pk if bundle else None):
        return report
    if report.bundle_id is not None:
        Bundle.objects.filter(pk=report.bundle_id).update(report_count=F("report_count") - 1)
    if bundle is not None:
        Bundle.objects.filter(pk=bundle.pk).update(report_count=F("report_count") + 1)
    report.bundle = bundle
    report.updated_at = timezone.now()
    report.save(update_fields=["bundle", "updated_at"])
    return report


@transaction.atomic
def report_retract_for_provider(*, report: Report, reason: str) -> Report:
    """Staff withdraw a finished report because its provider asked (the provider itself
    can only retract a report it has not finished)."""
    reason_required(reason)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.source != Report.Source.PROVIDER or report.status != Report.Status.FINISHED:
        raise ApplicationError(
            "Only a provider's finished report can be retracted at its request.",
            code="not_retractable",
            http_status=status.HTTP_409_CONFLICT,
        )
    report.status = Report.Status.RETRACTED
    report.retracted_at = report.updated_at = timezone.now()
    report.save(update_fields=["status", "retracted_at", "updated_at"])
    return report
