"""Sending a message to donors: the verbs the admin calls (`send_test`, `start_sending`,
`cancel_schedule`, `recipients_for`) and the worker's sweep (`sweep`).

How a message goes out, once per donor:
1. `start_sending` marks it SENDING (or SCHEDULED for later) and, after commit, queues
   `outreach.tasks.prepare_message`.
2. `mailing.prepare` writes one `Delivery` per recipient (bulk, ignoring the rows that exist:
   running it twice is harmless) and stamps `prepared_at`; the task then queues
   `OUTREACH_SEND_WORKERS` runs of `outreach.tasks.deliver_message`, which share the work.
3. `mailing.deliver` claims a batch of pending deliveries by compare-and-set (two workers never take
   the same row), checks consent and suppressed addresses once more, and sends each one; when
   none is left to send, the message is SENT.

The worker's part, and how each donor gets the message exactly once, is `outreach.mailing`.
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult

from . import tasks
from .mailing import (
    STALE_AFTER,
    SendingError,
    check_sendable,
    claimable,
    recipients_for,
    sender_of,
)
from .models import Delivery, Message
from .rendering import MessageRenderer

__all__ = [
    "SendingError",
    "cancel_schedule",
    "recipients_for",
    "send_test",
    "start_sending",
    "sweep",
]

TEST_PREFIX = "[TEST] "


# --- The admin's verbs ---------------------------------------------------------------------


def send_test(message, to, language="it"):
    """Send the message, filled with sample values, to `to` (the communicator's own address)
    at once: not a donor's email, so no delivery is recorded and no link carries a token."""
    rendered = MessageRenderer(message).for_delivery(language=language)
    from_email, reply_to = sender_of(message.network)
    email = EmailMultiAlternatives(
        subject=TEST_PREFIX + rendered.subject,
        body=rendered.text,
        from_email=from_email,
        to=[to],
        reply_to=reply_to,
    )
    email.attach_alternative(rendered.html, "text/html")
    email.tags = ["test"]
    email.send(using="default")


def start_sending(message, user, send_at=None):
    """Send the message now, or at `send_at` if that is in the future. Returns how many donors
    will receive it (for a scheduled message, how many would today). Raises SendingError."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("segment")
            .get(pk=message.pk)
        )
        check_sendable(message)
        count = recipients_for(message).count()
        if not count:
            raise SendingError(_("Nobody can receive it: no recipient confirmed the newsletter."))
        message.sent_by = user
        if send_at is not None and send_at > now:
            message.status = Message.Status.SCHEDULED
            message.send_at = send_at
        else:
            message.status = Message.Status.SENDING
            message.send_at = None
            message.started_at = now
        message.save(update_fields=["status", "send_at", "started_at", "sent_by", "updated_at"])
        transaction.on_commit(lambda: _queue_prepare(message))
    return count


def _queue_prepare(message):
    prepare_message = tasks.prepare_message
    if message.status == Message.Status.SCHEDULED:
        if prepare_message.get_backend().supports_defer:
            prepare_message.using(run_after=message.send_at).enqueue(message.pk)
        # Otherwise the sweep starts it when due.
        return
    prepare_message.enqueue(message.pk)


def cancel_schedule(message):
    """A scheduled message goes back to draft (its queued start does nothing). Returns whether
    it was scheduled."""
    changed = Message.objects.filter(pk=message.pk, status=Message.Status.SCHEDULED).update(
        status=Message.Status.DRAFT, send_at=None, updated_at=timezone.now()
    )
    if changed:
        message.status, message.send_at = Message.Status.DRAFT, None
    return bool(changed)


# --- The sweep (run by `manage.py run_worker` through settings.WORKER_SWEEPS) ---------------


def _pending_task_messages(task):
    """Message ids a READY or RUNNING run of `task` holds."""
    rows = DBTaskResult.objects.filter(
        status__in=(TaskResultStatus.READY, TaskResultStatus.RUNNING), task_path=task.module_path
    ).values_list("args_kwargs", flat=True)
    return {row["args"][0] for row in rows if row.get("args")}


def sweep(now=None):
    """What a dead worker or a lost task left behind, put back on the queue:
    - claims older than OUTREACH_CLAIM_TIMEOUT go back to pending (the worker died mid-batch);
    - scheduled messages that are due, and sending ones never prepared, are (re)started;
    - sending messages with deliveries left and no worker on them get their workers again.
    Returns counts, as `crm.sweep.run_sweep` reports them."""
    deliver_message, prepare_message = tasks.deliver_message, tasks.prepare_message
    now = now or timezone.now()
    released = (
        Delivery.objects.filter(
            status__in=(Delivery.Status.PENDING, Delivery.Status.FAILED),
            claimed_at__lt=now - timedelta(seconds=settings.OUTREACH_CLAIM_TIMEOUT),
        )
        .exclude(claimed_by="")
        .update(claimed_by="", claimed_at=None)
    )
    preparing = _pending_task_messages(prepare_message)
    due = Message.objects.filter(status=Message.Status.SCHEDULED, send_at__lte=now)
    unprepared = Message.objects.filter(
        status=Message.Status.SENDING, prepared_at__isnull=True, started_at__lte=now - STALE_AFTER
    )
    started = 0
    for pk in list((due | unprepared).values_list("pk", flat=True)):
        if pk not in preparing:
            prepare_message.enqueue(pk)
            started += 1
    delivering = _pending_task_messages(deliver_message)
    workers = 0
    sending = Message.objects.filter(
        status=Message.Status.SENDING, prepared_at__lte=now - STALE_AFTER
    ).values_list("pk", flat=True)
    for pk in list(sending):
        if pk in delivering or pk in preparing:
            continue
        has_work = claimable(pk, now).exists()
        has_nothing_left = not Delivery.objects.filter(
            message_id=pk, status__in=(Delivery.Status.PENDING, Delivery.Status.FAILED)
        ).exists()
        if has_work or has_nothing_left:  # nothing left: its last worker died before finishing
            tasks.queue_workers(pk, None if has_work else 1)
            workers += 1
    return {
        "message_claims_released": released,
        "messages_started": started,
        "messages_resumed": workers,
    }
