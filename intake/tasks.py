from celery import shared_task

from intake.retention import personal_data_purge
from intake.services import idempotency_keys_purge, reports_expire


@shared_task
def expire_unfinished_reports() -> int:
    """Expire reports left open past their lifetime, and forget old idempotency keys."""
    idempotency_keys_purge()
    return reports_expire()


# A first run over years of closed reports purges many batches: it starts none after
# retention.PURGE_TIME_BUDGET_SECONDS, well within the soft limit, and the next run purges
# the rest (each batch is committed as it is purged, so a run cut short loses nothing).
@shared_task(soft_time_limit=900, time_limit=960)
def purge_personal_data() -> int:
    """Purge the personal data of reports closed longer than PERSONAL_DATA_RETENTION_DAYS."""
    return len(personal_data_purge().report_ids)
