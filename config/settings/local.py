"""Development on one machine: `make run`. Safe defaults, nothing secret."""

from config.settings.base import *
from config.settings.base import (
    DEVELOPMENT_FIELD_ENCRYPTION_KEY,
    FIELD_ENCRYPTION_KEYS,
    SILENCED_SYSTEM_CHECKS,
    env,
)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or "local-development-only-not-secret"
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [DEVELOPMENT_FIELD_ENCRYPTION_KEY]
# The embedded `make run` holds synthetic data and runs no beat: the warning that nothing
# purges personal data daily (intake.W001) is for deployments, which use production.py.
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "intake.W001"]
