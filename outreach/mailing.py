"""The worker's part of sending a message to donors: one `Delivery` per recipient (who they
are is `outreach.recipients`), and sending them in batches shared between workers (the tasks
in `outreach.tasks` run these; the admin's verbs are in `outreach.sending`, which says how a
message goes out).

Exactly once, and the one window left: a delivery is claimed (compare-and-set, committed),
handed to the mail backend outside any transaction or lock, then marked SENT in one short
write while the claim is still ours. The claim carries the worker's heartbeat (`claimed_at`,
refreshed while it sends); should the worker die after the provider accepted and before that
write, the claim goes stale (CLAIM_STALE_AFTER), the delivery goes back to pending and is sent
again (at least once). That second copy carries the same Message-ID (stable per delivery), so
providers and mail apps can tell it is one message. No queue can close that window without
the provider's help.
"""

import logging
import os
import secrets
import socket
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.mail import mailers
from django.db import connection as db_connection
from django.db.models import Min, Q
from django.utils import timezone

from crm import mail_policy, sending
from crm.models import Donor

from .models import Delivery, Message
from .recipients import consenting, recipients_for, sender_of
from .rendering import MessageRenderer, last_gifts, message_language

logger = logging.getLogger(__name__)

# Deliveries written per INSERT while preparing.
PREPARE_CHUNK = 2000


def beat_seconds():
    """While it sends, a worker refreshes its claims and the message's heartbeat this often:
    several times within CLAIM_STALE_AFTER, so a live worker's claims never look stale."""
    return min(10.0, settings.CLAIM_STALE_AFTER / 4)


TEST_PREFIX = "[TEST] "


# --- The worker ----------------------------------------------------------------------------


def _new_token():
    return secrets.token_urlsafe(18)  # 24 characters, 144 random bits


def start_due(now=None):
    """Switch the scheduled messages whose time has come to sending, each by compare-and-set
    (two schedulers' jobs never both start one). Returns the ids this call switched."""
    now = now or timezone.now()
    due = Message.objects.filter(status=Message.Status.SCHEDULED, send_at__lte=now)
    return [pk for pk in list(due.values_list("pk", flat=True)) if _start(pk, now)]


def _start(message_id, now):
    return Message.objects.filter(
        pk=message_id, status=Message.Status.SCHEDULED, send_at__lte=now
    ).update(status=Message.Status.SENDING, started_at=now, heartbeat_at=now, updated_at=now)


def prepare(message_id):
    """Start a due scheduled message and write the deliveries of a sending one. Safe to run
    twice. Returns how many deliveries it wrote, or None if the message is not sending."""
    now = timezone.now()
    _start(message_id, now)
    message = Message.objects.select_related("segment", "network").filter(pk=message_id).first()
    if message is None or message.status != Message.Status.SENDING:
        return None
    created = 0
    if message.prepared_at is None:
        english = message_language(message, "en") == "en"
        rows = []
        donors = recipients_for(message).order_by("pk").values_list("pk", "email", "language")
        for donor_id, email, language in donors.iterator(chunk_size=PREPARE_CHUNK):
            rows.append(
                Delivery(
                    message=message,
                    donor_id=donor_id,
                    to=email,
                    language="en" if english and language == "en" else "it",
                    token=_new_token(),
                    attribution=_new_token(),
                )
            )
            if len(rows) >= PREPARE_CHUNK:
                created += _insert(rows)
        created += _insert(rows)
        Message.objects.filter(pk=message.pk, prepared_at__isnull=True).update(
            prepared_at=timezone.now()
        )
    return created


def _insert(rows):
    if not rows:
        return 0
    # The unique (message, donor) keeps a second run from writing a second delivery.
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    count = len(rows)
    rows.clear()
    return count


def worker_id():
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"


def claimable(message_id, now):
    return Delivery.objects.filter(message_id=message_id, claimed_by="").filter(
        Q(status=Delivery.Status.PENDING)
        | Q(status=Delivery.Status.FAILED, next_attempt_at__lte=now)
    )


