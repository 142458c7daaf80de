"""Production: every secret from the environment, HTTPS only."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *
from config.settings.base import (
    DEVELOPMENT_FIELD_ENCRYPTION_KEY,
    FIELD_ENCRYPTION_KEYS,
    MAKE_A_FIELD_ENCRYPTION_KEY,
    MIDDLEWARE,
    SECRET_KEY,
    STORAGES,
    env,
)

if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Production needs a long random secret, for example: "
        "DJANGO_SECRET_KEY=\"$(python -c 'import secrets; print(secrets.token_urlsafe(50))')\""
    )
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long.")
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS is not set. Production keeps reporters' contact details "
        "encrypted under it: one or more Fernet keys, comma-separated. "
        + MAKE_A_FIELD_ENCRYPTION_KEY
    )
if DEVELOPMENT_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS holds the development key, which is public. "
        f"{MAKE_A_FIELD_ENCRYPTION_KEY}"
    )

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# Static files (the admin's) are served by the web process itself, after the security
# headers' middleware, so they carry the headers too.
MIDDLEWARE = [*MIDDLEWARE]
MIDDLEWARE.insert(
    MIDDLEWARE.index("config.security.SecurityHeadersMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
