"""Periodic jobs of the running service, run by the scheduler (settings.PERIODIC_JOBS): the
queue probe (/healthz) and the pruning of old records."""

import logging

from django.tasks import task
from django.utils import timezone

from . import pruning, queue_probe

logger = logging.getLogger(__name__)


@task()
def probe_queue():
    """Periodic: write a probe and send `answer_probe` through the queue (ops.queue_probe)."""
    queue_probe.send_probe(lambda probe_id: answer_probe.enqueue(probe_id))


@task()
def answer_probe(probe_id):
    queue_probe.answer_probe(probe_id)


@task()
def prune_old_records():
    """Delete what the retention policy no longer keeps (ops.pruning). Safe to run twice."""
    counts = pruning.prune(timezone.now())
    logger.info("pruned %s", ", ".join(f"{name}={n}" for name, n in counts.items()))
    return counts
