"""Notices to providers: staff tell the provider hosting reported content what to take
down or act on; the provider answers through its API; an unanswered notice is reminded
every NOTICE_REMINDER_HOURS and, after NOTICE_MAX_REMINDERS reminders, escalated to staff.
Every step is a NoticeEvent, timed and attributed."""

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.utils import timezone
from rest_framework import status

from config.errors import ApplicationError, reason_required
from intake.models import Provider, Report
from routing.models import (
    Notice,
    NoticeEvent,
    ProviderNoticeEndpoint,
    new_webhook_secret,
    validate_webhook_url,
)

MAX_TARGETS = 100
REMINDER_BATCH_SIZE = 500


def notice_not_found() -> ApplicationError:
    return ApplicationError(
        "There is no such notice.", code="not_found", http_status=status.HTTP_404_NOT_FOUND
    )


# The target shown to a provider for a notice whose only target was another provider's
# report (sent before such notices had to name URLs or identifiers).
CONTENT_IN_THE_REASON = "the content described in this notice's reason"


def report_target(report_id: int) -> str:
    """The target of a notice about a report's reported content as a whole."""
    return f"CyberTipline report {report_id}"


def notice_targets_clean(targets: Sequence[str]) -> list[str]:
    """The targets stripped, blank ones dropped, duplicates removed; refused when none or
    too many remain."""
    cleaned = list(dict.fromkeys(target.strip() for target in targets if target.strip()))
    if not cleaned:
        raise ApplicationError(
            "A notice names at least one URL or identifier.",
            code="targets_required",
            fields={"targets": ["Name at least one URL or identifier."]},
        )
    if len(cleaned) > MAX_TARGETS or any(len(target) > 2000 for target in cleaned):
        raise ApplicationError(
            f"A notice names at most {MAX_TARGETS} targets of at most 2000 characters.",
            code="too_many_targets",
            fields={"targets": [f"At most {MAX_TARGETS} targets."]},
        )
    return cleaned


@transaction.atomic
def notice_send(
    *,
    report: Report,
    notice_type: str,
    targets: Sequence[str],
    reason: str,
    requested_action: str,
    by_user: User | None,
    provider: Provider | None = None,
) -> Notice:
    """Open a notice to ``provider`` (the report's own provider when not given) about
    ``targets``, due within NOTICE_ANSWER_HOURS, first reminded NOTICE_REMINDER_HOURS
    from now; delivered by webhook after commit when the provider has an endpoint.
    Without targets, the notice is about the reported content of the report, by its
    number: only to the provider that made it; another provider is told the URLs or
    identifiers it hosts, never the number of a report it did not make."""
    provider = provider or report.provider
    if provider is None:
        raise ApplicationError(
            "This report names no provider: choose the provider hosting the content.",
            code="provider_required",
            fields={"provider": ["Choose a provider."]},
        )
    if provider.pk == report.provider_id and not any(target.strip() for target in targets):
        targets = [report_target(report.pk)]
    reason = reason_required(reason, to="send a notice")
    now = timezone.now()
    notice = Notice.objects.create(
        report=report,
        provider=provider,
        notice_type=Notice.Type(notice_type),
        targets=notice_targets_clean(targets),
        reason=reason,
        requested_action=Notice.RequestedAction(requested_action),
        sent_at=now,
        sent_by=by_user,
        deadline_at=now + timedelta(hours=settings.NOTICE_ANSWER_HOURS),
        next_reminder_at=now + timedelta(hours=settings.NOTICE_REMINDER_HOURS),
    )
    NoticeEvent.objects.create(notice=notice, kind=NoticeEvent.Kind.SENT, at=now, by_user=by_user)
    notice_delivery_enqueue(notice=notice, kind=NoticeEvent.Kind.SENT)
    return notice


def notice_delivery_enqueue(*, notice: Notice, kind: str, now: datetime | None = None) -> None:
    """After commit, a webhook delivery of ``notice`` if its provider takes them; recorded
    as owed until delivered, so that the sweep sends it again if its task is lost."""
    if ProviderNoticeEndpoint.objects.filter(provider_id=notice.provider_id).exists():
        # A notice never delivered stays owed as sent, and is sent (again) rather than
        # reminded: the provider's first event for a notice is always "sent".
        owed_as_kind = (
            Notice.objects.filter(pk=notice.pk)
            .exclude(webhook_event=NoticeEvent.Kind.SENT)
            .update(webhook_event=kind, webhook_owed_since=now or timezone.now())
        )
        _deliver_after_commit(notice.pk, kind if owed_as_kind else NoticeEvent.Kind.SENT)


