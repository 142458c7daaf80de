"""Delivery of referrals to webhook agencies: the referral row is the system of record,
and this module moves it from `pending` to `delivered` (or, after every retry has
failed, to `dead_lettered`).

A worker first claims a due referral with one conditional UPDATE, so two workers never
send the same referral at once; it POSTs the signed JSON outside any transaction, then
records the outcome only if its claim still holds. A worker that dies mid-attempt
leaves a claim that expires, and the sweep hands the referral to another worker: the
receiver may then see the same referral twice, which the stable `X-Tipline-Referral`
id lets it recognise.

Referrals go most urgent first (the report's priority, then oldest first): in a batch, in
the sweep, and when an agency that was failing accepts a referral again, when its other
referrals still waiting out their retries' delays are sent next, at once.
"""

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Case, Q, QuerySet, Value, When
from django.utils import timezone

from config.bulk import bulk_update_rows
from intake.models import Report
from intake.selectors import report_with_details, reports_with_details, triage_record
from routing.models import DeliveryMode, Referral, ReferralEvent
from routing.signing import AGENCY_HEADER, REFERRAL_HEADER, signed_headers

# Longest delay sent to the broker as a countdown; longer ones are left to the sweep, as
# Redis would hand an unacknowledged message to a second worker after the visibility
# timeout.
COUNTDOWN_LIMIT_SECONDS = 300
# Referrals go most urgent first: by their report's priority (1, 2, 3, then informational
# or none), then oldest first.
PRIORITY_RANK = {"1": 0, "2": 1, "3": 2}
LEAST_URGENT_RANK = 3
# How many referrals waiting for an agency that is back one delivery call takes at once.
BACKLOG_TAKEN_AT_ONCE = 100


