"""The sweep: puts back on the queue what a dead worker, a lost task or a locked database left
behind. `manage.py run_worker` runs it at start and every `WORKER_SWEEP_INTERVAL` seconds;
`manage.py sweep` runs it once.

Every rule only enqueues work that is safe to run twice: rendering stores a receipt's PDF once,
and sending locks the email row and skips anything not queued or failed (`crm.mail`). The sweep
still skips what already has a task waiting or running, so a long backlog does not grow by one
duplicate per email per sweep (a duplicate of a failed email would also be an early attempt).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Min
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from . import tasks
from .models import DonorEmail, Receipt
from .receipt_files import receipts_needing_pdf

# Work younger than this is left to the task enqueued after its commit (or to the yearly
# statements' own renderers): only what is older counts as lost.
STALE_AFTER = timedelta(minutes=2)
PENDING = (TaskResultStatus.READY, TaskResultStatus.RUNNING)


def run_sweep(now=None):
    """Run every rule once, then the other apps' rules (`settings.WORKER_SWEEPS`: crm imports
    no other app, so they are named there). Returns how many tasks each rule requeued or
    enqueued."""
    now = now or timezone.now()
    counts = {
        "stuck_tasks_requeued": requeue_stuck_tasks(now),
        "pdfs_enqueued": enqueue_missing_pdfs(now),
        "emails_enqueued": enqueue_unsent_emails(now),
    }
    for path in getattr(settings, "WORKER_SWEEPS", ()):
        counts.update(import_string(path)(now))
    return counts


def requeue_stuck_tasks(now):
    """RUNNING for longer than `TASKS_STUCK_AFTER` seconds: its worker was killed mid-task.
    Back to READY (our tasks are idempotent). A task that is merely slow runs twice at worst:
    `TASKS_STUCK_AFTER` must stay above the longest task."""
    started_before = now - timedelta(seconds=settings.TASKS_STUCK_AFTER)
    # The status filter makes it one atomic compare-and-set per row: a task that finished
    # meanwhile keeps its outcome.
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=started_before
    ).update(status=TaskResultStatus.READY, started_at=None)


def enqueue_missing_pdfs(now):
    """Issued receipts with no stored PDF (the render task was lost or failed)."""
    receipt_ids = (
        receipts_needing_pdf()
        .filter(status=Receipt.Status.ISSUED, issued_at__lte=now - STALE_AFTER)
        .values_list("pk", flat=True)
    )
    return _enqueue_unless_pending(tasks.render_receipt_pdf, receipt_ids)


def enqueue_unsent_emails(now):
    """Failed emails whose next attempt is due, and emails still queued after STALE_AFTER
    (the worker died before sending), unless a send task for them is waiting or running: the
    database queue already holds the retry deferred by `crm.tasks.send_donor_email`."""
    due = DonorEmail.objects.filter(status=DonorEmail.Status.FAILED, next_attempt_at__lte=now)
    stale = DonorEmail.objects.filter(
        status=DonorEmail.Status.QUEUED, created_at__lte=now - STALE_AFTER
    )
    email_ids = (due | stale).values_list("pk", flat=True)
    return _enqueue_unless_pending(tasks.send_donor_email, email_ids)


def queue_backlog(now=None):
    """What the queue holds right now: a worker that is alive keeps `oldest_ready_seconds` near
    its polling interval."""
    now = now or timezone.now()
    ready = DBTaskResult.objects.ready()
    oldest = ready.aggregate(oldest=Min("enqueued_at"))["oldest"]
    return {
        "ready": ready.count(),
        "running": DBTaskResult.objects.running().count(),
        "oldest_ready_seconds": round((now - oldest).total_seconds()) if oldest else 0,
    }


def _enqueue_unless_pending(task, ids):
    """Enqueue `task(pk)` for each id that no READY or RUNNING run of `task` holds already.
    Compared here rather than in SQL: the backlog may outgrow SQLite's query parameters."""
    rows = DBTaskResult.objects.filter(status__in=PENDING, task_path=task.module_path)
    pending = {
        args_kwargs["args"][0]
        for args_kwargs in rows.values_list("args_kwargs", flat=True)
        if args_kwargs.get("args")
    }
    count = 0
    for pk in list(ids):  # read them all before writing (SQLite)
        if pk not in pending:
            task.enqueue(pk)
            count += 1
    return count
