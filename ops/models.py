"""What the running service knows about itself."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProcessBeat(models.Model):
    """A long-running process (task worker, scheduler) that says it is alive.

    Each process writes its row every `HEARTBEAT_SECONDS` (ops.heartbeat.beat) and removes it
    when it stops gracefully. A row that stopped beating is a process that died: /healthz turns
    red until a process of the same name beats again (the supervisor restarts it) or the row is
    forgotten. Kept on Trama's own table, so it works with any tasks backend and any machine.
    """

    class Kind(models.TextChoices):
        WORKER = "worker", _("Task worker")
        SCHEDULER = "scheduler", _("Scheduler")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    host = models.CharField(_("host"), max_length=200)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    beat_at = models.DateTimeField(_("last heartbeat"), db_index=True)

    class Meta:
        verbose_name = _("process heartbeat")
        verbose_name_plural = _("process heartbeats")

    def __str__(self):
        return self.name


class QueueProbe(models.Model):
    """A tiny task sent through the queue to measure how long work waits for a worker.

    The scheduler's periodic job (ops.tasks.probe_queue) writes a row and queues a task that
    stamps `answered_at`: the age of the oldest unanswered row is the queue's wait, read the
    same way with any tasks backend (/healthz, /metrics).
    """

    enqueued_at = models.DateTimeField(_("enqueued at"), db_index=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("queue probe")
        verbose_name_plural = _("queue probes")

    def __str__(self):
        return f"probe {self.pk} enqueued at {self.enqueued_at:%Y-%m-%d %H:%M:%S}"


class PeriodicJob(models.Model):
    """One periodic job of `settings.PERIODIC_JOBS` (a task's dotted path) and when it was last
    put on the queue. Several schedulers, on several machines, share these rows: each due run
    is claimed by compare-and-set on `last_enqueued_at` (ops.scheduler), so only one of them
    enqueues it."""

    name = models.CharField(_("periodic task"), max_length=200, unique=True)
    last_enqueued_at = models.DateTimeField(_("last enqueued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("periodic job")
        verbose_name_plural = _("periodic jobs")

    def __str__(self):
        return self.name
