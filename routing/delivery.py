"""Delivery of referrals to webhook agencies: the referral row is the system of record,
and this module moves it from `pending` to `delivered` (or, after every retry has
failed, to `dead_lettered`).

A worker first claims a due referral with one conditional UPDATE, so two workers never
send the same referral at once; it POSTs the signed JSON outside any transaction, then
records the outcome only if its claim still holds. A worker that dies mid-attempt
leaves a claim that expires, and the sweep hands the referral to another worker: the
receiver may then see the same referral twice, which the stable `X-Tipline-Referral`
id lets it recognise.
"""

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from intake.models import Report
from intake.selectors import report_with_details, triage_record
from routing.models import DeliveryMode, Referral, ReferralEvent
from routing.signing import AGENCY_HEADER, REFERRAL_HEADER, signed_headers

# Longest delay sent to the broker as a countdown; longer ones are left to the sweep, as
# Redis would hand an unacknowledged message to a second worker after the visibility
# timeout.
COUNTDOWN_LIMIT_SECONDS = 300


@dataclass(frozen=True)
class DeliveryOutcome:
    attempted: bool
    delivered: bool = False
    dead_lettered: bool = False
    retry_in: float | None = None


@cache
def http_client() -> httpx.Client:
    """One connection pool per process (created after a worker forks)."""
    return httpx.Client(
        timeout=settings.DELIVERY_TIMEOUT_SECONDS,
        follow_redirects=False,
        headers={"User-Agent": "tipline-referrals/1", "Content-Type": "application/json"},
    )


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failures: exponential backoff
    capped at DELIVERY_RETRY_MAX_SECONDS, with full jitter so a recovering agency is not
    hit by every retry at the same instant."""
    bound = min(
        settings.DELIVERY_RETRY_MAX_SECONDS,
        settings.DELIVERY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    return random.uniform(bound / 2, bound)  # noqa: S311 (jitter, not a secret)


def referral_payload(referral: Referral) -> dict[str, Any]:
    """What an agency receives: the referral and the report's metadata, as staff see it
    (never media, which the system does not have)."""
    report = report_with_details(report_id=referral.report_id, with_referrals=False)
    record = triage_record(report, with_referrals=False)
    record.pop("priorityOverrides")
    record.pop("provider")  # the reporting company is named in the document
    referred_from = (
        Referral.objects.filter(pk=referral.referred_from_id)
        .values_list("agency__code", flat=True)
        .first()
        if referral.referred_from_id
        else None
    )
    return {
        "referralId": referral.pk,
        "agency": referral.agency.code,
        "referredAt": referral.created_at.isoformat(),
        "referredFrom": referred_from,
        "reason": referral.reason or None,
        "report": record,
        "document": report.document,
    }


def referral_deliver(*, referral_id: int) -> DeliveryOutcome:
    """Make one delivery attempt for a pending referral that is due; anything else (not
    due yet, delivered, held by another worker) is left alone. Safe to call any number
    of times, from any number of workers."""
    now = timezone.now()
    claim = now + timedelta(seconds=settings.DELIVERY_TIMEOUT_SECONDS * 3 + 30)
    claimed = (
        Referral.objects.filter(
            pk=referral_id, status=Referral.Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=claim)
    )
    if not claimed:
        return DeliveryOutcome(attempted=False, retry_in=_seconds_until_due(referral_id, now))
    referral = Referral.objects.select_related("agency").get(pk=referral_id)
    agency = referral.agency
    if agency.delivery_mode == DeliveryMode.INBOX:
        # The agency moved to its inbox since the referral was made: the row is the delivery.
        return _record_attempt(referral, claim, delivered=True, http_status=None, detail="")

    body = json.dumps(referral_payload(referral), separators=(",", ":")).encode()
    headers = {
        **signed_headers(secret=agency.webhook_secret, body=body),
        REFERRAL_HEADER: str(referral.pk),
        AGENCY_HEADER: agency.code,
    }
    started = time.monotonic()
    http_status: int | None = None
    try:
        response = http_client().post(agency.webhook_url, content=body, headers=headers)
        http_status = response.status_code
        delivered = 200 <= http_status < 300
        detail = "" if delivered else f"HTTP {http_status}: {response.text[:200]}"
    except httpx.HTTPError as error:
        delivered = False
        detail = f"{type(error).__name__}: {error}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record_attempt(
        referral,
        claim,
        delivered=delivered,
        http_status=http_status,
        detail=detail,
        duration_ms=duration_ms,
    )


def _seconds_until_due(referral_id: int, now: datetime) -> float | None:
    """A message that arrives before its referral's attempt is due (a broker's timer may
    fire a little early) must not be lost: how long until it is due, if it is pending
    and no worker holds it."""
    due = (
        Referral.objects.filter(pk=referral_id, status=Referral.Status.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if due is None or due <= now:
        return None
    return (due - now).total_seconds()


def _record_attempt(
    referral: Referral,
    claim: datetime,
    *,
    delivered: bool,
    http_status: int | None,
    detail: str,
    duration_ms: int | None = None,
) -> DeliveryOutcome:
    now = timezone.now()
    attempts = referral.attempts + 1
    event = ReferralEvent(
        referral=referral, at=now, http_status=http_status, duration_ms=duration_ms, detail=detail
    )
    changes: dict[str, Any] = {"attempts": attempts, "claimed_until": None}
    outcome: DeliveryOutcome
    if delivered:
        event.kind = ReferralEvent.Kind.DELIVERED
        changes |= {"status": Referral.Status.DELIVERED, "delivered_at": now, "last_error": ""}
        outcome = DeliveryOutcome(attempted=True, delivered=True)
    elif attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        event.kind = ReferralEvent.Kind.DEAD_LETTERED
        changes |= {
            "status": Referral.Status.DEAD_LETTERED,
            "dead_lettered_at": now,
            "next_attempt_at": None,
            "last_error": detail,
        }
        outcome = DeliveryOutcome(attempted=True, dead_lettered=True)
    else:
        event.kind = ReferralEvent.Kind.ATTEMPT_FAILED
        delay = retry_delay(attempts)
        changes |= {"next_attempt_at": now + timedelta(seconds=delay), "last_error": detail}
        outcome = DeliveryOutcome(attempted=True, retry_in=delay)
    with transaction.atomic():
        # Only while this worker's claim holds: one that expired belongs to another worker.
        still_ours = (
            Referral.objects.filter(
                pk=referral.pk, status=Referral.Status.PENDING, claimed_until=claim
            ).update(**changes)
            == 1
        )
        event.save()
    if not still_ours:
        return DeliveryOutcome(attempted=True)
    return outcome


def due_delivery_ids(*, limit: int = 1000) -> list[tuple[int, bool]]:
    """Pending referrals whose attempt fell due more than the grace period ago and that no
    worker holds: their message was lost, or their retry was too far off for a
    countdown. Each with whether it is priority 1; priority 1 first, then oldest due."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.DELIVERY_SWEEP_GRACE_SECONDS)
    rows = (
        Referral.objects.filter(status=Referral.Status.PENDING, next_attempt_at__lt=cutoff)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", "report__priority")[:limit]
    )
    due = [(pk, priority == Report.Priority.IMMINENT) for pk, priority in rows]
    return sorted(due, key=lambda item: not item[1])
