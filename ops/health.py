"""What /healthz checks: each check returns (ok, details). Details never carry an error's
text (it could name a host or a key): only its class; the full error goes to the log."""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.utils import timezone

from . import heartbeat, queue_probe

logger = logging.getLogger(__name__)

PROBE_CONTENT = b"trama healthz probe"


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, {}


def check_cache():
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=30)
    try:
        return cache.get(key) == "ok", {}
    finally:
        cache.delete(key)


def check_storage():
    """Write, read back and delete a tiny file on the private storage (receipts live there)."""
    storage = storages["private"]
    name = storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(PROBE_CONTENT))
    try:
        with storage.open(name, "rb") as probe:
            return probe.read() == PROBE_CONTENT, {}
    finally:
        storage.delete(name)


def check_processes(now):
    """Red when a worker or the scheduler stopped beating, or when no worker or no scheduler
    beats at all."""
    alive = list(heartbeat.alive(now).values_list("kind", flat=True))
    silent = sorted(heartbeat.silent(now).values_list("name", flat=True))
    workers = alive.count("worker")
    schedulers = alive.count("scheduler")
    ok = not silent and workers > 0 and schedulers > 0
    return ok, {"workers_alive": workers, "schedulers_alive": schedulers, "silent": silent}


def check_queue(now):
    waited = queue_probe.oldest_wait(now).total_seconds()
    limit = settings.QUEUE_WAIT_LIMIT
    return waited < limit, {"oldest_wait_seconds": round(waited, 1), "limit_seconds": limit}


def run_checks():
    """{name: {"ok": bool, ...details}} for every check; a check that raises is red."""
    now = timezone.now()
    checks = {
        "database": check_database,
        "cache": check_cache,
        "storage": check_storage,
        "processes": lambda: check_processes(now),
        "queue": lambda: check_queue(now),
    }
    results = {}
    for name, check in checks.items():
        try:
            ok, details = check()
        except Exception as exc:
            # A warning: /healthz is the alarm; an ERROR per poll would page (and reach Sentry).
            logger.warning("health check %s failed", name, exc_info=True)
            ok, details = False, {"error": type(exc).__name__}
        results[name] = {"ok": bool(ok), **details}
    return results
