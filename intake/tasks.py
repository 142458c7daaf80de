from celery import shared_task

from intake.services import idempotency_keys_purge, reports_expire


@shared_task
def expire_unfinished_reports() -> int:
    """Expire reports left open past their lifetime, and forget old idempotency keys."""
    idempotency_keys_purge()
    return reports_expire()
