import os
from typing import Any

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("tipline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def drop_stale_database_connections(task: Any = None, **kwargs: Any) -> None:
    """What Django does before each request, before each task a worker runs: close a
    connection that is broken or older than CONN_MAX_AGE, keep a healthy one (see
    CELERY_DB_REUSE_MAX)."""
    if task is not None and not getattr(task.request, "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()
