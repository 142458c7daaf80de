"""The test suite. Tasks run eagerly, except in the real worker processes some tests
start (TEST_WORKER=1), which publish the messages their tasks send, as in production."""

import os

from config.settings.base import *
from config.settings.base import (
    CELERY_BROKER_TRANSPORT_OPTIONS,
    DEVELOPMENT_FIELD_ENCRYPTION_KEY,
    FIELD_ENCRYPTION_KEYS,
    REDIS_URL,
    env,
)

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [DEVELOPMENT_FIELD_ENCRYPTION_KEY]
CELERY_TASK_ALWAYS_EAGER = os.environ.get("TEST_WORKER") != "1"
# Each test run gets its own Redis key prefix, shared with the workers it starts.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": env.str("CELERY_KEY_PREFIX", default=f"test-{os.getpid()}:"),
}
# Each process its own cache; a worker a test starts may share the test's cache in Redis
# instead (TEST_SHARED_CACHE_PREFIX, see tests/routing/processes.py: shared_cache_fixture).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("TEST_SHARED_CACHE_PREFIX"):
    CACHES = {
        "default": {
            "BACKEND": "config.unavailable.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ["TEST_SHARED_CACHE_PREFIX"],
        }
    }
