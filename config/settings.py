"""Trama settings: one module, driven by environment variables.

Every variable is read once here, with its type and a safe development default; `.env.example`
lists them all. With `DEBUG` off, the secrets below must be set or the process refuses to start.
"""

import json
import logging
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.mailers import SMTP_BACKEND, mailer

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url):
    """Parse `postgres://user:pass@host:port/name` or `sqlite:///path` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else parts.path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path or BASE_DIR / "trama.sqlite3",
            # The demo's web process and task worker write at once: take the write lock at
            # BEGIN and wait for it, and let readers proceed beside a writer (WAL).
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                # Seconds a write waits for another writer before "database is locked".
                # The worker outlasts longer writes (it waits and retries, run_worker).
                "timeout": env_int("SQLITE_TIMEOUT", 20),
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported")


# --- Core ---------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public address of the site, used in emails and Stripe return URLs.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAIL_SITE_NAME = "Trama"

INSTALLED_APPS = [
    "crm",
    "cms",
    "campaigns",
    "accounts",
    "outreach",
    "relations",
    "ops",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "anymail",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Wagtail's PostgreSQL search backend needs it (postgres.E005 otherwise).
    "django.contrib.postgres",
]

MIDDLEWARE = [
    # Outermost: every log line of a request carries its id (X-Request-ID, echoed back), and
    # every response, even one a middleware below answers, is counted and timed (/metrics).
    "ops.middleware.RequestIdMiddleware",
    "ops.middleware.MetricsMiddleware",
    # The client's address from X-Forwarded-For, only when the peer is a TRUSTED_PROXIES.
    "ops.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the web process itself when no front server serves /static/ first
    # (production only; runserver serves them in development).
    *([] if DEBUG else ["whitenoise.middleware.WhiteNoiseMiddleware"]),
    # Anonymous visitors' public pages whole from the shared cache, before sessions, CSRF and
    # Wagtail's routing (cms.pagecache; PAGE_CACHE_* below).
    "cms.pagecache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(), then the second factor owed before any page (accounts/).
    "django_otp.middleware.OTPMiddleware",
    "accounts.second_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Below the CSP middleware, so it answers first: the admin's own, looser policy.
    "config.csp.AdminContentSecurityPolicyMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: turns a blocked sign-in into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "wagtail.contrib.settings.context_processors.settings",
                # No CSRF token in a page rendered for the page cache (cms.pagecache).
                "cms.pagecache.context",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# Without DATABASE_URL: SQLite in the project folder (the embedded default for the demo).
DATABASES = {
    "default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'trama.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and security --------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "wagtailadmin_login"
# django-axes first: it refuses a blocked sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in lockout (django-axes 8, https://django-axes.readthedocs.io/en/latest/4_configuration.html;
# the rules in accounts/lockouts.py). AXES_FAILURE_LIMIT failed sign-ins on one account from one
# address block that account from that address (a colleague elsewhere still signs in) for
# AXES_COOLOFF minutes after the last counted failure, twice as long each time it comes back
# within a day; SIGN_IN_ADDRESS_FAILURE_LIMIT failures from one address on any accounts block the
# address. Superusers lift one early in Settings → Sign-in security.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
SIGN_IN_ADDRESS_FAILURE_LIMIT = env_int("SIGN_IN_ADDRESS_FAILURE_LIMIT", 20)
SIGN_IN_COOLOFF = timedelta(minutes=env_int("AXES_COOLOFF", 15))
AXES_COOLOFF_TIME = "accounts.lockouts.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The log of failed sign-ins (username, address, browser): the blocks recorded in it make the next
# block of the same account and address longer. Kept a day (accounts.lockouts.SignInHandler).
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Attempts while blocked are refused without counting: the block ends on time, as the page says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe the failures (it would let anyone with one account reset the count of
# their address between guesses at others).
AXES_RESET_ON_SUCCESS = False
# The database handler: counted once across all web processes (the cache handler would be too,
# with Redis, but the database is always there).
AXES_HANDLER = "accounts.lockouts.SignInHandler"
# REMOTE_ADDR only, as the giving rate limits: behind a proxy, make the proxy set it. An IPv6
# client is its /64 (crm.throttle.client_key), as in every per-client limit.
AXES_CLIENT_IP_CALLABLE = "accounts.limits.sign_in_client"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"  # a translated 429 in the admin's look
# No log of every successful sign-in (username, address, browser) kept forever; the failures
# are kept only for the cool-off.
AXES_DISABLE_ACCESS_LOG = True
# Second factor (django-otp, TOTP apps): who must have one before any admin page, among
# superusers, treasurers, communicators, everyone. Anyone may turn it on for themselves
# (Account → Two-step verification). Production asks superusers and treasurers by default; with
# DEBUG (make demo) nobody, so the demo needs no phone.
OTP_REQUIRED_FOR = env_list("OTP_REQUIRED_FOR", "" if DEBUG else "superusers,treasurers")
if unknown := set(OTP_REQUIRED_FOR) - {"superusers", "treasurers", "communicators", "everyone"}:
    raise ImproperlyConfigured(f"OTP_REQUIRED_FOR: unknown roles {sorted(unknown)}")
OTP_TOTP_ISSUER = WAGTAIL_SITE_NAME  # the account's name in the authenticator app
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Monitors and Prometheus call the web processes directly, inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
# The front servers in front of the web processes (addresses or networks, e.g. 127.0.0.1 or
# 172.28.0.0/24): only from them is X-Forwarded-For believed (ops.middleware). Empty: nobody.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# A donation form sent without a token (a page from the page cache, no JavaScript) comes back
# filled in with the donor's own token (campaigns.views.csrf_failure); other refusals as Django's.
CSRF_FAILURE_VIEW = "campaigns.views.csrf_failure"
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"  # Wagtail's preview panel shows the page in a same-origin iframe.
SILENCED_SYSTEM_CHECKS = ["security.W019"]  # ...so DENY would break the editors' preview.

# Content Security Policy (Django 6 built-in): our own assets, and Stripe's where they are used.
# Public pages run no inline script or style at all (templates link static files only); the
# Wagtail admin, whose editors need inline code, gets SECURE_CSP_ADMIN (config/csp.py).
STRIPE_JS_ORIGIN = "https://js.stripe.com"
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'", STRIPE_JS_ORIGIN],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:", "https:"],
    "frame-src": [
        "'self'",
        STRIPE_JS_ORIGIN,
        "https://www.youtube-nocookie.com",
        "https://www.youtube.com",
        "https://player.vimeo.com",
    ],
    "connect-src": ["'self'", "https://api.stripe.com"],
    "form-action": ["'self'", "https://checkout.stripe.com"] + env_list("CSP_EXTRA_FORM_ACTION"),
    "frame-ancestors": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
}
SECURE_CSP_ADMIN = {
    **SECURE_CSP,
    "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
    "style-src": ["'self'", "'unsafe-inline'"],
}

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "it"
LANGUAGES = [("it", _("Italian")), ("en", _("English"))]
WAGTAIL_I18N_ENABLED = False
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Rome")
USE_I18N = True
USE_TZ = True
# Dates in the admin's date pickers (page editor, filters) as people write them: 24/11/2026, not
# 2026-11-24. English keeps the day first too (config/formats/en), so that "04/12/2026" reads
# and parses as the 4th of December in both languages.
WAGTAIL_DATE_FORMAT = "%d/%m/%Y"
WAGTAIL_DATETIME_FORMAT = "%d/%m/%Y %H:%M"
WAGTAIL_TIME_FORMAT = "%H:%M"
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "/static/"
# `manage.py collectstatic` copies the static files here; the front server (Caddy, nginx)
# serves them at /static/, or WhiteNoise from the web process when there is none.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Private files (receipt PDFs, documents): the "private" storage, never MEDIA_ROOT, which
# /media/ serves to anyone (page images). A folder by default; a private S3-compatible bucket
# when PRIVATE_STORAGE_BUCKET is set (django-storages: private ACL, signed expiring URLs, no
# overwrite). Only checked views serve them (signed links, the admin, the documents' view).
PRIVATE_ROOT = Path(env_str("PRIVATE_ROOT", str(BASE_DIR / "var" / "private")))
PRIVATE_STORAGE_BUCKET = env_str("PRIVATE_STORAGE_BUCKET")


def s3_private_storage(bucket, *, location="", endpoint_url=None, region_name=None, **keys):
    """The private alias on an S3-compatible bucket (django-storages): objects written with a
    private ACL, read only with the keys (or a signed URL that expires in 5 minutes), never
    overwritten. `keys`: access_key and secret_key (None: boto3's own credential chain)."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "location": location,
            "endpoint_url": endpoint_url,
            "region_name": region_name,
            "access_key": keys.get("access_key"),
            "secret_key": keys.get("secret_key"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        },
    }