def most_urgent_first(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    rank = Case(
        *(When(report__priority=priority, then=Value(n)) for priority, n in PRIORITY_RANK.items()),
        default=Value(LEAST_URGENT_RANK),
    )
    return referrals.alias(urgency=rank).order_by("urgency", "created_at", "pk")


def urgency(priority: str, referral: Referral) -> tuple[int, datetime, int]:
    """The sort key of most_urgent_first, for a referral already read."""
    return (PRIORITY_RANK.get(priority, LEAST_URGENT_RANK), referral.created_at, referral.pk)


def unclaimed(now: datetime) -> Q:
    """No worker holds the referral (or its claim has expired)."""
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


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


def referral_payload(referral: Referral, report: Report | None = None) -> dict[str, Any]:
    """What an agency receives: the referral and the report's metadata, as staff see it
    (never media, which the system does not have). ``report`` comes from
    reports_with_details when given."""
    if report is None:
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
    """One delivery attempt for one referral (see referrals_deliver)."""
    return referrals_deliver(referral_ids=[referral_id])[referral_id]


@dataclass
class Attempt:
    """One POST of a referral, timed."""

    referral: Referral
    delivered: bool
    http_status: int | None = None
    detail: str = ""
    duration_ms: int | None = None


# A batch stops POSTing after this long and hands the rest back (as due at once): well
# inside the task's soft time limit (30 s) less one POST's timeout, and inside the claim,
# so no referral is POSTed after its claim could have passed to another worker.
BATCH_SECONDS = 15


def referrals_deliver(*, referral_ids: Sequence[int]) -> dict[int, DeliveryOutcome]:
    """Make one delivery attempt for each pending referral of ``referral_ids`` that is due;
    anything else (not due yet, delivered, held by another worker) is left alone. Safe to
    call any number of times, from any number of workers. The referrals are claimed with
    one UPDATE and their reports read in a few queries; each is POSTed over one
    kept-alive connection and its outcome recorded at once. Those not reached within
    BATCH_SECONDS are released, with an outcome that asks for another attempt now."""
    now = timezone.now()
    started = time.monotonic()
    # A claim of this call's own: its time, a little past the timeout, with random
    # microseconds, so two calls in the same instant do not hold the same claim.
    claim = now + timedelta(
        seconds=settings.DELIVERY_TIMEOUT_SECONDS * 3 + 30,
        microseconds=random.randrange(1_000_000),  # noqa: S311 (not a secret)
    )
    Referral.objects.filter(
        pk__in=referral_ids, status=Referral.Status.PENDING, next_attempt_at__lte=now
    ).filter(unclaimed(now)).update(claimed_until=claim)
    claimed = list(
        most_urgent_first(
            Referral.objects.select_related("agency").filter(
                pk__in=referral_ids, status=Referral.Status.PENDING, claimed_until=claim
            )
        )
    )
    outcomes = {
        referral_id: DeliveryOutcome(attempted=False, retry_in=_seconds_until_due(referral_id, now))
        for referral_id in set(referral_ids) - {referral.pk for referral in claimed}
    }
    reports = reports_with_details(
        report_ids=[referral.report_id for referral in claimed], with_referrals=False
    )
    inbox = [r for r in claimed if r.agency.delivery_mode == DeliveryMode.INBOX]
    webhook = [r for r in claimed if r.agency.delivery_mode != DeliveryMode.INBOX]
    # The agency moved to its inbox since the referral was made: the row is the delivery.
    outcomes.update(_record_attempts([Attempt(r, delivered=True) for r in inbox], claim))
    unreached = []
    agencies_back: set[int] = set()
    position = 0
    while position < len(webhook):
        referral = webhook[position]
        position += 1
        if time.monotonic() - started > BATCH_SECONDS:
            unreached.append(referral.pk)
            continue
        attempt = _post(referral, reports[referral.report_id])
        outcomes.update(_record_attempts([attempt], claim))
        if attempt.delivered and referral.agency_id not in agencies_back:
            agencies_back.add(referral.agency_id)
            backlog = _agency_backlog_claim(agency_id=referral.agency_id, claim=claim)
            if backlog:
                reports.update(
                    reports_with_details(
                        report_ids=[r.report_id for r in backlog], with_referrals=False
                    )
                )
                webhook[position:] = sorted(
                    webhook[position:] + backlog,
                    key=lambda r: urgency(reports[r.report_id].priority, r),
                )
    if unreached:
        Referral.objects.filter(pk__in=unreached, claimed_until=claim).update(claimed_until=None)
        outcomes.update({pk: DeliveryOutcome(attempted=False, retry_in=0.0) for pk in unreached})
    return outcomes


def _post(referral: Referral, report: Report) -> Attempt:
    agency = referral.agency
    body = json.dumps(referral_payload(referral, report), separators=(",", ":")).encode()
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
    return Attempt(referral, delivered, http_status, detail, duration_ms)


def _agency_backlog_claim(*, agency_id: int, claim: datetime) -> list[Referral]:
    """An agency has just accepted a referral: it is back. Its referrals that failed
    before and are waiting out their retry's delay (each its own, up to an hour) are
    claimed for this call, due now, and go next, most urgent first, rather than each when
    its delay ends, which would send them in no useful order and hold a priority-1
    referral back behind a long delay while later, less urgent ones arrive."""
    now = timezone.now()
    waiting = Referral.objects.filter(
        agency_id=agency_id, status=Referral.Status.PENDING, attempts__gt=0
    ).filter(unclaimed(now))
    ids = list(most_urgent_first(waiting).values_list("pk", flat=True)[:BACKLOG_TAKEN_AT_ONCE])
    if not ids:
        return []
    waiting.filter(pk__in=ids).update(claimed_until=claim, next_attempt_at=now)
    return list(
        Referral.objects.select_related("agency").filter(
            pk__in=ids, status=Referral.Status.PENDING, claimed_until=claim
        )
    )


def _seconds_until_due(referral_id: int, now: datetime) -> float | None:
    """A message that arrives before its referral's attempt is due (a broker's timer may
    fire a little early) must not be lost: how long until it is due, if it is pending
    and no worker holds it."""
    due = (
        Referral.objects.filter(pk=referral_id, status=Referral.Status.PENDING)
        .filter(unclaimed(now))
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if due is None or due <= now:
        return None
    return (due - now).total_seconds()


RECORDED_FIELDS = [
    "attempts",
    "claimed_until",
    "status",
    "delivered_at",
    "dead_lettered_at",
    "next_attempt_at",
    "last_error",
]


def _record_attempts(attempts: Sequence[Attempt], claim: datetime) -> dict[int, DeliveryOutcome]:
    """Record each attempt's outcome, only where this call's claim still holds: one that
    expired belongs to another worker."""
    if not attempts:
        return {}
    now = timezone.now()
    outcomes: dict[int, DeliveryOutcome] = {}
    events = []
    for attempt in attempts:
        referral = attempt.referral
        referral.attempts += 1
        referral.claimed_until = None
        event = ReferralEvent(
            referral=referral,
            at=now,
            http_status=attempt.http_status,
            duration_ms=attempt.duration_ms,
            detail=attempt.detail,
        )
        if attempt.delivered:
            event.kind = ReferralEvent.Kind.DELIVERED
            referral.status, referral.delivered_at = Referral.Status.DELIVERED, now
            referral.last_error = ""
            outcome = DeliveryOutcome(attempted=True, delivered=True)
        elif referral.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            event.kind = ReferralEvent.Kind.DEAD_LETTERED
            referral.status, referral.dead_lettered_at = Referral.Status.DEAD_LETTERED, now
            referral.next_attempt_at, referral.last_error = None, attempt.detail
            outcome = DeliveryOutcome(attempted=True, dead_lettered=True)
        else:
            event.kind = ReferralEvent.Kind.ATTEMPT_FAILED
            delay = retry_delay(referral.attempts)
            referral.next_attempt_at = now + timedelta(seconds=delay)
            referral.last_error = attempt.detail
            outcome = DeliveryOutcome(attempted=True, retry_in=delay)
        outcomes[referral.pk] = outcome
        events.append(event)
    with transaction.atomic():
        still_ours = set(
            Referral.objects.select_for_update()
            .filter(pk__in=outcomes, status=Referral.Status.PENDING, claimed_until=claim)
            .values_list("pk", flat=True)
        )
        bulk_update_rows(
            [attempt.referral for attempt in attempts if attempt.referral.pk in still_ours],
            RECORDED_FIELDS,
        )
        ReferralEvent.objects.bulk_create(events)
    return {
        referral_id: outcome if referral_id in still_ours else DeliveryOutcome(attempted=True)
        for referral_id, outcome in outcomes.items()
    }


def due_delivery_ids(*, limit: int = 1000) -> list[tuple[int, bool]]:
    """Pending referrals whose attempt fell due more than the grace period ago and that no
    worker holds: their message was lost, or their retry was too far off for a
    countdown. Each with whether it is priority 1; most urgent first (priority 1, 2, 3,
    then informational; oldest first within each), so that after an outage the most
    urgent go first, and first into the limit."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.DELIVERY_SWEEP_GRACE_SECONDS)
    rows = most_urgent_first(
        Referral.objects.filter(status=Referral.Status.PENDING, next_attempt_at__lt=cutoff).filter(
            unclaimed(now)
        )
    ).values_list("pk", "report__priority")[:limit]
    return [(pk, priority == Report.Priority.IMMINENT) for pk, priority in rows]