def _deliver_after_commit(notice_id: int, kind: str) -> None:
    from routing.tasks import deliver_notice

    transaction.on_commit(
        lambda: deliver_notice.apply_async((notice_id, kind), queue=settings.DELIVERY_QUEUE)
    )


def notice_webhooks_resend_owed(*, now: datetime | None = None) -> list[int]:
    """Enqueue again each webhook owed for NOTICE_WEBHOOK_RESEND_HOURS (its task lost, or
    its retries spent on an endpoint that was down), at most once per that time a notice.
    Rows are claimed with SKIP LOCKED, so sweeps running at once share the work."""
    now = now or timezone.now()
    with transaction.atomic():
        owed = list(
            Notice.objects.select_for_update(skip_locked=True)
            .filter(
                webhook_owed_since__lte=now - timedelta(hours=settings.NOTICE_WEBHOOK_RESEND_HOURS)
            )
            .order_by("webhook_owed_since", "pk")
            .only("pk", "webhook_event")[:REMINDER_BATCH_SIZE]
        )
        Notice.objects.filter(pk__in=[notice.pk for notice in owed]).update(webhook_owed_since=now)
        for notice in owed:
            _deliver_after_commit(notice.pk, notice.webhook_event)
    return [notice.pk for notice in owed]


def notice_webhook_settled(*, notice_id: int, kind: str) -> None:
    """Nothing more is owed for ``kind``: delivered, or no longer worth delivering. A later
    event owed meanwhile (a reminder after the notice) stays owed."""
    Notice.objects.filter(pk=notice_id, webhook_event=kind).update(
        webhook_event="", webhook_owed_since=None
    )


def provider_notice_endpoint_configure(
    *, provider: Provider, url: str
) -> ProviderNoticeEndpoint | None:
    """Deliver ``provider``'s notices to ``url`` from now on, signed with a new secret
    (returned on the endpoint, to be given to the provider once). An empty URL removes the
    endpoint: the provider reads its notices through the API only."""
    if not url:
        ProviderNoticeEndpoint.objects.filter(provider=provider).delete()
        return None
    validate_webhook_url(url)
    endpoint = ProviderNoticeEndpoint.objects.filter(
        provider=provider
    ).first() or ProviderNoticeEndpoint(provider=provider)
    endpoint.url = url
    endpoint.secret = new_webhook_secret()
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def notice_answer(*, provider: Provider, notice_id: int, answer: str, reason: str = "") -> Notice:
    """Record ``provider``'s answer to its open notice; stops the reminders. A dispute
    needs a reason; a notice answered or closed already is refused (409); another
    provider's notice is not found, like a missing one."""
    notice = Notice.objects.select_for_update().filter(pk=notice_id, provider=provider).first()
    if notice is None:
        raise notice_not_found()
    reason = reason.strip()
    if answer == Notice.Answer.DISPUTED:
        reason = reason_required(reason, to="dispute a notice")
    if notice.status != Notice.Status.OPEN:
        raise ApplicationError(
            f"This notice is {notice.get_status_display().lower()} already.",
            code="notice_not_open",
            http_status=status.HTTP_409_CONFLICT,
        )
    now = timezone.now()
    notice.status = Notice.Status.ANSWERED
    notice.answer = Notice.Answer(answer)
    notice.answer_reason = reason
    notice.answered_at = now
    notice.next_reminder_at = None
    notice.save(
        update_fields=["status", "answer", "answer_reason", "answered_at", "next_reminder_at"]
    )
    NoticeEvent.objects.create(
        notice=notice,
        kind=NoticeEvent.Kind.ANSWERED,
        at=now,
        by_provider=provider,
        detail=f"{answer}: {reason}"[:500] if reason else answer,
    )
    return notice


@transaction.atomic
def notice_close(*, notice: Notice, reason: str, by_user: User | None) -> Notice:
    """Close an open or answered notice: no more reminders, nothing more asked."""
    reason = reason_required(reason, to="close a notice")
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if notice.status == Notice.Status.CLOSED:
        raise ApplicationError(
            "This notice is closed already.",
            code="notice_not_open",
            http_status=status.HTTP_409_CONFLICT,
        )
    now = timezone.now()
    notice.status = Notice.Status.CLOSED
    notice.closed_at = now
    notice.closed_by = by_user
    notice.close_reason = reason
    notice.next_reminder_at = None
    notice.save(
        update_fields=["status", "closed_at", "closed_by", "close_reason", "next_reminder_at"]
    )
    NoticeEvent.objects.create(
        notice=notice, kind=NoticeEvent.Kind.CLOSED, at=now, by_user=by_user, detail=reason[:500]
    )
    return notice


