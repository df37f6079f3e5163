"""Settings for the observer-report site, read from the environment.

Defaults run on a laptop with nothing installed (SQLite, Celery tasks in-process).
Malformed values raise ImproperlyConfigured at start-up instead of failing later.
"""

import importlib.util
import logging
import os
import re
import zoneinfo
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
log = logging.getLogger("observer.settings")


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_env() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    scheme = urlparse(url).scheme
    if scheme not in ("postgres", "postgresql", "sqlite"):
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with postgres:// or sqlite://, got scheme {scheme!r}"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {error}") from None
    if scheme != "sqlite" and not config.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_URL must name a database, e.g. postgres://host/observer"
        )
    if scheme != "sqlite":
        # Django's backend, with a health check that costs no round trip (its docstring).
        config["ENGINE"] = "observer.postgresql"
        config["CONN_HEALTH_CHECKS"] = True
        # Django's own cursors never prepare statements; a query that asks to be prepared
        # (reports.services.signin) is, once per connection, unless this is off: turn it off
        # behind a connection pooler in transaction mode.
        if env_bool("DB_PREPARED_STATEMENTS", True):
            config.setdefault("OPTIONS", {})["prepare_threshold"] = 5
    return config


def env_rate(name: str, default: str) -> str:
    """A django-ratelimit rate such as "10/h" or "100/5m"."""
    value = os.environ.get(name, "").strip() or default
    if not re.fullmatch(r"\d+/\d*[smhd]", value):
        raise ImproperlyConfigured(f"{name} must be a rate such as 10/h or 100/5m, got {value!r}")
    return value


