"""Settings shared by every environment. Anything that differs between machines
comes from the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "config.apps.StaffAdminConfig",  # django.contrib.admin, with the two-factor site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "intake",
    "routing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy (below), in every environment.
    "config.security.SecurityHeadersMiddleware",
    # 503 at once, in each interface's shape, while the database is down.
    "config.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "intake.middleware.PublicBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Staff are verified with a TOTP device (django-otp); the admin requires it.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change to the routing table and agencies.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Answers a locked-out login (django-axes); last, as axes asks.
    "axes.middleware.AxesMiddleware",
]

# People's logins (staff at /admin/, agency users at /agency/): django-axes counts failed
# logins (a wrong password or authenticator code) per username and locks the username out
# for a while after too many; then Django's own check of the password. Providers' logins
# (HTTP Basic on the XML interface) do not go through authenticate() and are not counted:
# a stranger's wrong passwords must not lock a provider out of reporting.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_ONLY_ADMIN_SITE = False
# Per username, not per address: behind a shared proxy one address is a whole office.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "intake.ratelimit.client_address"  # behind proxies of our own too
AXES_VERBOSE = False
# Staff sessions end after this long without a request, and at the latest when the
# browser closes.
SESSION_COOKIE_AGE = env.int("STAFF_SESSION_IDLE_SECONDS", default=1800)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Tipline")
# axes.W006 asks for the address among the lockout parameters; see above for why not.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Security headers, in every environment (production.py adds HTTPS-only ones: HSTS and
# cookies sent over HTTPS alone). Every page's script and style is a file from this server:
# no inline script, style or event handler, so an injected one never runs.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
# No page uses the device's sensors, camera, microphone, location or payments, and a visit
# here never feeds the browser's advertising topics. (Only features browsers know: an
# unknown one is an error in the console.)
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-create",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "window-management",
        "xr-spatial-tracking",
    )
}
# Other sites see no address of ours, not even the origin (a link out of a report's page
# must not tell where the visitor came from); our own pages keep the full Referer, which
# Django's CSRF check reads on HTTPS when a browser sends no Origin.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No script reads a cookie (forms carry their CSRF token in the page). SameSite Lax: a link
# from elsewhere (an agency's case system) still arrives signed in, while cross-site forms,
# frames and fetches carry no cookie.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database_from_env() -> dict:
    """DATABASE_URL, or a SQLite file beside the code when it is not set."""
    database = env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
        database["CONN_HEALTH_CHECKS"] = True
        # A database that does not answer fails a request (503) or a task (retried) after
        # this long, rather than holding it until the client or the time limit gives up.
        connect_timeout = env.int("DATABASE_CONNECT_TIMEOUT_SECONDS", default=5)
        if connect_timeout < 1:
            raise ImproperlyConfigured("DATABASE_CONNECT_TIMEOUT_SECONDS must be at least 1.")
        database.setdefault("OPTIONS", {}).setdefault("connect_timeout", connect_timeout)
    elif database["ENGINE"] != "django.db.backends.sqlite3":
        raise ImproperlyConfigured(
            "DATABASE_URL must be a postgres:// URL (or unset, for a SQLite file); "
            f"got engine {database['ENGINE']}."
        )
    return database


DATABASES = {"default": _database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The public pages' languages, chosen from Accept-Language or the switcher on every page.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("pt", "Português"),
    ("ar", "العربية"),
    ("hi", "हिन्दी"),
    ("fil", "Filipino"),
    ("id", "Bahasa Indonesia"),
]
LANG_INFO.setdefault(
    "fil", {"bidi": False, "code": "fil", "name": "Filipino", "name_local": "Filipino"}
)
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Request bodies other than file uploads (forms, XML) are read into memory up to this size.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Uploaded files are hashed as they stream in and dropped: never written to disk or kept.
FILE_UPLOAD_HANDLERS = ["intake.uploads.HashingUploadHandler"]
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=4 * 1024**3)
# JSON API bodies (a bulk submission of 1,000 full reports fits).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=32 * 1024**2)
# Per report, whatever the interface: IP capture events and identifiers (screen names,
# email addresses, phone numbers, web addresses), all parties and files together. Each is a
# row of its own; the default is what one repeatable element may hold.
REPORT_MAX_IP_CAPTURE_EVENTS = env.int("REPORT_MAX_IP_CAPTURE_EVENTS", default=1000)
REPORT_MAX_IDENTIFIERS = env.int("REPORT_MAX_IDENTIFIERS", default=1000)
if min(REPORT_MAX_IP_CAPTURE_EVENTS, REPORT_MAX_IDENTIFIERS) < 1:
    raise ImproperlyConfigured(
        "REPORT_MAX_IP_CAPTURE_EVENTS and REPORT_MAX_IDENTIFIERS must be at least 1."
    )
# Optional: a MaxMind City database (.mmdb), for the region (U.S. state) of IP addresses.
MAXMIND_CITY_DB = env.str("MAXMIND_CITY_DB", default="")
# How often a process asks the shared cache whether a list it holds in memory (the
# known-hash list) has changed since it loaded it (config/reloading.py).
LIST_VERSION_CHECK_SECONDS = env.float("LIST_VERSION_CHECK_SECONDS", default=5.0)
# ... and reloads it for a change at most this often, so that a burst of changes does not
# keep every process loading millions of entries.
LIST_RELOAD_MIN_SECONDS = env.float("LIST_RELOAD_MIN_SECONDS", default=30.0)

# A file's PDQ hash matches a known entry within this many bits (intake/pdq.py).
PDQ_MATCH_THRESHOLD = env.int("PDQ_MATCH_THRESHOLD", default=31)
if not 0 <= PDQ_MATCH_THRESHOLD <= 47:
    raise ImproperlyConfigured("PDQ_MATCH_THRESHOLD must be between 0 and 47 bits.")
# Requests per provider per minute, over both interfaces; 0 turns the limit off.
PROVIDER_RATE_LIMIT_PER_MINUTE = env.int("PROVIDER_RATE_LIMIT_PER_MINUTE", default=60_000)
# The public pages, per client (a keyed hash of its address) and per report number.
PUBLIC_REPORTS_PER_HOUR = env.int("PUBLIC_REPORTS_PER_HOUR", default=20)
PUBLIC_STATUS_FAILURES_PER_HOUR = env.int("PUBLIC_STATUS_FAILURES_PER_HOUR", default=10)
PUBLIC_STATUS_FAILURES_PER_REPORT_PER_DAY = env.int(
    "PUBLIC_STATUS_FAILURES_PER_REPORT_PER_DAY", default=20
)
# How many proxies of our own stand in front of the web processes (each appends to
# X-Forwarded-For); 0 when clients connect directly. Rate limits key on the client address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# A public form's body (it has no files); larger ones are refused before they are read.
PUBLIC_FORM_MAX_BYTES = env.int("PUBLIC_FORM_MAX_BYTES", default=262_144)

# Personal data. The reporter's contact details are kept encrypted (intake/encryption.py)
# under FIELD_ENCRYPTION_KEYS, comma-separated Fernet keys: the first encrypts, every one
# decrypts (.env.example says how to rotate them). Production requires them; local and test
# settings fall back to DEVELOPMENT_FIELD_ENCRYPTION_KEY, which is public.
MAKE_A_FIELD_ENCRYPTION_KEY = (
    "Make a key with: python -c "
    "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)
DEVELOPMENT_FIELD_ENCRYPTION_KEY = "dGlwbGluZS1kZXZlbG9wbWVudC1vbmx5LTMyYnl0ZXM="


def _fernet_keys_from_env() -> list[str]:
    keys = [key.strip() for key in env.list("FIELD_ENCRYPTION_KEYS", default=[]) if key.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"Key {position} of FIELD_ENCRYPTION_KEYS is not a Fernet key (32 bytes in "
                f"URL-safe base64). {MAKE_A_FIELD_ENCRYPTION_KEY}"
            ) from None
    return keys


FIELD_ENCRYPTION_KEYS = _fernet_keys_from_env()
# The personal data of a closed report is purged this many days after it closed (a daily
# task, intake/retention.py); 0 keeps it for ever.
PERSONAL_DATA_RETENTION_DAYS = env.int("PERSONAL_DATA_RETENTION_DAYS", default=365)
if PERSONAL_DATA_RETENTION_DAYS < 0:
    raise ImproperlyConfigured(
        "PERSONAL_DATA_RETENTION_DAYS must be a number of days, or 0 to keep personal data."
    )

STORAGES = {
    # Media is never written anywhere: there is no file storage to write it to.
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["intake.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tipline provider and agency API",
    "DESCRIPTION": (
        "Report suspected child sexual exploitation as an electronic service provider. "
        "Reports mirror the CyberTipline XML schema in JSON: element names are keys, "
        "repeatable elements are lists, attributes sit beside an element's children, and an "
        "element with both text and attributes is an object whose text is `value`. "
        "Files are described by their hashes; no endpoint takes media. Law-enforcement "
        "agencies use /api/v1/agency/ with their own tokens: their referrals, most urgent "
        "first, and what they do with them."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {"CountryCodeEnum": "intake.schema.COUNTRY_CODES"},
    # The docs page loads its script from this server, never from a CDN.
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.add_links",
    ],
}

# The shared cache (provider rate limits): Redis when there is one.
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {
            # Carries on as an empty cache while Redis is down (config/unavailable.py):
            # reports are accepted, uncounted, rather than refused.
            "BACKEND": "config.unavailable.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery. Without REDIS_URL the system runs embedded: tasks run eagerly, in the
# process that enqueued them, after the transaction commits.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 30
CELERY_TASK_TIME_LIMIT = 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers keep their database connections between tasks (Celery otherwise closes them
# after every task); config/celery.py drops a connection that is broken or older than
# DJANGO_CONN_MAX_AGE before each task, as Django does before each request.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message not acknowledged within this time is delivered again (acks_late tasks).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # Lets several deployments (or test runs) share one Redis without seeing each other's queues.
    "global_keyprefix": env.str("CELERY_KEY_PREFIX", default=""),
}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Reports that may concern a child in imminent danger (provisional priority 1 before
# routing, priority 1 after) are routed and delivered through the urgent queue, served by
# a worker of its own, so they never wait behind a backlog. Everything else is routed
# through `routing` and delivered through `delivery`, so a slow agency never holds up
# routing.
URGENT_QUEUE = "urgent"
ROUTING_QUEUE = "routing"
DELIVERY_QUEUE = "delivery"
CELERY_TASK_ROUTES = {
    "routing.tasks.route_report": {"queue": ROUTING_QUEUE},
    "routing.tasks.route_reports": {"queue": ROUTING_QUEUE},
    "routing.tasks.deliver_referral": {"queue": DELIVERY_QUEUE},
    "routing.tasks.deliver_referrals": {"queue": DELIVERY_QUEUE},
    "routing.tasks.enqueue_unrouted_reports": {"queue": "default"},
    "routing.tasks.enqueue_due_deliveries": {"queue": "default"},
    "intake.tasks.expire_unfinished_reports": {"queue": "default"},
    "intake.tasks.purge_personal_data": {"queue": "default"},
    "routing.tasks.refresh_figures": {"queue": "default"},
    "routing.tasks.send_notice_reminders": {"queue": "default"},
    "routing.tasks.deliver_notice": {"queue": "delivery"},
}
# Seconds between the two outbox sweeps (see ROUTING_SWEEP_GRACE_SECONDS and
# DELIVERY_SWEEP_GRACE_SECONDS below).
ROUTING_SWEEP_INTERVAL_SECONDS = env.float("ROUTING_SWEEP_INTERVAL_SECONDS", default=60.0)
DELIVERY_SWEEP_INTERVAL_SECONDS = env.float("DELIVERY_SWEEP_INTERVAL_SECONDS", default=15.0)
CELERY_BEAT_SCHEDULE = {
    "enqueue-unrouted-reports": {
        "task": "routing.tasks.enqueue_unrouted_reports",
        "schedule": ROUTING_SWEEP_INTERVAL_SECONDS,
    },
    "enqueue-due-deliveries": {
        "task": "routing.tasks.enqueue_due_deliveries",
        "schedule": DELIVERY_SWEEP_INTERVAL_SECONDS,
    },
    "expire-unfinished-reports": {
        "task": "intake.tasks.expire_unfinished_reports",
        "schedule": 300.0,
    },
    "refresh-figures": {
        "task": "routing.tasks.refresh_figures",
        "schedule": env.float("FIGURES_REFRESH_SECONDS", default=60.0),
    },
    "send-notice-reminders": {
        "task": "routing.tasks.send_notice_reminders",
        "schedule": env.float("NOTICE_REMINDER_SWEEP_SECONDS", default=300.0),
    },
    # Once a day, at a quiet hour (UTC): see PERSONAL_DATA_RETENTION_DAYS.
    "purge-personal-data": {
        "task": "intake.tasks.purge_personal_data",
        "schedule": crontab(hour=3, minute=30),
    },
}
# The statistics pages (routing/figures.py). A page asks a worker for a refresh when the
# last is older than FIGURES_MAX_AGE_SECONDS (beat down or absent; in the embedded mode the
# refresh runs in the web process); the public page shows no count under
# PUBLIC_FIGURES_MIN_COUNT.
FIGURES_MAX_AGE_SECONDS = env.float("FIGURES_MAX_AGE_SECONDS", default=120.0)
PUBLIC_FIGURES_MIN_COUNT = env.int("PUBLIC_FIGURES_MIN_COUNT", default=10)
# A finished report with no referral after this long is enqueued again (the outbox sweep).
ROUTING_SWEEP_GRACE_SECONDS = env.float("ROUTING_SWEEP_GRACE_SECONDS", default=120.0)
# Publishing a message gives up quickly when Redis is down: the report or referral is
# already committed, and the sweeps send its message once Redis is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

# Webhook delivery. A failed attempt is retried after a delay that doubles from
# DELIVERY_RETRY_BASE_SECONDS up to DELIVERY_RETRY_MAX_SECONDS, each drawn at random up to
# that bound (full jitter); after DELIVERY_MAX_ATTEMPTS the referral is dead-lettered for
# staff. The defaults retry for about 12 hours.
DELIVERY_TIMEOUT_SECONDS = env.float("DELIVERY_TIMEOUT_SECONDS", default=10.0)
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", default=10.0)
DELIVERY_RETRY_MAX_SECONDS = env.float("DELIVERY_RETRY_MAX_SECONDS", default=3600.0)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=20)
# A due delivery with no worker on it this long after it fell due is enqueued again.
DELIVERY_SWEEP_GRACE_SECONDS = env.float("DELIVERY_SWEEP_GRACE_SECONDS", default=30.0)

# Notices to providers (routing/notices.py): a provider should answer within
# NOTICE_ANSWER_HOURS; an open notice is reminded every NOTICE_REMINDER_HOURS, and after
# NOTICE_MAX_REMINDERS unanswered reminders it is escalated to staff.
NOTICE_ANSWER_HOURS = env.float("NOTICE_ANSWER_HOURS", default=48.0)
NOTICE_REMINDER_HOURS = env.float("NOTICE_REMINDER_HOURS", default=24.0)
NOTICE_MAX_REMINDERS = env.int("NOTICE_MAX_REMINDERS", default=3)
# A notice's webhook not delivered this long after it was owed is sent again by the
# reminder sweep (its task lost, or every retry spent: those span about 3 hours).
NOTICE_WEBHOOK_RESEND_HOURS = env.float("NOTICE_WEBHOOK_RESEND_HOURS", default=4.0)

# The agency workspace counts a delivered referral as overdue when it is not acknowledged
# within this many hours of delivery, by the report's priority.
REFERRAL_ACKNOWLEDGE_WITHIN_HOURS = {
    "1": env.float("ACKNOWLEDGE_PRIORITY_1_HOURS", default=1.0),
    "2": env.float("ACKNOWLEDGE_PRIORITY_2_HOURS", default=24.0),
    "3": env.float("ACKNOWLEDGE_PRIORITY_3_HOURS", default=72.0),
    "I": env.float("ACKNOWLEDGE_INFORMATIONAL_HOURS", default=720.0),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # One line per webhook request is noise (every attempt is a ReferralEvent), and so is
    # one per login from django-axes: warnings are enough.
    "loggers": {name: {"level": "WARNING"} for name in ("httpx", "httpcore", "axes")},
}