def report_notices_close(*, report: Report, reason: str, by_user: User | None) -> int:
    """Close every notice of ``report`` not closed yet; returns how many."""
    notices = list(report.notices.exclude(status=Notice.Status.CLOSED))
    if not notices:
        raise ApplicationError("This report has no notice to close.", code="no_open_notice")
    for notice in notices:
        notice_close(notice=notice, reason=reason, by_user=by_user)
    return len(notices)


@dataclass(frozen=True)
class ReminderSweep:
    reminded: list[int]
    escalated: list[int]


def notices_remind_due(*, now: datetime | None = None) -> ReminderSweep:
    """Remind each open notice whose next reminder is due, at most NOTICE_MAX_REMINDERS
    times, NOTICE_REMINDER_HOURS apart; a notice due once more after its last reminder is
    escalated to staff instead. Rows are claimed with SKIP LOCKED, so sweeps running at
    once share the work, and each due reminder is sent once."""
    now = now or timezone.now()
    reminded: list[int] = []
    escalated: list[int] = []
    with transaction.atomic():
        due = list(
            Notice.objects.select_for_update(skip_locked=True)
            .filter(status=Notice.Status.OPEN, next_reminder_at__lte=now)
            .order_by("next_reminder_at", "pk")[:REMINDER_BATCH_SIZE]
        )
        for notice in due:
            if notice.reminders_sent < settings.NOTICE_MAX_REMINDERS:
                notice.reminders_sent += 1
                notice.next_reminder_at = now + timedelta(hours=settings.NOTICE_REMINDER_HOURS)
                notice.save(update_fields=["reminders_sent", "next_reminder_at"])
                NoticeEvent.objects.create(
                    notice=notice,
                    kind=NoticeEvent.Kind.REMINDED,
                    at=now,
                    detail=f"reminder {notice.reminders_sent}",
                )
                notice_delivery_enqueue(notice=notice, kind=NoticeEvent.Kind.REMINDED, now=now)
                reminded.append(notice.pk)
            else:
                notice.next_reminder_at = None
                notice.escalated_at = now
                notice.save(update_fields=["next_reminder_at", "escalated_at"])
                NoticeEvent.objects.create(
                    notice=notice,
                    kind=NoticeEvent.Kind.ESCALATED,
                    at=now,
                    detail=f"unanswered after {notice.reminders_sent} reminder(s)",
                )
                escalated.append(notice.pk)
    return ReminderSweep(reminded, escalated)


# Selectors.


