"""Retention: the personal data of a closed report is purged once it has been closed for
PERSONAL_DATA_RETENTION_DAYS (0: never). What the figures, routing and the record of what
was done need stays; who anyone was, and what anyone wrote, goes.

A report is closed when no referral of it still current (not referred on) has an open case,
and it was retracted, expired, or finished with at least one case closed: a report retracted
while an agency works on it stays open until the agency closes its case. It closed at the
latest of its retraction or expiry and the closing of those referrals' cases (their
case-status events).

Purged: the reporter's contact details; the report's free text (description, when it
happened in words, a provider's reason for escalating, also where a priority reason
quotes it); every section of the document but the incident type, date and annotations
(people, accounts, addresses, web addresses, IP addresses, law-enforcement contacts); what
each piece of location evidence said (its source, country and weight stay); IP capture
events; the identifiers indexed for search; the reporter's additions; the public receipt
(so nothing can be added to the report any more); file names and file details other than
hashes, annotations and classification (EXIF, device ids, locations, IP events); the
report's notices to providers: their targets, reason, the provider's answer reason, the
reason for closing, and each notice event's detail (their type, status, answer and times
stay).

Kept: source, provider, status and every time; incident type and date; stated and resolved
country, confidence and U.S. state; priority, its reasons and staff overrides; content
status and bundle; each file's hashes, type, size and known-hash match; referrals, their
events and the agencies' notes (the agencies' own case records); the audit trail."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import status

from config.bulk import bulk_update_rows
from config.errors import ApplicationError
from intake.audit import audit_record
from intake.models import (
    AuditEntry,
    IpCaptureEvent,
    PublicReceipt,
    Report,
    ReportAddition,
    ReportedFile,
    ReportIdentifier,
)
from intake.priority import PROVIDER_ESCALATION_REASON
from routing.models import CaseStatus, Notice, NoticeEvent, Referral, ReferralEvent

logger = logging.getLogger(__name__)
PURGE_BATCH_SIZE = 500
# A run starts no batch after this long, well within the daily task's soft time limit
# (intake/tasks.py); the next run purges the rest.
PURGE_TIME_BUDGET_SECONDS = 300.0
CLOSED_CASE_STATUSES = [
    CaseStatus.CLOSED_NO_JURISDICTION,
    CaseStatus.CLOSED_INSUFFICIENT,
    CaseStatus.CLOSED_ACTION_TAKEN,
]
PURGED = "[purged]"
KEPT_INCIDENT_SUMMARY = ("incidentType", "reportAnnotations", "incidentDateTime")
KEPT_FILE_DETAILS = (
    "uploadedToEspTimestamp",
    "fileViewedByEsp",
    "exifViewedByEsp",
    "publiclyAvailable",
    "fileRelevance",
    "fileAnnotations",
    "industryClassification",
    "originalFileHash",
)
PURGED_REPORT_FIELDS = [
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "description",
    "incident_datetime_description",
    "escalate_to_high_priority",
    "document",
    "location",
    "priority_reasons",
    "personal_data_purged_at",
    "updated_at",
]


def reports_due_for_purge(*, closed_before: dt.datetime) -> QuerySet[Report]:
    """The reports not yet purged that closed before ``closed_before``."""
    current = Referral.objects.filter(report=OuterRef("pk")).exclude(
        status=Referral.Status.RE_REFERRED
    )
    closings = ReferralEvent.objects.filter(
        referral__report=OuterRef("pk"),
        kind=ReferralEvent.Kind.CASE_STATUS,
        detail__in=CLOSED_CASE_STATUSES,
    ).exclude(referral__status=Referral.Status.RE_REFERRED)
    ended = (
        Q(status=Report.Status.RETRACTED, retracted_at__lt=closed_before)
        | Q(status=Report.Status.EXPIRED, expired_at__lt=closed_before)
        | (Q(status=Report.Status.FINISHED) & Exists(closings.filter(at__lt=closed_before)))
    )
    # Whatever its status: no case still open, none closed since.
    cases_closed = ~Exists(current.exclude(case_status__in=CLOSED_CASE_STATUSES)) & ~Exists(
        closings.filter(at__gte=closed_before)
    )
    return Report.objects.filter(
        personal_data_purged_at__isnull=True, received_at__lt=closed_before
    ).filter(ended & cases_closed)


def purge_candidates(
    *, closed_before: dt.datetime, after: int, up_to: int, limit: int
) -> list[int]:
    """The ids of the first ``limit`` reports due for purging (reports_due_for_purge) with
    an id above ``after`` and at most ``up_to``, in id order. A run asks with ``after`` the
    last id of its previous batch, so it never reads a report twice: it walks the reports
    not purged yet once, by the index report_not_purged_idx, from the oldest on."""
    due = reports_due_for_purge(closed_before=closed_before)
    return list(
        due.filter(pk__gt=after, pk__lte=up_to).order_by("pk").values_list("pk", flat=True)[:limit]
    )


def last_report_received_before(moment: dt.datetime) -> int:
    """The id of the last report received before ``moment`` (0: none). No report after it
    can have closed before ``moment``, since ids follow receipt: a purge stops there rather
    than walk the reports still within their retention. (Two reports received within
    milliseconds of each other may take their ids in the other order; one of those just
    past the bound is purged by the next day's run.)"""
    last = (
        Report.objects.filter(received_at__lt=moment)
        .order_by("-received_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return last or 0


def refuse_if_purged(report_id: int, *, purged_at: dt.datetime | None) -> None:
    """Refuse a change that would reopen, refer on or add to a report whose personal data
    was purged (the report, and what it was about, are gone)."""
    if purged_at is not None:
        raise ApplicationError(
            f"Report {report_id} is closed and its personal data was purged "
            f"({purged_at:%Y-%m-%d}): it cannot be reopened, referred on or added to.",
            code="personal_data_purged",
            http_status=status.HTTP_409_CONFLICT,
        )


def report_locked_purged_at(*, report_id: int) -> dt.datetime | None:
    """Lock the report's row (inside a transaction) and say when its personal data was
    purged (None: it was not). A purge locks the row too, so a change made under this lock
    either comes first, and the purge sees it, or comes after, and sees the purge."""
    return (
        Report.objects.select_for_update()
        .filter(pk=report_id)
        .values_list("personal_data_purged_at", flat=True)
        .get()
    )


def report_lock_unless_purged(*, report_id: int) -> None:
    """Lock the report's row (report_locked_purged_at), refused if it was purged."""
    refuse_if_purged(report_id, purged_at=report_locked_purged_at(report_id=report_id))


def document_without_personal_data(document: Mapping[str, Any]) -> dict[str, Any]:
    """What a purged report's document keeps: the incident's type, date and annotations,
    and whether the provider sent it as part of a batch."""
    summary = document.get("incidentSummary", {})
    kept: dict[str, Any] = {}
    if "batchedReport" in document:
        kept["batchedReport"] = document["batchedReport"]
    kept["incidentSummary"] = {key: summary[key] for key in KEPT_INCIDENT_SUMMARY if key in summary}
    return kept


def location_without_personal_data(location: Mapping[str, Any]) -> dict[str, Any]:
    """The location with what each piece of evidence said (an IP or postal address) left out."""
    if not location:
        return {}
    return {
        **location,
        "evidence": [{**item, "value": ""} for item in location.get("evidence", [])],
    }


def file_details_without_personal_data(details: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {key: details[key] for key in KEPT_FILE_DETAILS if key in details}


def reason_without_personal_data(reason: str) -> str:
    """A priority reason, with the provider's own words left out where it quotes them."""
    if reason.startswith(PROVIDER_ESCALATION_REASON):
        return PROVIDER_ESCALATION_REASON + PURGED
    return reason


def reports_purge(*, report_ids: Sequence[int], now: dt.datetime) -> None:
    """Purge the personal data of the reports ``report_ids`` (see the module's docstring).
    Call inside a transaction, with the reports locked. Nothing encrypted is decrypted:
    what goes is overwritten, and what stays is read as stored, so a value no key can read
    any more is purged like any other."""
    rows = Report.objects.filter(pk__in=report_ids).values_list(
        "pk",
        "source",
        "escalate_to_high_priority",
        "priority_reasons",
        "location",
        Cast("document", output_field=models.TextField()),
    )
    reports = []
    for pk, source, escalation, reasons, location, document in rows:
        # A provider's reason for escalating is its own words (a member of the public only
        # ticks a box, whose fixed sentence stays).
        if source == Report.Source.PROVIDER and escalation:
            escalation = ""
            reasons = [reason_without_personal_data(reason) for reason in reasons]
        reports.append(
            Report(
                pk=pk,
                reporter_name="",
                reporter_email="",
                reporter_phone="",
                description="",
                incident_datetime_description="",
                escalate_to_high_priority=escalation,
                document=document_without_personal_data(json.loads(document or "{}")),
                location=location_without_personal_data(location),
                priority_reasons=reasons,
                personal_data_purged_at=now,
                updated_at=now,
            )
        )
    bulk_update_rows(reports, PURGED_REPORT_FIELDS)
    files = list(ReportedFile.objects.filter(report_id__in=report_ids))
    for file in files:
        file.file_name = ""
        file.details = file_details_without_personal_data(file.details)
    bulk_update_rows(files, ["file_name", "details"])
    for model in (IpCaptureEvent, ReportIdentifier, ReportAddition, PublicReceipt):
        model.objects.filter(report_id__in=report_ids).delete()
    # A text left empty stays empty: there was nothing to purge.
    Notice.objects.filter(report_id__in=report_ids).update(
        targets=[],
        reason=PURGED,
        answer_reason=purged_unless_empty("answer_reason"),
        close_reason=purged_unless_empty("close_reason"),
    )
    NoticeEvent.objects.filter(notice__report_id__in=report_ids).exclude(detail="").update(
        detail=PURGED
    )


def purged_unless_empty(field: str) -> models.Case:
    return models.Case(
        models.When(**{field: ""}, then=models.Value("")),
        default=models.Value(PURGED),
        output_field=models.TextField(),
    )


@dataclass(frozen=True)
class Purge:
    report_ids: list[int]  # purged, or that would be on a dry run
    closed_before: dt.datetime | None  # None: purging is off
    dry_run: bool = False
    complete: bool = True  # False: it stopped at its time budget, the next run goes on


def personal_data_purge(
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    batch_size: int = PURGE_BATCH_SIZE,
    time_budget: float = PURGE_TIME_BUDGET_SECONDS,
) -> Purge:
    """Purge the personal data of every report closed for longer than
    PERSONAL_DATA_RETENTION_DAYS, a batch at a time in id order, each batch looked for past
    the last one: each batch is locked, checked again under the lock (a case reopened or a
    report referred on meanwhile is left), purged and put on the audit trail (one entry
    with its report ids) in one transaction, so no purge goes unrecorded. No batch is
    started once ``time_budget`` seconds have passed: the run is then not ``complete``,
    and the next run purges the rest. A purged report is never purged again, so running it twice
    changes nothing more. ``dry_run``: only say which reports it would purge."""
    days = settings.PERSONAL_DATA_RETENTION_DAYS
    if not days:
        return Purge(report_ids=[], closed_before=None, dry_run=dry_run)
    now = now or timezone.now()
    closed_before = now - dt.timedelta(days=days)
    up_to = last_report_received_before(closed_before)
    if dry_run:
        due = reports_due_for_purge(closed_before=closed_before).filter(pk__lte=up_to)
        report_ids = list(due.order_by("pk").values_list("pk", flat=True))
        return Purge(report_ids=report_ids, closed_before=closed_before, dry_run=True)
    deadline = time.monotonic() + time_budget
    purged: list[int] = []
    after = 0
    while True:
        candidates = purge_candidates(
            closed_before=closed_before, after=after, up_to=up_to, limit=batch_size
        )
        if not candidates:
            return Purge(report_ids=purged, closed_before=closed_before)
        after = candidates[-1]
        with transaction.atomic():
            # Reports another run holds, or a change to their cases, are left to the next run.
            locked = (
                Report.objects.select_for_update(skip_locked=True)
                .filter(pk__in=candidates, personal_data_purged_at__isnull=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            report_ids = list(
                reports_due_for_purge(closed_before=closed_before)
                .filter(pk__in=list(locked))
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if report_ids:
                reports_purge(report_ids=report_ids, now=now)
                audit_record(
                    action=AuditEntry.Action.PERSONAL_DATA_PURGED,
                    detail={
                        "reports": len(report_ids),
                        "report_ids": report_ids,
                        "retention_days": days,
                        "closed_before": closed_before.isoformat(),
                    },
                )
        purged += report_ids
        if len(candidates) < batch_size:
            return Purge(report_ids=purged, closed_before=closed_before)
        if time.monotonic() >= deadline:
            logger.warning(
                "The purge of personal data stopped after its time budget (%.0f s), having "
                "purged %d report(s), up to report %d; the next run purges the rest.",
                time_budget,
                len(purged),
                after,
            )
            return Purge(report_ids=purged, closed_before=closed_before, complete=False)