if PRIVATE_STORAGE_BUCKET:
    PRIVATE_STORAGE = s3_private_storage(
        PRIVATE_STORAGE_BUCKET,
        location=env_str("PRIVATE_STORAGE_PREFIX"),
        # Empty: AWS itself; e.g. https://s3.eu-south-1.amazonaws.com or a MinIO address.
        endpoint_url=env_str("PRIVATE_STORAGE_ENDPOINT_URL") or None,
        region_name=env_str("PRIVATE_STORAGE_REGION") or None,
        # Empty: boto3's own credential chain (instance role, ~/.aws).
        access_key=env_str("PRIVATE_STORAGE_ACCESS_KEY_ID") or None,
        secret_key=env_str("PRIVATE_STORAGE_SECRET_ACCESS_KEY") or None,
    )
else:
    for public_root in (MEDIA_ROOT, STATIC_ROOT):
        if PRIVATE_ROOT.resolve().is_relative_to(Path(public_root).resolve()):
            raise ImproperlyConfigured(f"PRIVATE_ROOT must be outside {public_root} (public)")
    # No base URL: its url() refuses (crm.storage), so nothing can link a private file.
    PRIVATE_STORAGE = {
        "BACKEND": "crm.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": PRIVATE_ROOT},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": PRIVATE_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Wagtail ------------------------------------------------------------------------------------
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "xlsx", "docx", "odt", "txt"]
# Documents live on the private storage and leave only through Wagtail's serve view, which
# serves a document to the public only if a live public page uses it (cms/documents.py).
WAGTAILDOCS_DOCUMENT_MODEL = "cms.NetworkDocument"
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
# No avatars fetched from gravatar.com: treasurers' emails stay on our server.
WAGTAIL_GRAVATAR_PROVIDER_URL = None

