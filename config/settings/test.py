"""The test suite. Tasks run eagerly unless a test starts a real worker."""

import os

from config.settings.base import *
from config.settings.base import CELERY_BROKER_TRANSPORT_OPTIONS, env

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# Each test run gets its own Redis key prefix, shared with the workers it starts.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": env.str("CELERY_KEY_PREFIX", default=f"test-{os.getpid()}:"),
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
