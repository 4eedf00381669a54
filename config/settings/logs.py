"""Logging and watching it: log format, loggers, metrics, the queue probe, Sentry."""

import logging

from django.core.exceptions import ImproperlyConfigured

from .core import DEBUG
from .env import env_int, env_str

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