# --- Cache --------------------------------------------------------------------------------------
# Shared by every process (web workers, task worker): the checkout rate limits must count once
# and an invalidated campaign total must be gone for all. The database by default (no extra
# service; `migrate` creates the table, crm/migrations/0005), Redis when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL")  # e.g. redis://127.0.0.1:6379/0
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "trama",  # the Redis may be shared with other applications
            # Seconds to connect and for each answer: a hanging Redis fails a request clearly
            # instead of holding it (redis-py waits forever by default).
            "OPTIONS": {
                "socket_connect_timeout": env_int("REDIS_TIMEOUT", 2),
                "socket_timeout": env_int("REDIS_TIMEOUT", 2),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "trama_cache",
            # Beyond MAX_ENTRIES every write deletes a third of the rows, rate-limit counters
            # included: 300 (Django's default) is too few under a card-testing run.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }
# Rendered page fragments are keyed by the page's published revision and language, so they never
# go stale: each process keeps its own, and a warm campaign page asks the shared cache only for
# its totals (one query with the database cache, instead of four).
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
}
# Wagtail looks up each image rendition in the "renditions" cache and sets it again on a miss:
# in each process's memory (renditions never change once made), not a shared-cache write (a
# database write transaction with the database cache) on a page view.
CACHES["renditions"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "renditions",
    "OPTIONS": {"MAX_ENTRIES": 5000},
}
# Whole public pages for anonymous visitors, from the shared cache above (cms.pagecache):
# seconds an entry lives (0: off; publishing, unpublishing, moving or deleting a page drops
# them all anyway), and the Cache-Control given to browsers (max-age) and to a CDN or front
# cache (s-maxage). Raise PAGE_CACHE_CDN_SECONDS only with a purge on publish configured
# (wagtail.contrib.frontend_cache, WAGTAILFRONTENDCACHE).
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 120)
PAGE_CACHE_MAX_AGE = env_int("PAGE_CACHE_MAX_AGE", 60)
PAGE_CACHE_CDN_SECONDS = env_int("PAGE_CACHE_CDN_SECONDS", PAGE_CACHE_MAX_AGE)
# Seconds browsers and a CDN may keep a campaign's live figures (campaigns.views.live_figures);
# pages refresh them every LIVE_FIGURES_REFRESH seconds.
LIVE_FIGURES_MAX_AGE = env_int("LIVE_FIGURES_MAX_AGE", 5)
LIVE_FIGURES_REFRESH = env_int("LIVE_FIGURES_REFRESH", 10)

