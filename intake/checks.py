"""Settings under which a promise about personal data would not be kept, as Django system
checks (shown by every `manage.py` command, migrate and runserver among them)."""

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register()
def personal_data_purge_runs(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Without a broker (the embedded mode) there is no beat, so nothing runs the daily
    purge of personal data (intake/retention.py) unless cron does."""
    days = settings.PERSONAL_DATA_RETENTION_DAYS
    if not days or settings.REDIS_URL:
        return []
    return [
        checks.Warning(
            f"PERSONAL_DATA_RETENTION_DAYS is {days}, but without REDIS_URL no beat runs the "
            "daily purge of closed reports' personal data: it is kept until something "
            "runs the purge.",
            hint="Run `manage.py purge_personal_data` daily (from cron), or set REDIS_URL "
            "and run a worker and beat, or set PERSONAL_DATA_RETENTION_DAYS=0 to keep "
            "personal data.",
            id="intake.W001",
        )
    ]
