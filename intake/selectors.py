"""Reads for intake."""

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework import status

from config.errors import ApplicationError
from intake.models import Provider, Report
from routing.models import Channel


def report_not_found() -> ApplicationError:
    return ApplicationError(
        "Report does not exist.", code="not_found", http_status=status.HTTP_404_NOT_FOUND
    )


def report_get_for_provider(*, provider: Provider | None, report_id: int) -> Report:
    """The provider's own report (a member of the public's, when ``provider`` is None).
    Another provider's report is answered exactly like one that does not exist."""
    report = Report.objects.filter(pk=report_id, provider=provider).first()
    if report is None:
        raise report_not_found()
    return report


def iso(value: Any) -> str | None:
    return value.isoformat() if value else None


REFERRAL_HISTORY = (
    "referrals__agency",
    "referrals__referred_from__agency",
    "referrals__events__by_user",
    "referrals__events__by_agency",
)


def report_triage_record(*, report_id: int) -> dict[str, Any]:
    """Everything staff need to see about a report, as plain JSON-ready data.
    Raises Report.DoesNotExist for an unknown id."""
    return triage_record(report_with_details(report_id=report_id), with_referrals=True)


def report_with_details(*, report_id: int, with_referrals: bool = True) -> Report:
    """A report with what its triage record shows, in a few queries."""
    return with_details(with_referrals).get(pk=report_id)


def reports_with_details(
    *, report_ids: Sequence[int], with_referrals: bool = True
) -> dict[int, Report]:
    """Reports with what their triage records show, by id, in as few queries as one."""
    return {
        report.pk: report for report in with_details(with_referrals).filter(pk__in=set(report_ids))
    }


def with_details(with_referrals: bool) -> QuerySet[Report]:
    return Report.objects.select_related("provider", "bundle").prefetch_related(
        "ip_capture_events", "files__known_hash", *(REFERRAL_HISTORY if with_referrals else ())
    )


def triage_record(report: Report, *, with_referrals: bool) -> dict[str, Any]:
    """``report`` (from report_with_details) as plain JSON-ready data; without its
    referrals when ``with_referrals`` is false (what an agency is sent)."""

    record = {
        "reportId": report.pk,
        "source": report.source,
        "provider": report.provider.name if report.provider else None,
        "status": report.status,
        "incidentType": report.incident_type,
        "incidentDateTime": iso(report.incident_datetime),
        "statedCountry": report.stated_country or None,
        "country": report.resolved_country or None,
        "countryConfidence": report.country_confidence or None,
        "state": report.us_state or None,
        "locationRule": report.location.get("rule"),
        "candidateCountries": report.location.get("candidates", []),
        "locationEvidence": report.location.get("evidence", []),
        "priority": report.priority or None,
        "priorityReasons": report.priority_reasons,
        "priorityOverrides": report.priority_overrides,
        "contentStatus": report.content_status or None,
        "bundle": (
            {"bundleId": report.bundle.pk, "reports": report.bundle.report_count}
            if report.bundle
            else None
        ),
        "receivedAt": iso(report.received_at),
        "finishedAt": iso(report.finished_at),
        "routedAt": iso(report.routed_at),
        "ipCaptureEvents": [
            {
                "ipAddress": event.ip_address,
                "eventName": event.event_name or None,
                "dateTime": iso(event.date_time),
                "possibleProxy": event.possible_proxy,
            }
            for event in sorted(report.ip_capture_events.all(), key=lambda event: event.pk)
        ],
        "files": [
            {
                "fileId": file.file_id,
                "fileName": file.file_name,
                "mediaType": file.media_type,
                "sizeBytes": file.size_bytes,
                "md5": file.md5 or None,
                "sha1": file.sha1 or None,
                "sha256": file.sha256 or None,
                "pdq": file.pdq or None,
                "knownMatch": (
                    {
                        "entry": file.known_hash.pk,
                        "label": file.known_hash.label,
                        "distance": file.match_distance,
                    }
                    if file.known_hash
                    else None
                ),
                "timesSeenBefore": file.times_seen_before,
            }
            for file in sorted(report.files.all(), key=lambda file: file.pk)
        ],
    }
    if with_referrals:
        record["referrals"] = referral_history(report)
    return record


def referral_history(report: Report) -> list[dict[str, Any]]:
    """Each referral of ``report`` (prefetched with REFERRAL_HISTORY) with its times,
    delivery attempts and every step of its history."""
    return [
        {
            "referralId": referral.pk,
            "agency": referral.agency.code,
            "agencyName": referral.agency.name,
            "country": referral.agency.country_id,
            "state": referral.agency.us_state or None,
            "channel": referral.agency.channel,
            "deliveryMode": referral.agency.delivery_mode,
            "status": referral.status,
            "referredFrom": (
                referral.referred_from.agency.code if referral.referred_from else None
            ),
            "reason": referral.reason or None,
            # Timings: the report's received/finished/routed times are above.
            "createdAt": iso(referral.created_at),
            "deliveredAt": iso(referral.delivered_at),
            "acknowledgedAt": iso(referral.acknowledged_at),
            "closedAt": iso(referral.closed_at),
            "deadLetteredAt": iso(referral.dead_lettered_at),
            # Webhook delivery attempts (each timed); an inbox delivery needs none.
            "attempts": sum(event.duration_ms is not None for event in referral.events.all()),
            "nextAttemptAt": iso(referral.next_attempt_at),
            "lastError": referral.last_error or None,
            "history": [
                {
                    "event": event.kind,
                    "at": iso(event.at),
                    "by": (
                        event.by_user.get_username()
                        if event.by_user
                        else event.by_agency.code
                        if event.by_agency
                        else None
                    ),
                    "httpStatus": event.http_status,
                    "durationMs": event.duration_ms,
                    "detail": event.detail or None,
                }
                for event in referral.events.all()
            ],
        }
        for referral in sorted(report.referrals.all(), key=lambda r: (r.created_at, r.pk))
    ]


PUBLIC_STATUS_RECEIVED = "received"
PUBLIC_STATUS_IN_REVIEW = "in_review"
PUBLIC_STATUS_REFERRED = "referred"


def public_report_status(report: Report) -> str:
    """Where a member of the public's report is, in the terms they are told (never which
    agency has it): received, being reviewed by staff (with the analysts), or made
    available to law enforcement (delivered to an agency)."""
    channels = set(
        report.referrals.filter(delivered_at__isnull=False).values_list(
            "agency__channel", flat=True
        )
    )
    if channels - {Channel.ANALYST}:
        return PUBLIC_STATUS_REFERRED
    if channels:
        return PUBLIC_STATUS_IN_REVIEW
    return PUBLIC_STATUS_RECEIVED