# --- Giving: card-testing limits and an optional challenge (campaigns.ratelimit) ---------------
# Checkout starts allowed per sliding window of GIVING_LIMIT_WINDOW seconds: per client address
# (generous: a charity dinner on shared Wi-Fi), per normalised email (tight: card testers reuse
# one), per campaign (many addresses and emails on one campaign).
_GIVING_WINDOW = env_int("GIVING_LIMIT_WINDOW", 3600)
GIVING_RATE_LIMITS = {
    "ip": (env_int("GIVING_LIMIT_PER_ADDRESS", 60), _GIVING_WINDOW),
    "email": (env_int("GIVING_LIMIT_PER_EMAIL", 5), _GIVING_WINDOW),
    "campaign": (env_int("GIVING_LIMIT_PER_CAMPAIGN", 600), _GIVING_WINDOW),
}
# Past the campaign's threshold, every start must pass a challenge instead of being refused: the
# dotted path of a challenge class (campaigns.challenge); empty: the built-in proof of work, of
# GIVING_CHALLENGE_DIFFICULTY bits (about 2^bits hashes in the donor's browser).
GIVING_CHALLENGE = env_str("GIVING_CHALLENGE", "")
GIVING_CHALLENGE_DIFFICULTY = env_int("GIVING_CHALLENGE_DIFFICULTY", 16)

# --- Background tasks ---------------------------------------------------------------------------
# TASKS_BACKEND: the database queue (django-tasks-db, one machine or a shared database) or RQ on
# Redis (`django_tasks_rq.RQBackend`, for several machines; its queues live in TASKS_REDIS_URL,
# by default REDIS_URL). `manage.py run_worker` starts the right worker for either; tests switch
# to Immediate. The state of the work (emails, statement runs, messages) is on Trama's own rows,
# never read from the backend (crm.sweep), so both behave the same.
TASKS_BACKEND = env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND, "QUEUES": ["default"]}}
RQ_BACKEND = "django_tasks_rq.RQBackend"
TASKS_REDIS_URL = env_str("TASKS_REDIS_URL", REDIS_URL or "redis://127.0.0.1:6379/0")
# Seconds RQ lets one task run before killing it: above the longest task (a statement run's
# slice, STATEMENT_RUN_SECONDS, and a message's, OUTREACH_TASK_SECONDS).
TASKS_TIMEOUT = env_int("TASKS_TIMEOUT", 1800)
RQ_QUEUES = {"default": {"URL": TASKS_REDIS_URL, "DEFAULT_TIMEOUT": TASKS_TIMEOUT}}
if TASKS_BACKEND == RQ_BACKEND:
    INSTALLED_APPS += ["django_rq"]
