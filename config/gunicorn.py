"""Gunicorn, as production runs it: `gunicorn -c config/gunicorn.py config.wsgi:application`.
Threads keep connections alive and overlap database and Redis round trips."""

import multiprocessing
import os
import re
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5
timeout = 60
graceful_timeout = 30
max_requests = 10_000
max_requests_jitter = 1_000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# Without the client's address (%(h)s) or anything it sent beyond the request line: a
# reporter's address is never written down, not even in a log.
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"


class AddressFreeLogger(Logger):
    """Gunicorn's logger, without the client's address that its warning about a malformed
    request names."""

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        super().warning(re.sub(r" from ip=\S*(?=: )", "", str(msg)), *args, **kwargs)


logger_class = AddressFreeLogger
