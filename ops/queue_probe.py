"""How long work waits in the task queue, measured on our own rows (ops.models.QueueProbe).

`send_probe()` (the scheduler's periodic job, through ops.tasks.probe_queue) writes a probe
and queues `answer_probe`; `oldest_wait()` is how long the oldest unanswered probe has
waited. Works the same on django-tasks-db, RQ or any other backend, on any number of machines.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import QueueProbe

# Answered probes are kept this long (the recent history of waits), then deleted.
KEEP_ANSWERED = timedelta(days=1)


def send_probe(enqueue_answer):
    """Write a probe and queue its answer after commit; prune old answered probes."""
    now = timezone.now()
    QueueProbe.objects.filter(answered_at__lt=now - KEEP_ANSWERED).delete()
    with transaction.atomic():
        probe = QueueProbe.objects.create(enqueued_at=now)
        transaction.on_commit(lambda: enqueue_answer(probe.pk))
    return probe


def answer_probe(probe_id):
    """Mark the probe answered (a second run changes nothing)."""
    QueueProbe.objects.filter(pk=probe_id, answered_at=None).update(answered_at=timezone.now())


def oldest_wait(now=None):
    """How long the oldest unanswered probe has waited (zero when none waits)."""
    now = now or timezone.now()
    oldest = (
        QueueProbe.objects.filter(answered_at=None)
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)
        .first()
    )
    return max(now - oldest, timedelta(0)) if oldest else timedelta(0)