# Work queued longer ago than TASKS_LOST_AFTER seconds and still not done (an email, a receipt's
# PDF, a message) is presumed lost with its task (a killed worker, a flushed Redis) and queued
# again by the sweep: once per TASKS_LOST_AFTER, never once per sweep. Every task is
# idempotent, so a task that was merely waiting in a long queue costs one extra run.
TASKS_LOST_AFTER = env_int("TASKS_LOST_AFTER", 600)
# A claim (an email being sent, a statement run, a batch of a message's deliveries) whose
# heartbeat is older than CLAIM_STALE_AFTER seconds lost its worker and is taken over. Workers
# beat every few seconds; a single email send must take less (EMAIL_TIMEOUT).
CLAIM_STALE_AFTER = env_int("CLAIM_STALE_AFTER", 120)
# A statement run works this many seconds per task, then hands over to a fresh task (time
# limit; keep it below TASKS_TIMEOUT).
STATEMENT_RUN_SECONDS = env_int("STATEMENT_RUN_SECONDS", 300)
# Task workers and the scheduler write a heartbeat row (ops.heartbeat) this often; one silent
# for HEARTBEAT_SILENT_AFTER seconds has died, and /healthz says so.
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 10)
HEARTBEAT_SILENT_AFTER = env_int("HEARTBEAT_SILENT_AFTER", 45)
# More sweep rules, from apps crm must not import: dotted paths of callables taking `now` and
# returning counts (crm.sweep.run_sweep runs them after its own).
WORKER_SWEEPS = ("outreach.sending.sweep", "campaigns.webhooks.sweep_waiting")
# The name a worker or the scheduler beats under (ops.heartbeat.default_name); empty: its
# host and process id. The supervisor (`bin/trama serve`) gives each child a stable name
# (`worker-1@host`), so a restarted worker takes over its dead predecessor's row.
PROCESS_NAME = env_str("PROCESS_NAME")

# --- Retention (ops.pruning; notes: "Retention") ---------------------------------------------
# Days after which a daily job deletes what is no longer needed. Receipts and their records,
# gifts, refunds and payouts are never pruned (art. 2220 c.c.: ten years).
TASK_RESULTS_RETENTION_DAYS = env_int("TASK_RESULTS_RETENTION_DAYS", 30)
STRIPE_EVENTS_RETENTION_DAYS = env_int("STRIPE_EVENTS_RETENTION_DAYS", 90)
DONOR_LINK_EMAILS_RETENTION_DAYS = env_int("DONOR_LINK_EMAILS_RETENTION_DAYS", 90)
OUTREACH_DELIVERIES_RETENTION_DAYS = env_int("OUTREACH_DELIVERIES_RETENTION_DAYS", 365)
CHECKOUT_ATTEMPTS_RETENTION_DAYS = env_int("CHECKOUT_ATTEMPTS_RETENTION_DAYS", 30)
# Periodic jobs: (dotted path of a django.tasks task, every so many seconds). `manage.py
# run_scheduler` enqueues each when due, once across every scheduler running (ops.scheduler).
SWEEP_INTERVAL = env_int("SWEEP_INTERVAL", 60)
PERIODIC_JOBS = (
    ("crm.sweep.sweep", SWEEP_INTERVAL),
    ("outreach.tasks.start_due_messages", env_int("SCHEDULED_MESSAGES_INTERVAL", 30)),
    ("ops.tasks.prune_old_records", 86400),
    # The queue's wait, measured on our own rows whatever the tasks backend (/healthz).
    ("ops.tasks.probe_queue", env_int("QUEUE_PROBE_SECONDS", 60)),
    # Reminders of calls', reports' and tasks' deadlines (relations.reminders): sent once.
    ("relations.tasks.send_reminders", env_int("RELATIONS_REMINDERS_INTERVAL", 3600)),
)
# Days before a deadline its owner is reminded by email (each step once), comma-separated.
RELATIONS_REMINDER_DAYS = tuple(
    int(days) for days in env_str("RELATIONS_REMINDER_DAYS", "7,1").split(",") if days.strip()
)

