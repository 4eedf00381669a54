"""Mail: the only module that sends email. It goes through Django's mail API (`MAILERS`), so
any django-anymail ESP backend configured there works; delivery status comes back through
anymail's normalised `tracking` signal (webhook URLs under /crm/anymail/, `crm.mail_tracking`).

One sending path for every email to a donor, the gift emails here and the network's messages
(`outreach.mailing`) alike (`crm.sending`, with `crm.mail_policy`): the same retries, status
values and order, Message-ID rule and suppression list. The emails themselves are built by
`crm.mail_messages`.

Emails are queued as `DonorEmail` rows by `crm.outbox` and sent here by the worker
(`crm.tasks.send_donor_email` → `deliver_email`). A send that raises is recorded on its row
(attempts, error, next attempt) and retried with exponential backoff; after MAX_ATTEMPTS it is
marked "gave up" and shown in the admin, where "resend" queues a new email. One the suppression
list stops is marked "skipped" (`crm.sending.Purpose` says which).
"""

import logging
import os
import secrets
import socket
import time

from django.conf import settings
from django.db import OperationalError
from django.db.models import F, Q
from django.utils import timezone

from . import sending
from .mail_messages import (
    build_gift_message,
    build_newsletter_confirm_message,
    build_payment_failed_message,
    build_plan_changed_message,
    build_plan_message,
    build_portal_message,
    build_receipt_message,
    build_refund_message,
    build_tribute_message,
)
from .mail_policy import MAX_ATTEMPTS, _network_of, backoff  # noqa: F401  (re-exported)
from .models import DonorEmail, Receipt
from .receipt_files import ensure_receipt_pdf, read_receipt_pdf

logger = logging.getLogger(__name__)

RECORD_RETRY_SECONDS = 1

# What each kind of email is to the suppression list (`crm.sending.Purpose`): owed for a gift or
# a plan (a bounce stops it, a complaint does not), or asked for just now by the donor.
PURPOSE = {
    DonorEmail.Kind.NEWSLETTER_CONFIRM: sending.Purpose.REQUESTED,
    DonorEmail.Kind.PLAN_LINK: sending.Purpose.REQUESTED,
    DonorEmail.Kind.DONOR_PORTAL: sending.Purpose.REQUESTED,
}


def build_message(email):
    if email.kind == DonorEmail.Kind.PAYMENT_FAILED:
        return build_payment_failed_message(email)
    if email.kind == DonorEmail.Kind.NEWSLETTER_CONFIRM:
        return build_newsletter_confirm_message(email)
    if email.kind == DonorEmail.Kind.REFUND:
        return build_refund_message(email)
    if email.kind == DonorEmail.Kind.PLAN_CHANGED:
        return build_plan_changed_message(email)
    if email.kind in (DonorEmail.Kind.PLAN_STOPPED, DonorEmail.Kind.PLAN_LINK):
        return build_plan_message(email, email.kind)
    if email.kind in (DonorEmail.Kind.GIFT, DonorEmail.Kind.PLAN_WELCOME):
        return build_gift_message(email)
    if email.kind == DonorEmail.Kind.DONOR_PORTAL:
        return build_portal_message(email)
    if email.kind == DonorEmail.Kind.TRIBUTE:
        return build_tribute_message(email)
    return build_receipt_message(email, read_receipt_pdf(email.receipt))


def _render_attachment_first(email_id):
    """Render a receipt email's PDF before the email is claimed: rendering takes a while and
    is no part of the send. A failure here is left to the attempt itself, which records it on
    the email."""
    receipt = Receipt.objects.filter(emails__pk=email_id).first()
    if receipt is not None and not receipt.pdf_sha256:
        try:
            ensure_receipt_pdf(receipt, fresh=True)
        except Exception:  # noqa: BLE001  (recorded by the attempt that follows)
            logger.info("email %s: the PDF will be rendered during the attempt", email_id)


