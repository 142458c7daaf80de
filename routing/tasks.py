"""Celery tasks: thin, idempotent, each calling one service."""

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from routing.delivery import COUNTDOWN_LIMIT_SECONDS, due_delivery_ids, referrals_deliver
from routing.figures import figures_refresh, figures_refreshed_at
from routing.notices import (
    NoticeDeliveryFailed,
    notice_deliver,
    notice_webhooks_resend_owed,
    notices_remind_due,
)
from routing.services import (
    TRANSIENT_ERRORS,
    reports_route_each_on_failure,
    unrouted_report_ids,
)

# Retried: only TRANSIENT_ERRORS, which a retry can cure. (A failed webhook is not an
# error of the task: delivery keeps its own schedule of retries.)
# Routing and delivery are idempotent, so a message is acknowledged only once it is
# done, and given back to the queue if its worker dies.
ROUTING_TASK: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 10,
}


@shared_task(**ROUTING_TASK)
def route_report(report_id: int, take_waiting: bool = False) -> None:
    """Route one report; with ``take_waiting``, other reports waiting for routing too, up
    to a batch (see reports_route)."""
    reports_route_each_on_failure(
        report_ids=[report_id], take_waiting=ROUTING_BATCH_SIZE - 1 if take_waiting else 0
    )


@shared_task(**ROUTING_TASK)
def route_reports(report_ids: list[int]) -> None:
    """A batch of reports submitted together (a bulk submission): one message and one
    transaction instead of hundreds. Routing is idempotent, so a retry of the whole batch
    is safe."""
    reports_route_each_on_failure(report_ids=report_ids)


ROUTING_BATCH_SIZE = 100
DELIVERY_BATCH_SIZE = 100
logger = logging.getLogger(__name__)


@contextmanager
def sweep_sends_it_if_the_broker_is_down(what: str) -> Iterator[None]:
    """Messages are sent after the transaction commits, so what they are about is safe in
    the database. If Redis is down the message is dropped, with a warning, and the sweep
    sends it once Redis is back: the person submitting is not told of a failure that
    is not theirs."""
    try:
        yield
    except BrokerUnavailable as error:
        logger.warning("Could not enqueue %s (%s): the sweep will send it.", what, error)


def enqueue_routing(
    report_ids: list[int], *, urgent: bool = False, take_waiting: bool = True
) -> None:
    """Send the routing messages for ``report_ids``: one per report, or batches of
    ROUTING_BATCH_SIZE for many. Urgent reports (provisional priority 1) go through their
    own queue, which a dedicated worker serves, so no backlog can hold them up. A single
    report's message also routes reports waiting behind it (see reports_route), unless it
    is urgent or ``take_waiting`` is false."""
    queue = settings.URGENT_QUEUE if urgent else settings.ROUTING_QUEUE
    with sweep_sends_it_if_the_broker_is_down(f"routing of {len(report_ids)} report(s)"):
        if len(report_ids) == 1:
            # A priority-1 report's worker routes it alone, and at once; so does the web
            # process in the embedded mode (tasks run eagerly, inside the request).
            eager = route_report.app.conf.task_always_eager
            take = take_waiting and not urgent and not eager
            route_report.apply_async((report_ids[0], take), queue=queue)
            return
        for start in range(0, len(report_ids), ROUTING_BATCH_SIZE):
            batch = report_ids[start : start + ROUTING_BATCH_SIZE]
            route_reports.apply_async((batch,), queue=queue)


@shared_task
def enqueue_unrouted_reports() -> int:
    """The outbox sweep: route again every finished report that has no referral yet."""
    report_ids = unrouted_report_ids()
    # Only the reports past the grace period: the others' messages are still on their way.
    enqueue_routing(report_ids, take_waiting=False)
    return len(report_ids)


@shared_task(**ROUTING_TASK)
def deliver_referral(referral_id: int, urgent: bool = False) -> None:
    deliver([referral_id], urgent=urgent, eager=bool(deliver_referral.request.is_eager))


@shared_task(**ROUTING_TASK)
def deliver_referrals(referral_ids: list[int], urgent: bool = False) -> None:
    """Deliver referrals made together (by one routing batch): one message for many."""
    deliver(referral_ids, urgent=urgent, eager=bool(deliver_referrals.request.is_eager))


