"""Heartbeats of the long-running processes (task workers, the scheduler), on our own table.

`beat()` is called by a process at start and every `settings.HEARTBEAT_SECONDS`; `forget()`
when it stops gracefully; `silent()` lists the processes that stopped beating (died) for
/healthz and the metrics.
"""

import os
import socket
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import ProcessBeat


def default_name(kind):
    """`settings.PROCESS_NAME` when the supervisor gave one (stable across restarts, so a
    restarted worker beats on its dead predecessor's row), else a name unique to this process
    on this machine, e.g. `worker@web-1:4242`."""
    return settings.PROCESS_NAME or f"{kind}@{socket.gethostname()}:{os.getpid()}"


def beat(name, kind, *, started_at=None):
    """Record that process `name` is alive now (one small write, its own transaction)."""
    now = timezone.now()
    ProcessBeat.objects.update_or_create(
        name=name,
        defaults={
            "kind": kind,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "beat_at": now,
        },
        create_defaults={
            "kind": kind,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "beat_at": now,
            "started_at": started_at or now,
        },
    )


def forget(name):
    """A process that stops gracefully leaves no silent row behind."""
    ProcessBeat.objects.filter(name=name).delete()


def silent(now=None):
    """Processes whose last heartbeat is older than `settings.HEARTBEAT_SILENT_AFTER` seconds."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.HEARTBEAT_SILENT_AFTER)
    return ProcessBeat.objects.filter(beat_at__lt=cutoff)


def alive(now=None):
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.HEARTBEAT_SILENT_AFTER)
    return ProcessBeat.objects.filter(beat_at__gte=cutoff)