def claimer_id():
    """Who holds a claim: this machine, this process, this call."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def _claim(email_id, worker):
    """Mark the email in flight for `worker` by compare-and-set: of two workers (on two
    machines) sending the same email, the UPDATE lets one through; the other sends nothing.
    Committed at once (autocommit), before the mail backend is called."""
    return DonorEmail.objects.filter(
        pk=email_id,
        status__in=(DonorEmail.Status.QUEUED, DonorEmail.Status.FAILED),
        in_flight_since__isnull=True,
    ).update(
        claimed_by=worker,
        in_flight_since=timezone.now(),
        attempts=F("attempts") + 1,
        updated_at=timezone.now(),
    )


def deliver_email(email_id):
    """Send one queued email to a donor, never twice and never under a lock:
    1. claim it (compare-and-set, committed);
    2. build and send it, outside any transaction (the provider may be slow: EMAIL_TIMEOUT);
    3. record the outcome (one short write, only while the claim is ours).
    Returns the DonorEmail; a failed one carries its `next_attempt_at` (the caller,
    `crm.tasks.send_donor_email`, schedules the retry).

    At least once: a worker killed between the provider's "accepted" and step 3 leaves the
    email in flight; once its claim is stale (CLAIM_STALE_AFTER) the sweep queues it again and
    it is sent a second time, with the same Message-ID, so the provider and the donor's mail
    app can tell it is the same message. Losing a receipt's email silently would be worse."""
    _render_attachment_first(email_id)
    worker = claimer_id()
    if not _claim(email_id, worker):
        return DonorEmail.objects.get(pk=email_id)  # sent, given up, or another worker's
    email = DonorEmail.objects.select_related(
        "receipt",
        "recurring_plan__donor",
        "recurring_plan__network",
        "donor__network",
        "donation__donor",
        "donation__network",
        "donation__entity",
        "donation__recurring_plan",
        "donation__campaign",
    ).get(pk=email_id)
    try:
        message = build_message(email)
    except Exception as exc:  # noqa: BLE001  (a receipt's PDF may render on the next attempt)
        outcome = sending.failure(exc, email.attempts)
    else:
        outcome = sending.send(
            message,
            network_id=getattr(_network_of(email), "pk", None),
            purpose=PURPOSE.get(email.kind, sending.Purpose.OWED),
            attempts=email.attempts,
        )
    if not outcome.sent:
        logger.warning(
            "donor email %s attempt %s: %s %s",
            email.pk,
            email.attempts,
            outcome.status,
            outcome.error,
        )
    values = outcome.values("message_id")
    for name, value in values.items():
        setattr(email, name, value)
    _record(email, worker, tuple(values))
    return email


def _record(email, worker, fields):
    """Write the attempt's outcome and release the claim, if the claim is still ours (or was
    only released, not taken by another worker: a send that outlived its claim still counts)."""
    values = {name: getattr(email, name) for name in fields}
    email.claimed_by, email.in_flight_since = "", None
    still_ours = Q(claimed_by=worker) | Q(in_flight_since__isnull=True)
    rows = DonorEmail.objects.filter(pk=email.pk).filter(
        still_ours, status__in=(DonorEmail.Status.QUEUED, DonorEmail.Status.FAILED)
    )
    deadline = time.monotonic() + settings.CLAIM_STALE_AFTER
    waited = False
    while True:
        # The email is out: its outcome must be written, even past a busy database (SQLite's
        # "database is locked" behind a long import), for as long as the claim holds.
        try:
            recorded = rows.update(
                **values, claimed_by="", in_flight_since=None, updated_at=timezone.now()
            )
            break
        except OperationalError as exc:
            if time.monotonic() > deadline:
                raise
            if not waited:  # once per stall, as the worker says it (ops run_worker)
                logger.warning(
                    "database is locked (%s): waiting for the other writer to finish"
                    " to record email %s",
                    exc,
                    email.pk,
                )
                waited = True
            time.sleep(RECORD_RETRY_SECONDS)
    if not recorded:
        logger.warning("email %s: claim taken over before its outcome was recorded", email.pk)
