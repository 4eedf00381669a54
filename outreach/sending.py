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
A scheduled message is started at its time by the periodic job
`outreach.tasks.start_due_messages` (and, where the queue can defer, by its own deferred task).

The worker's part, and how each donor gets the message exactly once, is `outreach.mailing`.
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from . import tasks
from .mailing import claimable
from .models import Delivery, Message
from .recipients import SendingError, check_sendable, recipients_for, sender_of
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
        message.heartbeat_at = now
        fields = ["status", "send_at", "started_at", "sent_by", "heartbeat_at", "updated_at"]
        message.save(update_fields=fields)
        transaction.on_commit(lambda: _queue_prepare(message))
    return count


def _queue_prepare(message):
    prepare_message = tasks.prepare_message
    if message.status == Message.Status.SCHEDULED:
        if prepare_message.get_backend().supports_defer:
            prepare_message.using(run_after=message.send_at).enqueue(message.pk)
        # Otherwise the periodic job starts it when due (tasks.start_due_messages).
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


# --- The sweep (crm.sweep.run_sweep runs it through settings.WORKER_SWEEPS) -----------------


def sweep(now=None):
    """What a dead worker or a lost task left behind, put back on the queue, decided from our
    own rows (never the tasks backend's):
    - deliveries whose claim's heartbeat is older than CLAIM_STALE_AFTER go back to pending
      (the worker died mid-batch);
    - a sending message with no sign of work (`heartbeat_at`) for TASKS_LOST_AFTER gets its
      tasks again: preparing if it was never prepared, else its workers (also when nothing is
      left: its last worker died before marking it sent). The heartbeat is bumped by
      compare-and-set first, so only one sweep queues them.
    Scheduled messages are started by their own periodic job (outreach.tasks.start_due_messages).
    Returns counts, as `crm.sweep.run_sweep` reports them."""
    now = now or timezone.now()
    released = (
        Delivery.objects.filter(
            status__in=(Delivery.Status.PENDING, Delivery.Status.FAILED),
            claimed_at__lt=now - timedelta(seconds=settings.CLAIM_STALE_AFTER),
        )
        .exclude(claimed_by="")
        .update(claimed_by="", claimed_at=None)
    )
    quiet = (
        Message.objects.filter(status=Message.Status.SENDING)
        .annotate(seen=Coalesce("heartbeat_at", "started_at"))
        .filter(seen__lte=now - timedelta(seconds=settings.TASKS_LOST_AFTER))
        .values_list("pk", "heartbeat_at", "prepared_at")
    )
    started = resumed = 0
    for pk, heartbeat_at, prepared_at in list(quiet):
        if prepared_at is None:
            if _bump(pk, heartbeat_at, now):
                tasks.prepare_message.enqueue(pk)
                started += 1
            continue
        has_work = claimable(pk, now).exists()
        has_nothing_left = not Delivery.objects.filter(
            message_id=pk, status__in=(Delivery.Status.PENDING, Delivery.Status.FAILED)
        ).exists()
        # Nothing left: its last worker died before finishing.
        if (has_work or has_nothing_left) and _bump(pk, heartbeat_at, now):
            tasks.queue_workers(pk, None if has_work else 1)
            resumed += 1
    return {
        "message_claims_released": released,
        "messages_started": started,
        "messages_resumed": resumed,
    }


def _bump(message_id, heartbeat_at, now):
    """Compare-and-set on the message's heartbeat: whether this sweep queues its tasks."""
    return bool(
        Message.objects.filter(pk=message_id, heartbeat_at=heartbeat_at).update(heartbeat_at=now)
    )