def notices_for_provider(*, provider: Provider) -> QuerySet[Notice]:
    """``provider``'s notices, open first, then answered, then closed; oldest first."""
    rank = Case(
        When(status=Notice.Status.OPEN, then=Value(0)),
        When(status=Notice.Status.ANSWERED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return with_report_provider(
        Notice.objects.filter(provider=provider).alias(rank=rank).order_by("rank", "sent_at", "pk")
    )


def notice_get_for_provider(*, provider: Provider, notice_id: int) -> Notice:
    notice = with_report_provider(Notice.objects.filter(pk=notice_id, provider=provider)).first()
    if notice is None:
        raise notice_not_found()
    return notice


def notice_to_reporting_provider(notice: Notice) -> bool:
    """Whether the notice goes to the provider that made its report (from the annotation
    of ``with_report_provider`` when there is one, so a page of notices costs one query)."""
    if hasattr(notice, "report_provider_id"):
        return bool(notice.provider_id == notice.report_provider_id)
    return notice.provider_id == notice.report.provider_id


def with_report_provider(notices: QuerySet[Notice]) -> QuerySet[Notice]:
    return notices.annotate(report_provider_id=F("report__provider_id"))


def notice_payload(notice: Notice) -> dict[str, Any]:
    """What the provider sees of a notice, in the API and in the webhook."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    # The report's number for the provider that made it; for another provider hosting the
    # content, nothing of a report it did not make (not even as a target, which a notice
    # sent before this rule may name).
    own = notice_to_reporting_provider(notice)
    targets = [
        target for target in notice.targets if own or target != report_target(notice.report_id)
    ] or [CONTENT_IN_THE_REASON]
    return {
        "noticeId": notice.pk,
        "reportId": notice.report_id if own else None,
        "noticeType": notice.notice_type,
        "targets": targets,
        "reason": notice.reason,
        "requestedAction": notice.requested_action,
        "status": notice.status,
        "sentAt": iso(notice.sent_at),
        "deadlineAt": iso(notice.deadline_at),
        "remindersSent": notice.reminders_sent,
        "answer": notice.answer or None,
        "answerReason": notice.answer_reason or None,
        "answeredAt": iso(notice.answered_at),
        "closedAt": iso(notice.closed_at),
    }


@dataclass(frozen=True)
class ProviderNoticeFigures:
    provider: str
    sent: int
    answered: int
    median_hours_to_answer: float | None
    p90_hours_to_answer: float | None
    open_past_deadline: int


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile of ``values`` by linear interpolation (as PostgreSQL's
    percentile_cont), or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def notice_figures(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> list[ProviderNoticeFigures]:
    """Per provider, the notices sent (since ``since``): how many, how many answered, the
    median and 90th-percentile hours from sending to answer (the
    answered ones), and how many are open past
    their deadline now. Read from the notices themselves: they number in the thousands a
    year, not millions."""
    now = now or timezone.now()
    notices = Notice.objects.all()
    if since is not None:
        notices = notices.filter(sent_at__gte=since)
    if until is not None:
        notices = notices.filter(sent_at__lt=until)
    rows = notices.values_list(
        "provider__name", "status", "sent_at", "answered_at", "deadline_at"
    ).order_by("provider__name")
    by_provider: dict[str, list[tuple[str, datetime, datetime | None, datetime]]] = {}
    for name, notice_status, sent_at, answered_at, deadline_at in rows:
        by_provider.setdefault(name, []).append((notice_status, sent_at, answered_at, deadline_at))
    figures = []
    for name, items in by_provider.items():
        hours = [
            (answered_at - sent_at).total_seconds() / 3600
            for _status, sent_at, answered_at, _deadline in items
            if answered_at is not None
        ]
        figures.append(
            ProviderNoticeFigures(
                provider=name,
                sent=len(items),
                answered=len(hours),
                median_hours_to_answer=statistics.median(hours) if hours else None,
                p90_hours_to_answer=percentile(hours, 0.9),
                open_past_deadline=sum(
                    1
                    for notice_status, _sent, _answered, deadline_at in items
                    if notice_status == Notice.Status.OPEN and deadline_at < now
                ),
            )
        )
    return figures


NOTICE_HEADER = "X-Tipline-Notice"


class NoticeDeliveryFailed(Exception):
    """A webhook delivery of a notice that did not get a 2xx answer: retried."""


def notice_still_to_deliver(*, notice: Notice, kind: str) -> bool:
    """Whether a delivery of ``notice`` as ``kind`` still tells the provider something:
    not once the notice is closed, and a reminder not once it is answered."""
    if notice.status == Notice.Status.CLOSED:
        return False
    return not (kind == NoticeEvent.Kind.REMINDED and notice.status == Notice.Status.ANSWERED)


def notice_deliver(*, notice_id: int, kind: str) -> bool:
    """POST ``notice`` (as the API shows it, with ``event``: sent or reminded) signed with
    its provider's secret to its provider's endpoint, outside any transaction, and record
    the outcome; NoticeDeliveryFailed when the endpoint did not accept it. False, with
    nothing sent or recorded, when there is nothing to deliver any more: no endpoint, the
    notice closed, or a reminder of a notice answered since (a retry can run hours later).
    A failure is recorded as the HTTP status or the error's type only, never the URL."""
    from routing.delivery import http_client
    from routing.signing import signed_headers

    notice = Notice.objects.filter(pk=notice_id).first()
    if notice is None:
        return False
    endpoint = ProviderNoticeEndpoint.objects.filter(provider_id=notice.provider_id).first()
    if endpoint is None or not notice_still_to_deliver(notice=notice, kind=kind):
        notice_webhook_settled(notice_id=notice.pk, kind=kind)
        return False
    body = json.dumps({"event": kind, "notice": notice_payload(notice)}).encode()
    headers = {
        **signed_headers(secret=endpoint.secret, body=body),
        NOTICE_HEADER: str(notice.pk),
    }
    try:
        response = http_client().post(endpoint.url, content=body, headers=headers)
        problem = None if response.is_success else f"HTTP {response.status_code}"
    except httpx.HTTPError as error:
        # Not the error's text: it can quote the endpoint's URL, which may hold a secret.
        problem = type(error).__name__
    NoticeEvent.objects.create(
        notice=notice,
        kind=NoticeEvent.Kind.DELIVERY_FAILED if problem else NoticeEvent.Kind.DELIVERED,
        detail=(problem or kind)[:500],
    )
    if problem:
        raise NoticeDeliveryFailed(problem)
    notice_webhook_settled(notice_id=notice.pk, kind=kind)
    return True
