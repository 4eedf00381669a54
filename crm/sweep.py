"""The sweep: puts back on the queue what a dead worker, a lost task or a locked database left
behind. The scheduler (`manage.py run_scheduler`) enqueues the `sweep` task every
SWEEP_INTERVAL seconds (settings.PERIODIC_JOBS); `manage.py sweep` runs it once.

It decides from Trama's own rows only, never from the tasks backend's tables, so it works the
same on the database queue and on RQ, on one machine or several:
- a claim (an email in flight, a statement run) whose heartbeat is older than
  CLAIM_STALE_AFTER lost its worker: it is released and its task queued again;
- work whose task was queued longer than TASKS_LOST_AFTER ago and is still not done (an email
  still queued, a receipt without its PDF) lost its task: queued again, and the time of that
  is written on the row by compare-and-set, so two sweeps never both queue it and a long
  backlog does not grow by one duplicate per sweep.

Every rule only enqueues work that is safe to run twice: rendering stores a receipt's PDF once,
and sending claims the email row first (`crm.mail`).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.tasks import task
from django.utils import timezone
from django.utils.module_loading import import_string

from . import tasks
from .models import DonorEmail, Receipt, StatementRun
from .receipt_files import receipts_needing_pdf
from .statement_tasks import run_yearly_statements

FINISHED = (StatementRun.Status.DONE, StatementRun.Status.FAILED)


def lost_after():
    return timedelta(seconds=settings.TASKS_LOST_AFTER)


def stale_after():
    return timedelta(seconds=settings.CLAIM_STALE_AFTER)


@task()
def sweep():
    """The periodic job (settings.PERIODIC_JOBS)."""
    return run_sweep()


def run_sweep(now=None):
    """Run every rule once, then the other apps' rules (`settings.WORKER_SWEEPS`: crm imports
    no other app, so they are named there). Returns how many tasks each rule enqueued."""
    now = now or timezone.now()
    counts = {
        "emails_released": release_stale_emails(now),
        "pdfs_enqueued": enqueue_missing_pdfs(now),
        "emails_enqueued": enqueue_unsent_emails(now),
        "statement_runs_resumed": resume_stale_runs(now),
    }
    for path in getattr(settings, "WORKER_SWEEPS", ()):
        counts.update(import_string(path)(now))
    return counts


def release_stale_emails(now):
    """Emails in flight whose claim is older than CLAIM_STALE_AFTER: their worker died between
    the claim and the outcome (maybe after the provider accepted: crm.mail says why they are
    sent again). Released and queued again, each by the one sweep whose compare-and-set on
    the claim goes through."""
    cutoff = now - stale_after()
    stale = DonorEmail.objects.filter(in_flight_since__lt=cutoff).values_list(
        "pk", "claimed_by", "in_flight_since"
    )
    count = 0
    for pk, claimed_by, since in list(stale):
        released = DonorEmail.objects.filter(
            pk=pk, claimed_by=claimed_by, in_flight_since=since
        ).update(claimed_by="", in_flight_since=None, enqueued_at=now)
        if released:
            tasks.send_donor_email.enqueue(pk)
            count += 1
    return count


def enqueue_missing_pdfs(now):
    """Issued receipts with no stored PDF whose render task was queued (at issue, or by a
    sweep) longer than TASKS_LOST_AFTER ago: the task was lost, or rendering failed."""
    cutoff = now - lost_after()
    receipts = (
        receipts_needing_pdf()
        .filter(status=Receipt.Status.ISSUED)
        .annotate(last_queued=Coalesce("pdf_enqueued_at", "issued_at"))
        .filter(last_queued__lte=cutoff)
        .values_list("pk", "pdf_enqueued_at")
    )
    count = 0
    for pk, queued_at in list(receipts):  # read them all before writing (SQLite)
        if Receipt.objects.filter(pk=pk, pdf_enqueued_at=queued_at).update(pdf_enqueued_at=now):
            tasks.render_receipt_pdf.enqueue(pk)
            count += 1
    return count


def enqueue_unsent_emails(now):
    """Emails to send that no task will send: still queued TASKS_LOST_AFTER after their task
    was queued, or failed, due, and not queued since (a backend that cannot defer the retry).
    An email in flight is its worker's (release_stale_emails)."""
    cutoff = now - lost_after()
    emails = (
        DonorEmail.objects.filter(
            status__in=(DonorEmail.Status.QUEUED, DonorEmail.Status.FAILED),
            in_flight_since__isnull=True,
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .annotate(last_queued=Coalesce("enqueued_at", "created_at"))
        .filter(
            Q(last_queued__lte=cutoff)
            | Q(status=DonorEmail.Status.FAILED, last_queued__lt=F("next_attempt_at"))
        )
        .values_list("pk", "enqueued_at")
    )
    count = 0
    for pk, queued_at in list(emails):
        # Compare-and-set on the last enqueue: only one sweep queues it.
        if DonorEmail.objects.filter(pk=pk, enqueued_at=queued_at).update(enqueued_at=now):
            tasks.send_donor_email.enqueue(pk)
            count += 1
    return count


def resume_stale_runs(now):
    """Statement runs not finished whose heartbeat (or start, for one never taken up) is older
    than CLAIM_STALE_AFTER: their worker died, or their task was lost. Queued again; the task
    takes the run over by compare-and-set (crm.statement_runs.claim) and goes on where it
    stopped. The heartbeat is bumped in the same compare-and-set, so only one sweep queues it."""
    cutoff = now - stale_after()
    runs = (
        StatementRun.objects.exclude(status__in=FINISHED)
        .annotate(seen=Coalesce("heartbeat_at", "created_at"))
        .filter(seen__lt=cutoff)
        .values_list("pk", "heartbeat_at")
    )
    count = 0
    for pk, heartbeat_at in list(runs):
        if StatementRun.objects.filter(pk=pk, heartbeat_at=heartbeat_at).update(
            heartbeat_at=now, claimed_by=""
        ):
            run_yearly_statements.enqueue(pk)
            count += 1
    return count
