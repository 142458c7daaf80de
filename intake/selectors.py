"""Reads for intake."""

from typing import Any

from rest_framework import status

from config.errors import ApplicationError
from intake.models import Provider, Report


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


def report_triage_record(*, report_id: int) -> dict[str, Any]:
    """Everything staff need to see about a report, as plain JSON-ready data.
    Raises Report.DoesNotExist for an unknown id."""
    report = (
        Report.objects.select_related("provider", "bundle")
        .prefetch_related("ip_capture_events", "files__known_hash", "referrals__agency")
        .get(pk=report_id)
    )

    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
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
        "referrals": [
            {
                "agency": referral.agency.code,
                "agencyName": referral.agency.name,
                "country": referral.agency.country_id,
                "channel": referral.agency.channel,
                "status": referral.status,
                "createdAt": iso(referral.created_at),
                "deliveredAt": iso(referral.delivered_at),
            }
            for referral in sorted(report.referrals.all(), key=lambda r: r.created_at)
        ],
    }
