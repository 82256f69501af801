"""SalesPrep settings, read from environment variables (see the table in README.md)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from salesprep.env import (
    env_bool,
    env_choice,
    env_int,
    env_issuer_url,
    env_list,
    env_mapping,
    env_networks,
    env_str,
    parse_database_url,
    parse_site_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SALESPREP_VAR_DIR", str(BASE_DIR / "var")))
# The embedded defaults (SQLite file, file broker, file cache) keep their files here.
VAR_DIR.mkdir(parents=True, exist_ok=True)

# The embedded default is for a newcomer's first run: DEBUG on, SQLite, a file broker.
# Production (docker-compose.yml, Dockerfile) sets DEBUG=false and must then set SECRET_KEY.
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-salesprep-development-only-key-never-use-in-production"  # noqa: S105

# The address people open, for every absolute link built outside a request (e-mails, the
# calendar feed's address): accounts/links.py. `manage.py demo` sets it to its own address.
SITE_URL = parse_site_url(env_str("SITE_URL", "http://localhost:8000"))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "callprep",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.ViewerTimeZoneMiddleware",
    "accounts.middleware.AuditRefusedAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.MFARequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "salesprep.urls"
WSGI_APPLICATION = "salesprep.wsgi.application"
ASGI_APPLICATION = "salesprep.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "callprep.review.context.review_nav",
            ],
        },
    },
]

# Database: PostgreSQL in production and tests; a SQLite file under var/ by default.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'salesprep.sqlite3'}")
DATABASES = {"default": parse_database_url(DATABASE_URL, base_dir=BASE_DIR)}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share the file: wait for locks instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The sign-in throttle (accounts/throttle.py), one for every door: this many failures for one
# username from one address lock that pair out for LOGIN_LOCKOUT; this many failures from one
# address, whatever the usernames, lock the address out; from LOGIN_USER_FAILURE_LIMIT failures
# for a username from anywhere, each further attempt from a browser that never signed in as that
# user waits twice as long as the last, at most LOGIN_USER_MAX_DELAY.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_USER_FAILURE_LIMIT = env_int("LOGIN_USER_FAILURE_LIMIT", 10, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50, minimum=1)
LOGIN_LOCKOUT = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
LOGIN_USER_MAX_DELAY = timedelta(seconds=env_int("LOGIN_USER_MAX_DELAY_SECONDS", 60, minimum=1))
# Proxies whose X-Forwarded-For is believed (addresses or networks). Empty: no header is
# trusted and the client is the socket's address (REMOTE_ADDR).
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# Two-step sign-in (accounts/mfa.py): users with one of these roles must set up an
# authenticator app before they can use SalesPrep. Admins must, by default, when DEBUG is off.
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES", [] if DEBUG else ["Admin"])
OTP_TOTP_ISSUER = "SalesPrep"
# A password sign-in waiting for its second step is forgotten after this many seconds.
MFA_PENDING_SECONDS = 300

# Single sign-on with OpenID Connect (accounts/sso.py), off until an issuer and a client id are
# set. Endpoints and keys come from the issuer's discovery document. Accounts are matched by
# verified e-mail; OIDC_GROUP_ROLES / OIDC_GROUP_TEAMS ("group=Role,...") replace the mapped
# roles and team memberships from the groups claim on every sign-in.
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "SSO").strip() or "SSO"
OIDC_ISSUER_URL = env_issuer_url("OIDC_ISSUER_URL")
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID").strip()
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_SCOPES = " ".join(env_str("OIDC_SCOPES", "openid email profile").split())
if "openid" not in OIDC_SCOPES.split():
    raise ImproperlyConfigured(f"OIDC_SCOPES={OIDC_SCOPES!r} must include openid.")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups").strip() or "groups"
OIDC_GROUP_ROLES = env_mapping("OIDC_GROUP_ROLES")
OIDC_GROUP_TEAMS = env_mapping("OIDC_GROUP_TEAMS")
OIDC_CREATE_USERS = env_bool("OIDC_CREATE_USERS", False)
OIDC_TIMEOUT_SECONDS = env_int("OIDC_TIMEOUT_SECONDS", 10, minimum=1)
# "all": everyone may sign in with a password; "break-glass": only BREAK_GLASS_USERS may (on our
# page and the admin's), everyone else signs in with single sign-on.
PASSWORD_SIGNIN = env_choice("PASSWORD_SIGNIN", "all", ("all", "break-glass"))
BREAK_GLASS_USERS = env_list("BREAK_GLASS_USERS")
if PASSWORD_SIGNIN != "all" and not (OIDC_ISSUER_URL and OIDC_CLIENT_ID):  # noqa: S105
    raise ImproperlyConfigured(
        "PASSWORD_SIGNIN=break-glass needs single sign-on: set OIDC_ISSUER_URL and OIDC_CLIENT_ID."
    )

# Sessions live in the database so that logout ends them on the server, read through the cache
# (Redis, or the embedded file cache, both shared by every process) so that a request does not
# pay a query for its session. Revocation does not depend on it: it bumps the user's
# ``session_stamp``, part of the session auth hash checked on every request (accounts/models.py).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Django's model backend, reading the user's roles in the same query as the user.
AUTHENTICATION_BACKENDS = ["accounts.backends.RoleLoadingBackend"]
SESSION_COOKIE_AGE = min(env_int("SESSION_HOURS", 12, minimum=1), 12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Broker and cache: Redis when REDIS_URL is set; otherwise an embedded file broker that needs
# no server but is still consumed by a real worker process.
REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A message a worker took but never acknowledged (the worker was killed) goes back to the
    # queue after this many seconds. kombu looks for such messages every interval x throttle
    # seconds (100 s by default); a short timeout (the fault tests) looks a few times per timeout.
    _visibility_timeout = env_int("CELERY_BROKER_VISIBILITY_TIMEOUT", 3600, minimum=5)
    _restore_every = max(1, min(100, _visibility_timeout // 4))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _visibility_timeout,
        "unacked_restore_interval": min(10, _restore_every),
        "unacked_restore_throttle": max(1, _restore_every // min(10, _restore_every)),
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "salesprep"),
        }
    }
else:
    for folder in ("queue", "processed", "control", "rejected"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    # kombu's file transport made safe for several processes (salesprep/filebroker.py).
    CELERY_BROKER_URL = "filesystem://localhost/"  # kombu warns about a URL with no host
    CELERY_BROKER_TRANSPORT = "salesprep.filebroker:Transport"
    # Remote control broadcasts through the exchange files; nothing uses it on a first run.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # The exchange tables (kombu's default is ./control, in the working tree).
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The file broker polls its folder; the default of 1 s a message is too slow.
        "polling_interval": 0.1,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Both limits stay below the Redis visibility timeout, so a task that is still running is never
# handed to a second worker (a redelivered message means the first worker is gone). Tasks with
# their own limits keep them below these (see callprep/evidence/tasks.py).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180, minimum=2)
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_TASK_SOFT_TIME_LIMIT ({CELERY_TASK_SOFT_TIME_LIMIT}) must be below "
        f"CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT})."
    )
if REDIS_URL and CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT}) must be below "
        "CELERY_BROKER_VISIBILITY_TIMEOUT "
        f"({CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']}), or a running task is "
        "handed to a second worker."
    )
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "callprep.tasks.record_worker_heartbeat",
        "schedule": 60.0,
    },
    "prune-login-throttles": {
        "task": "accounts.tasks.prune_login_throttles",
        "schedule": crontab(minute=17, hour="*/6"),
    },
    "evidence-sweep-stale-runs": {
        "task": "callprep.evidence.tasks.sweep_stale_runs",
        "schedule": 300.0,
    },
    "evidence-refresh-due-accounts": {
        "task": "callprep.evidence.tasks.refresh_due_accounts",
        "schedule": crontab(minute=7),
    },
    "review-send-reminders": {
        "task": "callprep.review.tasks.send_reminders",
        "schedule": crontab(minute="*/15"),
    },
    "dashboard-reconcile-call-facts": {
        "task": "callprep.dashboard.tasks.reconcile_call_facts",
        "schedule": crontab(minute=41, hour="*/3"),
    },
}
# For soak tests of the embedded setup (loadtest/management/commands/soak.py): run every periodic
# job this often, in seconds, instead of its schedule. 0 (the default) keeps the schedule.
BEAT_EVERY_SECONDS = env_int("CELERY_BEAT_INTERVAL_SECONDS", 0, minimum=0)
if BEAT_EVERY_SECONDS:
    for _entry in CELERY_BEAT_SCHEDULE.values():
        _entry["schedule"] = float(BEAT_EVERY_SECONDS)
# Task modules outside an app's tasks.py, which autodiscovery does not find.
CELERY_IMPORTS = ["callprep.evidence.tasks", "callprep.review.tasks", "callprep.dashboard.tasks"]
# A brief is due this many hours before its call's current start (callprep/briefs/models.py).
BRIEF_DUE_HOURS = env_int("BRIEF_DUE_HOURS", 48, minimum=1)

# Upload limits of the CSV account import and the .ics calendar import: a file over one is
# refused with a message that names it, before any row or event is read.
IMPORT_MAX_MEGABYTES = env_int("IMPORT_MAX_MEGABYTES", 5, minimum=1)
CSV_IMPORT_MAX_COLUMNS = env_int("CSV_IMPORT_MAX_COLUMNS", 200, minimum=1)
CSV_IMPORT_MAX_ROWS = env_int("CSV_IMPORT_MAX_ROWS", 50_000, minimum=1)
ICS_IMPORT_MAX_EVENTS = env_int("ICS_IMPORT_MAX_EVENTS", 5_000, minimum=1)
# Rows the worker imports per transaction (each holds the write lock well under a second).
CSV_IMPORT_BATCH_ROWS = env_int("CSV_IMPORT_BATCH_ROWS", 100, minimum=1)
# Calendar events longer than this are refused with a message naming the event (and events
# outside callprep.models.CALL_YEARS).
# Calendar events the worker imports per transaction (each holds the write lock well under a
# second).
ICS_IMPORT_BATCH_EVENTS = env_int("ICS_IMPORT_BATCH_EVENTS", 50, minimum=1)
# Occurrences of repeating events one file may make the import go through to find their next
# ones (a weekly meeting begun two years ago takes about 104).
ICS_IMPORT_MAX_OCCURRENCES = env_int("ICS_IMPORT_MAX_OCCURRENCES", 200_000, minimum=1)
ICS_IMPORT_MAX_EVENT_DAYS = env_int("ICS_IMPORT_MAX_EVENT_DAYS", 31, minimum=1)

# E-mail (Django 6.1 mailers). The console backend prints mail in development.
EMAIL_BACKEND_PATH = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
_smtp_options = {
    "host": env_str("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 25, minimum=1),
    "username": env_str("EMAIL_HOST_USER"),
    "password": env_str("EMAIL_HOST_PASSWORD"),
    "use_tls": env_bool("EMAIL_USE_TLS", False),
    "timeout": 10,
}
MAILERS = {
    "default": {
        "BACKEND": EMAIL_BACKEND_PATH,
        "OPTIONS": _smtp_options if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SalesPrep <salesprep@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security headers. HTTPS settings default on when DEBUG is off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The container's health check and load balancers ask /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# X-Forwarded-Proto is believed only when a TLS-terminating proxy in front sets it (and
# replaces whatever a client sent): anyone else could claim HTTPS with it.
if env_bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# SEC asks every client to declare who it is; evidence collection reads this later.
SEC_CONTACT_EMAIL = env_str("SEC_CONTACT_EMAIL")
FRED_API_KEY = env_str("FRED_API_KEY")
# Evidence sources: "live" fetches the public APIs; "replay" serves the recorded responses in
# callprep/evidence/recordings/ (the demo and tests; no network).
EVIDENCE_TRANSPORT = env_str("EVIDENCE_TRANSPORT", "live")
if EVIDENCE_TRANSPORT == "replay":
    # Recorded responses come from disk: there is no service to be fair to, so the per-source
    # rate limits (GDELT's 5 s spacing above all) would only slow the demo down.
    EVIDENCE_RATE_LIMITS = dict.fromkeys(("sec", "fred", "gdelt", "worldbank", "website", "feed"))
# Optional full SEC User-Agent; by default "SalesPrep evidence collector <SEC_CONTACT_EMAIL>".
SEC_USER_AGENT = env_str("SEC_USER_AGENT")
# RSS/Atom feeds searched for news about an account; "{query}" becomes the quoted account name.
EVIDENCE_NEWS_FEEDS = env_list("EVIDENCE_NEWS_FEEDS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Covering indexes (INCLUDE columns) serve PostgreSQL; SQLite, the first-run default, builds the
# same indexes without the extra columns, which is harmless there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