def deliver(referral_ids: list[int], *, urgent: bool, eager: bool) -> None:
    outcomes = referrals_deliver(referral_ids=referral_ids)
    # An eager task (embedded mode, no broker) cannot wait: its retries are the sweep's.
    if eager:
        return
    for referral_id, outcome in outcomes.items():
        if outcome.retry_in is not None and outcome.retry_in <= COUNTDOWN_LIMIT_SECONDS:
            enqueue_delivery(referral_id, urgent=urgent, countdown=outcome.retry_in)


def enqueue_delivery(referral_id: int, *, urgent: bool = False, countdown: float = 0) -> None:
    """Send a referral's delivery message; priority-1 reports' through the urgent queue."""
    queue = settings.URGENT_QUEUE if urgent else settings.DELIVERY_QUEUE
    with sweep_sends_it_if_the_broker_is_down(f"delivery of referral {referral_id}"):
        deliver_referral.apply_async(
            (referral_id, urgent), queue=queue, countdown=countdown or None
        )


def enqueue_deliveries(referral_ids: list[int], *, urgent: bool = False) -> None:
    """Send the delivery messages of referrals made together: one per referral, or
    batches of DELIVERY_BATCH_SIZE for many."""
    if len(referral_ids) == 1:
        enqueue_delivery(referral_ids[0], urgent=urgent)
        return
    queue = settings.URGENT_QUEUE if urgent else settings.DELIVERY_QUEUE
    with sweep_sends_it_if_the_broker_is_down(f"delivery of {len(referral_ids)} referrals"):
        for start in range(0, len(referral_ids), DELIVERY_BATCH_SIZE):
            batch = referral_ids[start : start + DELIVERY_BATCH_SIZE]
            deliver_referrals.apply_async((batch, urgent), queue=queue)


@shared_task
def enqueue_due_deliveries() -> int:
    """The delivery sweep: attempts that fell due with no message to start them."""
    due = due_delivery_ids()
    for referral_id, urgent in due:
        enqueue_delivery(referral_id, urgent=urgent)
    return len(due)


# A refresh after a long pause rebuilds many days; the next run catches up where a slow
# one was cut off, since the watermark moves only when a refresh completes.
@shared_task(soft_time_limit=900, time_limit=960)
def refresh_figures() -> int:
    """The statistics pages' daily figures, brought up to date with the reports."""
    days = figures_refresh()
    return len(days or [])


def enqueue_figures_refresh_if_stale() -> None:
    """Ask for a refresh when the last is older than FIGURES_MAX_AGE_SECONDS (beat is
    down, or there is none): a worker does it, so a page never waits for one, except in
    the embedded mode, where tasks run in the web process. One request a minute at most."""
    refreshed_at = figures_refreshed_at()
    max_age = dt.timedelta(seconds=settings.FIGURES_MAX_AGE_SECONDS)
    if refreshed_at is not None and timezone.now() - refreshed_at <= max_age:
        return
    if cache.add("figures-refresh-requested", True, timeout=60):
        with sweep_sends_it_if_the_broker_is_down("a refresh of the figures"):
            refresh_figures.delay()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_notice_reminders() -> int:
    """The reminder sweep: remind the open notices whose reminder is due, escalate those
    reminded NOTICE_MAX_REMINDERS times, and send again webhooks owed too long. Safe to
    run twice: a reminder sent moves the notice's next reminder on, a webhook sent again
    its time owed."""
    sweep = notices_remind_due()
    resent = notice_webhooks_resend_owed()
    return len(sweep.reminded) + len(sweep.escalated) + len(resent)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(NoticeDeliveryFailed, *TRANSIENT_ERRORS),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
)
def deliver_notice(notice_id: int, kind: str) -> None:
    """POST one notice (sent or reminded) to its provider's webhook; a receiver may see
    it twice, and recognises it by X-Tipline-Notice and the event. Nothing is sent once
    the notice is closed, nor a reminder once it is answered, however late a retry runs."""
    notice_deliver(notice_id=notice_id, kind=kind)
