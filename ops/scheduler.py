"""The scheduler of periodic jobs (`manage.py run_scheduler`): every job of
`settings.PERIODIC_JOBS`, a `(dotted path of a django.tasks task, seconds)` pair, is put on the
configured tasks backend when due, and run there by any worker.

Several schedulers (one per machine, say) may run at once: each due run is claimed by
compare-and-set on the job's row (`PeriodicJob.last_enqueued_at`), so exactly one scheduler
enqueues it. A job whose enqueue fails (Redis down) gets its claim back and is tried again at
the next tick.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import PeriodicJob

logger = logging.getLogger(__name__)


def periodic_jobs():
    """[(task, seconds)] from settings.PERIODIC_JOBS; a wrong path fails loudly at start."""
    return [(import_string(path), int(seconds)) for path, seconds in settings.PERIODIC_JOBS]


def ensure_rows(jobs):
    for task, _seconds in jobs:
        PeriodicJob.objects.get_or_create(name=task.module_path)


def claim(name, seconds, now):
    """Take the run of job `name` due at `now` (none enqueued in the last `seconds`), by
    compare-and-set: of two schedulers, the second UPDATE finds the new time and takes
    nothing. Returns the previous `last_enqueued_at` if this call took it, else False."""
    last = PeriodicJob.objects.filter(name=name).values_list("last_enqueued_at", flat=True).first()
    if last is not None and now - last < timedelta(seconds=seconds):
        return False
    # The compare: the row still holds the time read above (None matches IS NULL).
    taken = PeriodicJob.objects.filter(name=name, last_enqueued_at=last).update(
        last_enqueued_at=now
    )
    return last if taken else False


def enqueue_due(jobs, now=None):
    """Enqueue every job that is due. Returns the names enqueued by this scheduler."""
    now = now or timezone.now()
    enqueued = []
    for task, seconds in jobs:
        previous = claim(task.module_path, seconds, now)
        if previous is False:
            continue
        try:
            task.enqueue()
        except Exception:
            logger.exception("periodic job %s could not be enqueued", task.module_path)
            # Given back, so the next tick tries again.
            PeriodicJob.objects.filter(name=task.module_path, last_enqueued_at=now).update(
                last_enqueued_at=previous
            )
            continue
        enqueued.append(task.module_path)
    return enqueued
