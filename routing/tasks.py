"""Celery tasks: thin, idempotent, each calling one service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from routing.services import report_route, unrouted_report_ids

# Only errors that a retry can cure: the database went away or was busy.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=10,
)
def route_report(report_id: int) -> None:
    report_route(report_id=report_id)


@shared_task
def enqueue_unrouted_reports() -> int:
    """The outbox sweep: route again every finished report that has no referral yet."""
    report_ids = unrouted_report_ids()
    for report_id in report_ids:
        route_report.delay(report_id)
    return len(report_ids)