def env_throttle_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as "120/min": a number, then s, m, h or d (any suffix)."""
    value = os.environ.get(name, "").strip() or default
    if not re.fullmatch(r"\d+/[smhd][a-z]*", value):
        raise ImproperlyConfigured(f"{name} must be a rate such as 120/min or 10/s, got {value!r}")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def env_class_path(name: str, default: str) -> str:
    """A dotted path to a class whose module can be imported, e.g. an e-mail backend."""
    value = os.environ.get(name, "").strip() or default
    module = value.rpartition(".")[0]
    try:
        found = bool(module) and importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ImproperlyConfigured(f"{name} must name an importable class, got {value!r}")
    return value


def redis_from_env() -> str:
    url = os.environ.get("REDIS_URL", "").strip()
    if url and urlparse(url).scheme not in ("redis", "rediss"):
        raise ImproperlyConfigured(f"REDIS_URL must start with redis:// or rediss://, got {url!r}")
    return url


def time_zone_from_env() -> str:
    name = os.environ.get("TIME_ZONE", "Europe/Moscow")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"TIME_ZONE is not a known time zone: {name!r}") from None
    return name


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "development-only-key-never-use-in-production"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "reports.apps.HeadquartersAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "reports.middleware.SignInLinkMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "observer.urls"
WSGI_APPLICATION = "observer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reports.views.volunteers.observer_navigation",
            ],
        },
    },
]

DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = ["reports.auth.ModelBackendWithObserver"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Russian is the working language; English for international partners.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "ru")
LANGUAGES = [("ru", "Русский"), ("en", "English")]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be 'ru' or 'en', got {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# The site's default zone; each election carries its own for polls open/close.
TIME_ZONE = time_zone_from_env()
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Static files are found in place, so the site runs without a collectstatic step. A
# deployment runs `manage.py collectstatic` once per release: pages then name each file
# with its content's hash, and whitenoise serves it gzip- or Brotli-compressed and cached
# for a year (reports/static_storage.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "reports.static_storage.StaticStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# Public copies (EXIF removed) live under MEDIA_ROOT; untouched originals live in
# PRIVATE_MEDIA_ROOT, which is never served directly.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "var" / "private"))
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
EVIDENCE_MAX_FILES = env_int("EVIDENCE_MAX_FILES", 10, minimum=1)
# Per client address (django-ratelimit syntax): anonymous citizen reports, sign-in attempts.
CITIZEN_REPORT_RATE = env_rate("CITIZEN_REPORT_RATE", "10/h")
SIGNIN_RATE = env_rate("SIGNIN_RATE", "20/m")
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

LOGIN_URL = "/admin/login/"

# Moderation: a claim on an incident lapses after this many minutes unless renewed.
CLAIM_MINUTES = env_int("CLAIM_MINUTES", 15, minimum=1)

# An observer's protocol copy differing from the official figure by more votes than this
# raises a T2 incident (10 was used in Moscow in 2013).
PROTOCOL_DIFF_TOLERANCE = env_int("PROTOCOL_DIFF_TOLERANCE", 10)

# Redis carries Celery's messages, the shared cache and every rate limit. Without it, tasks
# run in-process and the cache and limits are per process: right on a laptop (DEBUG) and for
# tests, never by accident in production, so that needs TASKS_IN_PROCESS=1 said on purpose.
REDIS_URL = redis_from_env()
TASKS_IN_PROCESS = env_bool("TASKS_IN_PROCESS", DEBUG)
if not REDIS_URL and not TASKS_IN_PROCESS:
    raise ImproperlyConfigured(
        "REDIS_URL must be set when DEBUG is off: without it aggregation runs inside requests "
        "and rate limits count per process. Set TASKS_IN_PROCESS=1 only to run tasks in-process "
        "on purpose."
    )
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Reuse a worker's database connection for up to this many tasks instead of reconnecting
# around every task; CONN_MAX_AGE and health checks still apply (reports/tasks/policy.py).
CELERY_DB_REUSE_MAX = 1000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Aggregation (docs/task-policy.md): reports of one category at one station within this
# many minutes form one incident; the sweep aggregates whatever the kicked runs missed.
INCIDENT_WINDOW_MINUTES = env_int("INCIDENT_WINDOW_MINUTES", 45, minimum=1)
AGGREGATION_BATCH_SIZE = env_int("AGGREGATION_BATCH_SIZE", 200, minimum=1)
AGGREGATION_SWEEP_SECONDS = env_int("AGGREGATION_SWEEP_SECONDS", 10, minimum=1)
# A run kicked by a submission pauses this long between its reads, so that under load it
# takes the reports of each pause in one batch (reports/services/aggregation.py).
AGGREGATION_KICK_DELAY_MS = env_int("AGGREGATION_KICK_DELAY_MS", 500, minimum=0)
# Alert rules: N critical reports at one station within M minutes; a TIK's hourly count at
# least FACTOR times its mean over the previous hours (and at least MIN_COUNT); any report
# of these categories at once.
ALERT_CRITICAL_COUNT = env_int("ALERT_CRITICAL_COUNT", 3, minimum=1)
ALERT_CRITICAL_MINUTES = env_int("ALERT_CRITICAL_MINUTES", 30, minimum=1)
ALERT_TIK_FACTOR = env_int("ALERT_TIK_FACTOR", 3, minimum=1)
ALERT_TIK_MIN_COUNT = env_int("ALERT_TIK_MIN_COUNT", 20, minimum=1)
ALERT_TIK_BASELINE_HOURS = env_int("ALERT_TIK_BASELINE_HOURS", 3, minimum=1)
ALERT_IMMEDIATE_CATEGORIES = env_list("ALERT_IMMEDIATE_CATEGORIES", ["R4"])
ALERT_DELIVERY_SECONDS = env_int("ALERT_DELIVERY_SECONDS", 30, minimum=1)
ALERT_DELIVERY_MAX_ATTEMPTS = env_int("ALERT_DELIVERY_MAX_ATTEMPTS", 5, minimum=1)
ALERT_WEBHOOK_TIMEOUT = env_int("ALERT_WEBHOOK_TIMEOUT", 5, minimum=1)
EMAIL_BACKEND = env_class_path(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or "alerts@localhost"
if "@" not in DEFAULT_FROM_EMAIL:
    raise ImproperlyConfigured(
        f"DEFAULT_FROM_EMAIL must be an e-mail address, got {DEFAULT_FROM_EMAIL!r}"
    )

CELERY_BEAT_SCHEDULE = {
    "aggregate-pending": {
        "task": "reports.aggregate_pending",
        "schedule": AGGREGATION_SWEEP_SECONDS,
        "options": {"expires": AGGREGATION_SWEEP_SECONDS},
    },
    "deliver-alerts": {
        "task": "reports.deliver_alerts",
        "schedule": ALERT_DELIVERY_SECONDS,
        "options": {"expires": ALERT_DELIVERY_SECONDS},
    },
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    # Publishing must not hang a request when Redis is down: fail fast, the sweep catches up.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
    CELERY_BROKER_CONNECTION_TIMEOUT = 2
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        },
        # Rate limits: Redis, or per process while it is down (reports/limits.py).
        "ratelimit": {
            "BACKEND": "reports.limits.FailoverRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    RATELIMIT_USE_CACHE = "ratelimit"
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    log.warning("REDIS_URL is not set: Celery tasks run in-process (eager mode)")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "reports.api.authentication.PartnerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "reports.api.throttling.AddressRateThrottle",
        "reports.api.throttling.TokenRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "reports.api.pagination.RecordPagination",
    "DEFAULT_PARSER_CLASSES": [
        "reports.api.parsers.TextJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 100,
}
# Requests per address (every caller) and per partner token, e.g. "120/min".
API_THROTTLE_RATES = {
    "address": env_throttle_rate("API_THROTTLE_ADDRESS", "120/min"),
    "token": env_throttle_rate("API_THROTTLE_TOKEN", "600/min"),
}
# Incremental sync serves only rows unchanged for this long, so that a row written by a
# transaction still open when a partner read past its time is never skipped.
API_SYNC_SETTLE_SECONDS = env_int("API_SYNC_SETTLE_SECONDS", 5)
SPECTACULAR_SETTINGS = {
    "TITLE": "Observer reports API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "Incidents and reports from independent election observers, as JSON. Without a token "
        "you read the public dataset: verified incidents and their reports, reporters as a "
        "role only, descriptions redacted, result figures held back until polls close. A "
        "partner token (`Authorization: Bearer obs_…`, created by the site's administrators) "
        "has one scope: `public_read` (the public dataset and public exports), `submit` (send "
        "reports) or `full_read` (every status, pseudonyms, tallies, alerts, full exports). "
        "Rate limits answer 429 with Retry-After. Bulk exports run in the background: start "
        "one with POST /api/v1/exports/ and poll it. More in docs/api.md."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    # Fixed, not guessed from the paths found: a DRF view elsewhere on the site would change
    # every operation's name (tests/test_schemathesis.py's links use them).
    "SCHEMA_PATH_PREFIX": r"/api/",
    # Swagger UI and ReDoc are served from the site's own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ReviewStatusEnum": "reports.models.ReviewStatus",
        "ExportStatusEnum": "reports.models.ExportJob.Status",
    },
}
# Bulk exports: files live in private storage for EXPORT_TTL_HOURS, then are deleted.
EXPORT_TTL_HOURS = env_int("EXPORT_TTL_HOURS", 24, minimum=1)
EXPORT_TIME_LIMIT = env_int("EXPORT_TIME_LIMIT", 3600, minimum=60)
EXPORT_GZIP_LEVEL = env_int("EXPORT_GZIP_LEVEL", 1, minimum=1)
# Jobs one caller (a partner token or a person) may have waiting or running at once.
EXPORT_MAX_RUNNING = env_int("EXPORT_MAX_RUNNING", 3, minimum=1)
# Protocol totals marked due by copies that arrived since the last recomputation
# (reports/services/protocols.py, AGGREGATE_DELAY).
CELERY_BEAT_SCHEDULE["protocol-totals-due"] = {
    "task": "reports.results_aggregate_due_task",
    "schedule": 30,
    "options": {"expires": 30},
}
CELERY_BEAT_SCHEDULE["sessions-housekeeping"] = {
    "task": "reports.sessions_housekeeping",
    "schedule": 3600,
    "options": {"expires": 3600},
}
CELERY_BEAT_SCHEDULE["statistics-runs-reclaim"] = {
    "task": "reports.statistics_runs_reclaim",
    "schedule": 300,
    "options": {"expires": 300},
}
CELERY_BEAT_SCHEDULE["exports-housekeeping"] = {
    "task": "reports.exports_housekeeping",
    "schedule": 300,
    "options": {"expires": 300},
}
# Coverage: the worker recomputes every station's coverage and raises silence alerts this
# often; the coordinators' page asks for the figures again every COVERAGE_PAGE_SECONDS.
COVERAGE_SWEEP_SECONDS = env_int("COVERAGE_SWEEP_SECONDS", 60, minimum=5)
COVERAGE_PAGE_SECONDS = env_int("COVERAGE_PAGE_SECONDS", 15, minimum=1)
# At most this many new silence alerts per run, earliest first; a flood goes out over runs.
COVERAGE_ALERTS_PER_RUN = env_int("COVERAGE_ALERTS_PER_RUN", 500, minimum=1)
CELERY_BEAT_SCHEDULE["coverage-sweep"] = {
    "task": "reports.coverage_sweep",
    "schedule": COVERAGE_SWEEP_SECONDS,
    "options": {"expires": COVERAGE_SWEEP_SECONDS},
}

# Security. Cookies are secure unless DEBUG; HTTPS redirect and HSTS are opt-in because
# TLS usually terminates at a proxy in front of the site.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(timedelta(days=30).total_seconds())
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# Preloading asks browsers to hard-code HTTPS for the domain and all its subdomains, for
# months after it is withdrawn: a separate decision for whoever owns the domain.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if SECURE_HSTS_PRELOAD and SECURE_HSTS_SECONDS < 31536000:
    raise ImproperlyConfigured(
        "SECURE_HSTS_PRELOAD needs SECURE_HSTS_SECONDS of at least 31536000 (one year), "
        f"got {SECURE_HSTS_SECONDS}"
    )
if SECURE_HSTS_SECONDS and not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]  # "preload is off": on purpose, see above
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def proxied_client_address(request) -> str:
    """The address the TLS proxy appended last to X-Forwarded-For: earlier entries are the
    client's to write, so counting them would let a flood pose as many addresses."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.rsplit(",", 1)[-1].strip() or request.META["REMOTE_ADDR"]


# Rate limits count per client address: the connection's, or behind the proxy the one it
# appended (the same rule for django-ratelimit and DRF's throttles).
RATELIMIT_IP_META_KEY = proxied_client_address if BEHIND_TLS_PROXY else None
REST_FRAMEWORK["NUM_PROXIES"] = 1 if BEHIND_TLS_PROXY else 0

# Everything comes from this site: no inline scripts, no CDNs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
