"""Test settings: a thin override of config.settings."""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "tests-only")

from config.settings import *  # noqa: E402,F403
from config.settings import BASE_DIR, DATABASES, LOGGING  # noqa: E402

# Far from UTC on purpose: fiscal-year and date-boundary bugs show up here first.
TIME_ZONE = "Pacific/Auckland"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# One folder per database: `make test PARALLEL_STAGES=1` runs the PostgreSQL and SQLite suites
# at once, and a backup test of one read the private files the other was removing.
_SUITE = DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
MEDIA_ROOT = BASE_DIR / "var" / f"test-media-{_SUITE}"
PRIVATE_ROOT = BASE_DIR / "var" / f"test-private-{_SUITE}"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "crm.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": PRIVATE_ROOT},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING["root"]["level"] = "WARNING"
# The worker tests start `manage.py run_worker` processes that must see the test database: on
# SQLite a file (one per test process) rather than Django's in-memory default.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"trama-test-{os.getpid()}.sqlite3")
    }

# A transaction some thread leaves open must not hang the suite: the flush after a
# transactional test waits for every lock, so PostgreSQL ends sessions idle in a transaction
# for over a minute (no test holds one that long on purpose).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        "-c idle_in_transaction_session_timeout=60000"
    )

# Tests never reach the real Stripe: without the stand-in fixture, calls fail at once.
# (Processes started with STRIPE_API_BASE in their environment keep it.)
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or "http://127.0.0.1:9"
