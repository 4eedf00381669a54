"""Periodic jobs of the running service, run by the scheduler (settings.PERIODIC_JOBS)."""

import logging

from django.tasks import task
from django.utils import timezone

from . import pruning

logger = logging.getLogger(__name__)


@task()
def prune_old_records():
    """Delete what the retention policy no longer keeps (ops.pruning). Safe to run twice."""
    counts = pruning.prune(timezone.now())
    logger.info("pruned %s", ", ".join(f"{name}={n}" for name, n in counts.items()))
    return counts