def claim(message_id, worker, size):
    """Take up to `size` deliveries to send, by compare-and-set: the UPDATE only takes rows
    still unclaimed, so of two workers reading the same ids one gets them and the other reads
    again (each lost round means another worker took rows: the loop ends). Returns the
    claimed deliveries with their donors, or [] when nothing is left to claim."""
    while True:
        now = timezone.now()
        ids = list(claimable(message_id, now).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return []
        taken = (
            claimable(message_id, now).filter(pk__in=ids).update(claimed_by=worker, claimed_at=now)
        )
        if taken:
            return list(
                Delivery.objects.filter(pk__in=ids, claimed_by=worker)
                .select_related("donor")
                .order_by("pk")
            )


def _still_reachable(message, deliveries):
    """Of the claimed deliveries, the ids whose donor may still be written to at that address:
    a donor who unsubscribed (or bounced) since the message started is skipped."""
    donor_ids = [d.donor_id for d in deliveries]
    allowed = set(consenting(Donor.objects.filter(pk__in=donor_ids)).values_list("pk", flat=True))
    addresses = {d.to.lower() for d in deliveries}
    stopped = sending.stopped(message.network_id, addresses, sending.Purpose.MARKETING)
    return {
        d.pk
        for d in deliveries
        if d.donor_id in allowed and d.to.lower() not in stopped and d.donor.email == d.to
    }


def message_id_header(delivery):
    """One Message-ID per delivery whatever the attempt (the rule of `crm.sending`)."""
    return mail_policy.message_id_header("message", delivery.message_id, delivery.attribution)


def build_email(renderer, delivery, last_gift=...):
    """The email of one delivery (`crm.sending.email_message`: one Message-ID per delivery
    whatever the attempt, from its attribution marker, not the preferences key, since a
    forwarded or replied email carries it)."""
    message = renderer.message
    rendered = renderer.for_delivery(delivery, delivery.donor, last_gift=last_gift)
    from_email, reply_to = sender_of(message.network)
    unsubscribe = renderer.unsubscribe_url(delivery)
    unsubscribe_header = f"<{unsubscribe}>"
    if message.network.email:
        unsubscribe_header += f", <mailto:{message.network.email}?subject=unsubscribe>"
    return sending.email_message(
        kind="message",
        key=delivery.message_id,
        stamp=delivery.attribution,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        to=delivery.to,
        from_email=from_email,
        reply_to=reply_to,
        headers={
            # RFC 2369 and RFC 8058: the mail app's own "unsubscribe" button, one POST.
            "List-Unsubscribe": unsubscribe_header,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        metadata={"delivery": delivery.token},
        tags=["message"],
    )


@contextmanager
def _commits_without_waiting_for_disk():
    """PostgreSQL: while sending, a commit does not wait for its WAL flush (a few ms each, the
    cost of marking deliveries one by one). Only a crash of the database itself can lose such a
    commit, and then the delivery is sent again with the same Message-ID: the window the
    docstring above names."""
    postgres = db_connection.vendor == "postgresql"
    if postgres:
        with db_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        if postgres:
            with db_connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def _mark_sent_sql():
    # Plain SQL: this runs once per email, and the ORM's query building would cost more than
    # the statement itself.
    table = db_connection.ops.quote_name(Delivery._meta.db_table)
    # The table name is ours; every value is a parameter.
    return (
        f"UPDATE {table} SET status = %s, sent_at = %s, attempts = attempts + 1,"  # noqa: S608
        " provider_message_id = %s, last_error = '', next_attempt_at = NULL,"
        " claimed_by = '', claimed_at = NULL"
        " WHERE id = %s AND (claimed_by = %s OR claimed_by = '') AND status IN (%s, %s)"
    )


def _send_one(email, delivery, worker, connection):
    """Send one claimed delivery: the mail backend is called outside any transaction (no lock
    held while the provider answers), then the SENT mark is written while the claim is ours
    (or was released and not yet taken again).
    A worker killed in between leaves it claimed: once the claim is stale it is sent again;
    the module's docstring names this window. Returns the provider's message id (or our
    Message-ID), or None if it was not sent."""
    header_id = email.extra_headers["Message-ID"]
    attempts = delivery.attempts + 1
    # The run's open connection of the default mailer; the suppression list was read for the
    # whole batch (`_still_reachable`).
    outcome = sending.send(
        email,
        network_id=None,
        purpose=sending.Purpose.MARKETING,
        attempts=attempts,
        connection=connection,
        stopped_addresses=(),
    )
    if not outcome.sent:
        logger.warning("delivery %s attempt %s failed: %s", delivery.pk, attempts, outcome.error)
        Delivery.objects.filter(pk=delivery.pk, claimed_by=worker).update(
            **outcome.values("provider_message_id"),
            attempts=attempts,
            claimed_by="",
            claimed_at=None,
        )
        return None
    with db_connection.cursor() as cursor:
        cursor.execute(
            _mark_sent_sql(),
            [
                outcome.status,
                outcome.sent_at,
                header_id,
                delivery.pk,
                worker,
                Delivery.Status.PENDING,
                Delivery.Status.FAILED,
            ],
        )
        if not cursor.rowcount:
            # Our claim went stale and another worker took it (it may send it too): this
            # worker stopped beating for CLAIM_STALE_AFTER.
            logger.warning("delivery %s: claim taken over while it was being sent", delivery.pk)
    return outcome.provider_id


def _beat(message_id, worker):
    """The worker is alive: its claims and the message's heartbeat are fresh."""
    now = timezone.now()
    Delivery.objects.filter(message_id=message_id, claimed_by=worker).update(claimed_at=now)
    Message.objects.filter(pk=message_id).update(heartbeat_at=now)


def _record_provider_ids(sent):
    """The provider's ids of a batch's emails, in one write (tracking events find a delivery
    by the token in their metadata first; the id is for providers that do not echo it)."""
    changed = [
        Delivery(pk=delivery.pk, provider_message_id=provider_id)
        for delivery, provider_id, header_id in sent
        if provider_id != header_id
    ]
    if changed:
        Delivery.objects.bulk_update(changed, ["provider_message_id"])


def deliver(message_id, worker=None, seconds=None):
    """Send the message's pending deliveries, batch after batch, until none is left or
    `seconds` (OUTREACH_TASK_SECONDS) have passed. Returns (sent, state): state is "done" (the
    message is sent), "more" (time is up: run again), "waiting" (only retries not yet due; at
    `next_attempt_at`) or "stopped" (the message is not sending)."""
    worker = worker or worker_id()
    seconds = settings.OUTREACH_TASK_SECONDS if seconds is None else seconds
    message = Message.objects.select_related("network", "campaign").filter(pk=message_id).first()
    if message is None or message.status != Message.Status.SENDING:
        return 0, "stopped"
    renderer = MessageRenderer(message)
    started = timezone.now()
    beaten = time.monotonic()
    sent = 0
    # One mail connection per run, reused by every batch.
    with mailers["default"] as connection, _commits_without_waiting_for_disk():
        while True:
            batch = claim(message_id, worker, settings.OUTREACH_BATCH_SIZE)
            if not batch:
                break
            allowed = _still_reachable(message, batch)
            skipped = [d.pk for d in batch if d.pk not in allowed]
            if skipped:
                Delivery.objects.filter(pk__in=skipped, claimed_by=worker).update(
                    status=Delivery.Status.SKIPPED, claimed_by="", claimed_at=None
                )
            sending = [d for d in batch if d.pk in allowed]
            gifts = last_gifts(message.network, [d.donor_id for d in sending])
            done = []
            _beat(message_id, worker)
            for delivery in sending:
                if time.monotonic() - beaten > beat_seconds():
                    _beat(message_id, worker)
                    beaten = time.monotonic()
                try:
                    email = build_email(renderer, delivery, gifts.get(delivery.donor_id))
                except Exception as exc:  # noqa: BLE001  (a bad block must not stop the others)
                    email = None
                    logger.exception("delivery %s could not be rendered", delivery.pk)
                    error = exc
                if email is None:
                    Delivery.objects.filter(pk=delivery.pk, claimed_by=worker).update(
                        status=Delivery.Status.GAVE_UP,
                        attempts=delivery.attempts + 1,
                        last_error=f"{type(error).__name__}: {error}"[:2000],
                        claimed_by="",
                        claimed_at=None,
                    )
                    continue
                provider_id = _send_one(email, delivery, worker, connection)
                if provider_id is not None:
                    done.append((delivery, provider_id, email.extra_headers["Message-ID"]))
            _record_provider_ids(done)
            sent += len(done)
            if (timezone.now() - started).total_seconds() > seconds:
                return sent, "more"
    return sent, finish(message)


def finish(message):
    """The message is SENT once it was prepared and no delivery is left to send or retry.
    Otherwise "waiting" (retries not due yet, or deliveries claimed by another worker)."""
    left = Delivery.objects.filter(
        message_id=message.pk, status__in=(Delivery.Status.PENDING, Delivery.Status.FAILED)
    )
    if (
        left.exists()
        or not Message.objects.filter(pk=message.pk, prepared_at__isnull=False).exists()
    ):
        return "waiting"
    sent = Delivery.objects.filter(message_id=message.pk).exclude(
        status__in=(Delivery.Status.SKIPPED, Delivery.Status.GAVE_UP)
    )
    now = timezone.now()
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.SENT, finished_at=now, recipients=sent.count(), updated_at=now
    )
    return "done"


def next_retry(message_id):
    """When the earliest failed delivery of the message is due again (None: none)."""
    return Delivery.objects.filter(message_id=message_id, status=Delivery.Status.FAILED).aggregate(
        due=Min("next_attempt_at")
    )["due"]
