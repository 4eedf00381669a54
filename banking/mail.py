"""The pledge email: the bank details, the amount, the RF reference and the EPC QR code, in
the donor's language. Sent the way crm sends the gift emails (`crm.mail`): claimed by a
compare-and-set, built and sent outside any transaction with Django's mail API (any anymail
backend), the outcome recorded; the same Message-ID rule and suppression list
(`crm.mail_policy`); a failed send is retried by the task's next run with crm's backoff."""

import datetime
import io
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from crm.mail_policy import MAX_ATTEMPTS, backoff, message_id_header, suppressed
from crm.money import format_amount

from . import qr
from .models import BankDetails, Pledge
from .references import grouped

logger = logging.getLogger(__name__)
KIND = "bank_transfer"


def pledge_context(pledge: Pledge, details: BankDetails) -> dict:
    return {
        "pledge": pledge,
        "details": details,
        "network": pledge.network,
        "amount": format_amount(pledge.amount_cents),
        "reference": pledge.reference,
        "reference_grouped": grouped(pledge.reference),
        "iban_grouped": grouped("".join(details.iban.split()).upper()),
        "campaign": pledge.campaign,
        "donor_name": pledge.donor_details.get("first_name") or pledge.name,
    }


def build_pledge_message(pledge: Pledge) -> EmailMultiAlternatives:
    details = BankDetails.objects.get(network=pledge.network)
    with translation.override(pledge.language):
        context = pledge_context(pledge, details)
        subject = render_to_string("banking/email/pledge_subject.txt", context).strip()
        text = render_to_string("banking/email/pledge.txt", context)
        html = render_to_string("banking/email/pledge.html", context)
    stamp = int(pledge.created_at.timestamp())
    network = pledge.network
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[pledge.email],
        reply_to=[network.email] if network.email else [],
        headers={"Message-ID": message_id_header(KIND, pledge.pk, stamp)},
    )
    message.attach_alternative(html, "text/html")
    # The QR code as a PNG attachment too: mail apps strip inline SVG.
    message.attach(f"bonifico-{pledge.reference}.png", _png(details, pledge), "image/png")
    message.tags = [KIND]  # type: ignore[attr-defined]  # anymail reads it
    return message


def _png(details: BankDetails, pledge: Pledge) -> bytes:
    buffer = io.BytesIO()
    qr.epc_qr(details, pledge).save(buffer, kind="png", scale=5)
    return buffer.getvalue()


def _claimable(now: datetime.datetime) -> Q:
    stale = now - datetime.timedelta(seconds=settings.CLAIM_STALE_AFTER)
    return (
        Q(email_status=Pledge.EmailStatus.QUEUED)
        | Q(email_status=Pledge.EmailStatus.FAILED)
        | Q(email_status=Pledge.EmailStatus.SENDING, email_claimed_at__lt=stale)
    )


def deliver_pledge_email(pledge_id: int) -> Pledge | None:
    """Claim (compare-and-set, committed), send outside any transaction, record the outcome.
    At least once: a worker killed after the provider accepted leaves the claim, which goes
    stale and is taken again (same Message-ID)."""
    now = timezone.now()
    claimed = Pledge.objects.filter(_claimable(now), pk=pledge_id).update(
        email_status=Pledge.EmailStatus.SENDING, email_claimed_at=now
    )
    pledge = Pledge.objects.select_related("network").filter(pk=pledge_id).first()
    if not claimed or pledge is None:
        return pledge
    if not pledge.email or suppressed(pledge.network_id).filter(email=pledge.email).exists():
        Pledge.objects.filter(pk=pledge.pk).update(email_status=Pledge.EmailStatus.SKIPPED)
        return pledge
    attempts = pledge.email_attempts + 1
    try:
        build_pledge_message(pledge).send()
    except Exception as exc:  # noqa: BLE001 - any provider failure is recorded, then retried
        logger.warning("pledge email %s attempt %s failed: %s", pledge.pk, attempts, exc)
        again = attempts < MAX_ATTEMPTS
        Pledge.objects.filter(pk=pledge.pk, email_claimed_at=now).update(
            email_status=Pledge.EmailStatus.FAILED if again else Pledge.EmailStatus.SKIPPED,
            email_attempts=attempts,
            email_error=f"{type(exc).__name__}: {exc}"[:2000],
            email_next_attempt_at=timezone.now() + backoff(attempts) if again else None,
        )
    else:
        Pledge.objects.filter(pk=pledge.pk, email_claimed_at=now).update(
            email_status=Pledge.EmailStatus.SENT,
            email_attempts=attempts,
            email_sent_at=timezone.now(),
            email_error="",
            email_next_attempt_at=None,
        )
    pledge.refresh_from_db()
    return pledge


def due_pledge_emails(now: datetime.datetime | None = None) -> list[int]:
    """The pledges whose email the sweep queues again: failed and past their backoff, queued
    and never taken (a lost task), or claimed by a worker that died. Each is then left alone
    for TASKS_LOST_AFTER seconds, so it is queued once per wait, not once per sweep."""
    now = now or timezone.now()
    lost = now - datetime.timedelta(seconds=settings.TASKS_LOST_AFTER)
    due = Pledge.objects.filter(_claimable(now)).filter(
        Q(email_next_attempt_at__lte=now) | Q(email_next_attempt_at=None, created_at__lt=lost)
    )
    pks = list(due.order_by("pk").values_list("pk", flat=True)[:500])
    wait = now + datetime.timedelta(seconds=settings.TASKS_LOST_AFTER)
    Pledge.objects.filter(pk__in=pks).update(email_next_attempt_at=wait)
    return pks