# --- Messages to donors (outreach.sending) -------------------------------------------------------
# How many worker runs share one message; deliveries each run claims at a time; seconds a run
# sends before handing over to a fresh one (keep it well below TASKS_TIMEOUT). A claimed batch's
# deliveries carry the worker's heartbeat; claims older than CLAIM_STALE_AFTER go back.
OUTREACH_SEND_WORKERS = env_int("OUTREACH_SEND_WORKERS", 2)
OUTREACH_BATCH_SIZE = env_int("OUTREACH_BATCH_SIZE", 100)
OUTREACH_TASK_SECONDS = env_int("OUTREACH_TASK_SECONDS", 300)

# --- The donor's page (crm.portal) ---------------------------------------------------------------
# The emailed link opens the page for DONOR_PORTAL_LINK_MAX_AGE seconds after it was sent; once
# opened, the page stays open in that browser for DONOR_PORTAL_SESSION_MAX_AGE seconds.
DONOR_PORTAL_LINK_MAX_AGE = env_int("DONOR_PORTAL_LINK_MAX_AGE", 3600)
DONOR_PORTAL_SESSION_MAX_AGE = env_int("DONOR_PORTAL_SESSION_MAX_AGE", 2 * 3600)

# --- Mail ---------------------------------------------------------------------------------------
# MAIL_BACKEND is a Django/anymail backend path: the console in development (ours prints headers,
# text and attachment names, not base64), an anymail ESP in production (e.g.
# anymail.backends.brevo.EmailBackend) whose keys go in ANYMAIL_* variables, or Django's SMTP
# backend with the SMTP_* variables. Every send gives up after EMAIL_TIMEOUT seconds (SMTP, the
# ESP's HTTP API, or SES): a hanging provider never holds a worker for long, and the email stays
# queued for its next attempt (crm.outbox). See config/mailers.py for how each backend takes it.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Trama <noreply@trama.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Not named EMAIL_TIMEOUT here: Django 6.1 refuses the deprecated EMAIL_* settings beside MAILERS.
MAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
MAILERS = {
    "default": mailer(
        # Empty or unset: the console with DEBUG, SMTP (SMTP_* below) without.
        env_str("MAIL_BACKEND") or ("config.console_mail.EmailBackend" if DEBUG else SMTP_BACKEND),
        timeout=MAIL_TIMEOUT,
        smtp={
            "host": env_str("SMTP_HOST", "localhost"),
            "port": env_int("SMTP_PORT", 25),
            "username": env_str("SMTP_USERNAME"),
            "password": env_str("SMTP_PASSWORD"),
            "use_tls": env_bool("SMTP_USE_TLS", False),
            "use_ssl": env_bool("SMTP_USE_SSL", False),
        },
        ses_client_params=json.loads(env_str("ANYMAIL_AMAZON_SES_CLIENT_PARAMS") or "{}"),
    )
}
ANYMAIL = {
    key: os.environ[f"ANYMAIL_{key}"]
    for key in (
        "BREVO_API_KEY",
        "MAILGUN_API_KEY",
        "MAILGUN_SENDER_DOMAIN",
        "POSTMARK_SERVER_TOKEN",
        "SENDGRID_API_KEY",
        "WEBHOOK_SECRET",
    )
    if os.environ.get(f"ANYMAIL_{key}")
}
# The tracking webhook (/crm/anymail/...) checks this basic-auth secret: without it anyone could
# post deliveries and bounces for our emails to donors.
if not DEBUG and not ANYMAIL.get("WEBHOOK_SECRET"):
    raise ImproperlyConfigured("ANYMAIL_WEBHOOK_SECRET must be set when DEBUG is off")

# --- Stripe -------------------------------------------------------------------------------------
# Without STRIPE_SECRET_KEY, STRIPE_API_BASE points at the local stand-in (make demo starts it).
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "sk_test_local_standin")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "pk_test_local_standin")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "whsec_local_standin" if DEBUG else "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")
# Seconds a Stripe call waits to connect and for each answer (the SDK's own default is 80), and
# how many times a call that failed on the network, or that Stripe asks us to repeat (409, 5xx),
# is tried again; creating calls (checkout, refunds, plan changes) carry idempotency keys, so a
# retry never makes a second one (campaigns.stripe_api).
STRIPE_TIMEOUT = env_int("STRIPE_TIMEOUT", 15)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
# A call to an outside service made while a database transaction is open holds its locks for as
# long as the service takes (crm.outbound): "raise" (development, tests) or "log" (production).
OUTBOUND_IN_TRANSACTION = env_str("OUTBOUND_IN_TRANSACTION", "raise" if DEBUG else "log")
if STRIPE_API_BASE:
    # The donation form redirects to Checkout's hosted page, on the stand-in's origin here:
    # CSP form-action also governs redirects after a form submission.
    SECURE_CSP["form-action"].append(STRIPE_API_BASE.rstrip("/"))
if not DEBUG and not STRIPE_WEBHOOK_SECRET:
    raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET must be set when DEBUG is off")

# --- Logging ------------------------------------------------------------------------------------
# Wagtail's housekeeping after every save (reference index, search index): two worker lines
# each, and no news. Their failures are logged at ERROR and still show.
HOUSEKEEPING_TASKS = ("path=wagtail.tasks.update_reference_index_task ", "path=modelsearch.tasks.")


def _not_housekeeping(record):
    message = record.getMessage()
    return record.levelno >= logging.WARNING or not any(t in message for t in HOUSEKEEPING_TASKS)


# LOG_FORMAT: `json` (one object a line, with the request's id: for a log collector) by
# default in production, `plain` with DEBUG.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {
        "not_housekeeping": {
            "()": "django.utils.log.CallbackFilter",
            "callback": _not_housekeeping,
        },
        # Puts the id of the request being served (ops.middleware) on every record.
        "request_id": {"()": "ops.log.RequestIdFilter"},
        "quiet_healthz": {"()": "ops.log.QuietHealthz"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives "django" a console handler of its own in DEBUG: every
        # django.* line (task lifecycle, autoreload) came twice, once unformatted. Root only.
        "django": {"handlers": []},
        # A red /healthz is the monitor's answer, not a server error (ops.log.QuietHealthz).
        "django.request": {"filters": ["quiet_healthz"]},
        # One line per request with its id, view, status and time (ops.middleware); in
        # development runserver prints its own.
        "ops.requests": {"level": "WARNING" if DEBUG else "INFO"},
        "django.db.backends": {"level": "WARNING"},
        # One line when a task starts and one when it ends, from the worker (which sets these
        # loggers to INFO anyway: `run_worker` at verbosity 1).
        "django.tasks": {"level": "INFO", "filters": ["not_housekeeping"]},
        "django_tasks": {"level": "INFO", "filters": ["not_housekeeping"]},
        # The SDK logs each call twice at INFO; our callers log the failures.
        "stripe": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        # One INFO line at every start of every process (version, lockout parameters).
        "axes": {"level": "WARNING"},
    },
}

# --- Watching it (ops/) -------------------------------------------------------------------------
# /metrics (Prometheus) answers only with `Authorization: Bearer <METRICS_TOKEN>`; without a
# token set it answers 404. Under gunicorn, PROMETHEUS_MULTIPROC_DIR (bin/trama sets one) lets
# every web worker count into shared files.
METRICS_TOKEN = env_str("METRICS_TOKEN")
# /healthz turns red when the oldest waiting probe task (ops.tasks.probe_queue) has waited this
# many seconds.
QUEUE_WAIT_LIMIT = env_int("QUEUE_WAIT_LIMIT", 300)
# Errors to Sentry (sentry-sdk) when SENTRY_DSN is set; no personal data is sent.
SENTRY_DSN = env_str("SENTRY_DSN")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "production")
SENTRY_TRACES_SAMPLE_RATE = float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0") or 0)
