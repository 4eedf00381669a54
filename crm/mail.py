"""Mail: the only module that sends email. It goes through Django's mail API (`MAILERS`), so
any django-anymail ESP backend configured there works; delivery status comes back through
anymail's normalised `tracking` signal (webhook URLs under /crm/anymail/).

One policy for every email to a donor, the gift emails here and the network's messages
(`outreach.mailing`) alike: the same retries (`MAX_ATTEMPTS`, `backoff`), the same status
order (`status_rank`, `TRACKING_STATUS`), the same Message-ID rule (`message_id_header`) and
one suppression list (`suppress_address`, `suppressed`): a bounce or a spam complaint on any of
them stops the network's newsletters and messages to that address.

Emails are queued as `DonorEmail` rows by `crm.outbox` and sent here by the worker
(`crm.tasks.send_donor_email` → `deliver_email`). A send that raises is recorded on its row
(attempts, error, next attempt) and retried with exponential backoff; after MAX_ATTEMPTS it is
marked "gave up" and shown in the admin, where "resend" queues a new email.
"""

import logging
import os
import secrets
import socket
import time
from datetime import timedelta

from anymail.signals import EventType, tracking
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q, QuerySet
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import email_templates, links, portal_links
from .links import newsletter_confirm_url, plan_cancel_url, receipt_download_url
from .models import DonorEmail, Receipt, RecurringPlan, SuppressedAddress
from .money import format_amount
from .receipt_files import download_name, ensure_receipt_pdf, read_receipt_pdf

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RECORD_RETRY_SECONDS = 1
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)

# Delivery status only moves forward: webhooks arrive in any order (a late "sent" must not hide
# a "delivered"); a bounce or complaint after delivery is news and wins. By status value, shared
# by the gift emails (`DonorEmail.Status`) and the messages' deliveries (outreach); anything
# not yet out (queued, pending, failed, gave up, skipped) ranks 0.
_RANK = {"sent": 1, "delivered": 2, "bounced": 3, "complained": 3}
# What a provider's event says of an email's status, by status value.
TRACKING_STATUS = {
    EventType.SENT: "sent",
    EventType.QUEUED: "sent",
    EventType.DELIVERED: "delivered",
    EventType.BOUNCED: "bounced",
    EventType.REJECTED: "bounced",
    EventType.FAILED: "bounced",
    EventType.COMPLAINED: "complained",
}
# The statuses that suppress the address for the network.
SUPPRESSING = {
    "bounced": SuppressedAddress.Reason.BOUNCED,
    "complained": SuppressedAddress.Reason.COMPLAINED,
}


def status_rank(status: str) -> int:
    """How far an email got: a status only ever moves to a higher rank."""
    return _RANK.get(str(status), 0)


def message_id_header(kind: str, key: object, stamp: object) -> str:
    """One Message-ID per email whatever the attempt: should a crash ever make us send the
    same email twice, mail clients see one message."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">") or "trama.local"
    return f"<trama.{kind}.{key}.{stamp}@{domain}>"


def suppressed(network_id: int) -> "QuerySet[SuppressedAddress]":
    """The network's suppressed addresses (`email` lower-case)."""
    return SuppressedAddress.objects.filter(network_id=network_id)


def suppress_address(
    network_id: int, email: str, reason: str, *, detail: str = "", source: str = ""
) -> None:
    """No later newsletter or message of the network goes to `email`. Idempotent (a second
    event for the same address, or a concurrent one, keeps the first row)."""
    if not network_id or not email:
        return
    try:
        with transaction.atomic():
            SuppressedAddress.objects.get_or_create(
                network_id=network_id,
                email=email.strip().lower(),
                defaults={"reason": reason, "detail": detail[:2000], "source": source},
            )
    except IntegrityError:  # the same address suppressed by a concurrent event
        pass


def recurring_cancel_url(receipt):
    """The signed self-service link of the monthly plan behind a receipt's gifts, if any."""
    plan = next((d.recurring_plan for d in receipt.donations.all() if d.recurring_plan_id), None)
    if plan is None or plan.status == plan.Status.CANCELLED:
        return ""
    return plan_cancel_url(plan)


# The plan's manage page (amount, pause, card, stop) where the giving app has one, else its
# stop page: both are signed links to the same plan.
plan_manage_url = getattr(links, "plan_manage_url", plan_cancel_url)


def backoff(attempts):
    """1, 2, 4, 8 … minutes after the n-th failure, capped at six hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _network_of(email):
    """The network an email speaks for, from whatever it is about."""
    for related in ("donation", "recurring_plan", "donor", "receipt"):
        if getattr(email, f"{related}_id", None):
            return getattr(email, related).network
    return None


def _message(email, template, context, language, reply_to, network=None):
    """The email in `language`: the network's own wording of this kind if it wrote one
    (placeholders filled from `context`, see `crm.email_templates`), else the default."""
    context = {**context, "language": language}
    own = email_templates.network_template(network or _network_of(email), template, language)
    with translation.override(language):
        if own is not None:
            values = email_templates.values_from_context(context)
            subject, text, html = email_templates.compose(own, values, language)
        else:
            subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
            text = render_to_string(f"emails/{template}.txt", context)
            html = render_to_string(f"emails/{template}.html", context)
    stamp = int(email.created_at.timestamp())
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[email.to],
        reply_to=[reply_to] if reply_to else [],
        headers={"Message-ID": message_id_header(email.kind, email.pk, stamp)},
    )
    message.attach_alternative(html, "text/html")
    # anymail: ties provider events to this email; harmless for other backends.
    message.metadata = {"receipt_email": str(email.pk)}
    message.tags = [email.kind]
    return message


def build_payment_failed_message(email):
    """Tells a monthly donor their payment failed, that Stripe will try again, and how to update
    the card or stop giving (the signed self-service link)."""
    plan = email.recurring_plan
    donor, network = plan.donor, plan.network
    language = "en" if donor.language == "en" else "it"
    with translation.override(language):
        interval = plan.get_interval_display().lower()
    context = {
        "plan": plan,
        "donor_name": donor.first_name or donor.display_name,
        "amount": format_amount(plan.amount_cents),
        "interval": interval,
        "entity": network,
        "manage_url": plan_manage_url(plan),
    }
    return _message(email, "payment_failed", context, language, network.email, network)


def build_plan_message(email, template):
    """The "plan stopped" notice, or the link to the plan's page sent by the treasurer."""
    plan = email.recurring_plan
    donor, network = plan.donor, plan.network
    language = "en" if donor.language == "en" else "it"
    with translation.override(language):
        interval = plan.get_interval_display()
    context = {
        "plan": plan,
        "donor_name": donor.first_name or donor.display_name,
        "amount": format_amount(plan.amount_cents),
        "interval": interval,
        "entity": network,
        "manage_url": plan_manage_url(plan) if template == "plan_link" else "",
    }
    return _message(email, template, context, language, network.email)


def _interval_label(value):
    return str(dict(RecurringPlan.Interval.choices).get(value, "—")).lower()


def plan_change_lines(changes):
    """What changed, one sentence each, in the active language (`crm.plans.update_plan`
    lists the changes; they are kept on the email as they were made)."""
    lines = []
    for change in changes:
        what = change.get("what")
        if what == "amount":
            lines.append(
                _("The amount is now %(to)s (it was %(from)s), from the next payment.")
                % {"to": format_amount(change["to"]), "from": format_amount(change["from"])}
            )
        elif what == "interval":
            lines.append(
                _("It is now %(to)s (it was %(from)s), from the next payment date.")
                % {"to": _interval_label(change["to"]), "from": _interval_label(change["from"])}
            )
        elif what == "pause" and change.get("resumes_at"):
            resumes = parse_datetime(change["resumes_at"])
            lines.append(
                _("It is paused: nothing will be charged until %(date)s.")
                % {"date": _date(timezone.localtime(resumes)) if resumes else "—"}
            )
        elif what == "pause":
            lines.append(_("It is paused: nothing will be charged until it is resumed."))
        elif what == "resume":
            lines.append(_("It is running again: payments start again from the next date."))
    return lines


def build_plan_changed_message(email):
    """Confirms a change to the plan (amount, frequency, pause, resume), whoever made it: what
    changed as it was made, what the plan is now, and the link to change it again."""
    plan = email.recurring_plan
    donor, network = plan.donor, plan.network
    details = email.details or {}
    next_charge = parse_datetime(details.get("next_charge_at") or "")
    language = "en" if donor.language == "en" else "it"
    with translation.override(language):
        context = {
            "plan": plan,
            "donor_name": donor.first_name or donor.display_name,
            "amount": format_amount(details.get("amount_cents") or plan.amount_cents),
            "interval": _interval_label(details.get("interval") or plan.interval),
            "changes": plan_change_lines(details.get("changes") or []),
            "next_charge": _date(timezone.localtime(next_charge)) if next_charge else "",
            "paused": bool(details.get("paused")),
            "entity": network,
            "manage_url": plan_manage_url(plan),
        }
    return _message(email, "plan_changed", context, language, network.email, network)


def build_newsletter_confirm_message(email):
    """Asks the donor to confirm the newsletter from a signed link (double opt-in); nothing is
    sent to them until they do."""
    donor = email.donor
    network = donor.network
    context = {
        "donor_name": donor.first_name or donor.display_name,
        "entity": network,
        "network_name": network.name,
        "confirm_url": newsletter_confirm_url(donor),
    }
    language = "en" if donor.language == "en" else "it"
    return _message(email, "newsletter_confirm", context, language, network.email, network)


def _date(value):
    return formats.date_format(value, "d/m/Y") if value else ""


def build_refund_message(email):
    """Tells the donor how much of their gift went back to them and what became of its
    receipt: voided, or replaced by a new one for what they still give."""
    donation = email.donation
    donor, network = donation.donor, donation.network
    receipts = donation.receipts.order_by("-pk")
    current = receipts.filter(status=Receipt.Status.ISSUED).first()
    voided = receipts.filter(status=Receipt.Status.VOID).first()
    context = {
        "donor_name": donor.first_name or donor.display_name,
        "refunded": format_amount(email.amount_cents or 0),
        "amount": format_amount(donation.amount_cents),
        "remaining": format_amount(donation.amount_cents - donation.refunded_cents),
        "received_on": donation.received_on.strftime("%d/%m/%Y"),
        "voided": voided,
        "current": current,
        "current_amount": format_amount(current.amount_cents) if current else "",
        "download_url": receipt_download_url(current) if current else "",
        "entity": network,
    }
    language = "en" if donor.language == "en" else "it"
    return _message(email, "refund", context, language, network.email)


def build_receipt_message(email, pdf_bytes):
    receipt = email.receipt
    language = "en" if receipt.language == "en" else "it"
    gifts = sorted(receipt.donations.all(), key=lambda g: g.received_on)
    annual = receipt.kind == receipt.Kind.ANNUAL
    with translation.override(language):
        campaigns = {g.campaign.title for g in gifts if g.campaign_id}
        context = {
            "receipt": receipt,
            "donor": receipt.donor_snapshot,
            "entity": receipt.entity_snapshot,
            "amount": format_amount(receipt.amount_cents),
            # A statement covers the year (its subject says which): no list of dates.
            "date": "" if annual else ", ".join(dict.fromkeys(_date(g.received_on) for g in gifts)),
            "campaign": ", ".join(sorted(campaigns)),
            "replaced_number": receipt.replaces.number if receipt.replaces_id else "",
            "download_url": receipt_download_url(receipt),
            "cancel_url": recurring_cancel_url(receipt),
            "is_annual": annual,
        }
    message = _message(
        email,
        "receipt",
        context,
        language,
        receipt.entity_snapshot.get("email"),
        receipt.network,
    )
    message.attach(download_name(receipt), pdf_bytes, "application/pdf")
    return message


def gift_context(donation, receipt=None):
    """The values of a gift's confirmation (the placeholders of `crm.email_templates`)."""
    donor, network = donation.donor, donation.network
    plan = donation.recurring_plan
    live_plan = plan is not None and plan.status != plan.Status.CANCELLED
    return {
        "nome": donor.first_name or donor.display_name,
        "importo": format_amount(donation.amount_cents),
        "data": _date(donation.received_on),
        "campagna": donation.campaign.title if donation.campaign_id else network.name,
        "metodo": donation.get_method_display(),
        "link": plan_manage_url(plan) if live_plan else portal_links.request_url(network, donor),
        "ricevuta": receipt.number if receipt else "",
        "ente": network.legal_name,
        "firma": network.signer_name,
        "plan": plan if live_plan else None,
        "entity": network,
    }


def build_gift_message(email):
    """A gift's confirmation (or a plan's welcome) with its receipt attached if one was
    issued with it."""
    donation = email.donation
    network = donation.network
    language = "en" if donation.donor.language == "en" else "it"
    with translation.override(language):
        context = gift_context(donation, email.receipt)
        if context["plan"] is not None:
            context["interval"] = context["plan"].get_interval_display().lower()
    message = _message(email, email.kind, context, language, network.email, network)
    if email.receipt_id:
        message.attach(
            download_name(email.receipt), read_receipt_pdf(email.receipt), "application/pdf"
        )
    return message


def build_portal_message(email):
    """The signed, expiring link to the donor's own page (crm.portal)."""
    donor = email.donor
    network = donor.network
    language = "en" if donor.language == "en" else "it"
    context = {
        "nome": donor.first_name or donor.display_name,
        "link": portal_links.login_url(donor),
        "ente": network.legal_name,
        "network_name": network.name,
        "firma": network.signer_name,
    }
    return _message(email, "donor_portal", context, language, network.email, network)


def send_test_email(network, language, subject, body, to):
    """Send a network's draft of an email, filled with sample data, to whoever is editing it
    (their own address): at once, not through the outbox, as it is nobody's donor email."""
    values = email_templates.sample_values(network, language)
    draft = type("Draft", (), {"subject": subject, "body": body})
    subject, text, html = email_templates.compose(draft, values, language)
    message = EmailMultiAlternatives(
        subject=f"[TEST] {subject}",
        body=text,
        to=[to],
        reply_to=[network.email] if network.email else [],
    )
    message.attach_alternative(html, "text/html")
    message.tags = ["test"]
    message.send(using="default")


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
    return build_receipt_message(email, read_receipt_pdf(email.receipt))


def _render_attachment_first(email_id):
    """Render a receipt email's PDF before the email is claimed: rendering takes a while and
    is no part of the send. A failure here is left to the attempt itself, which records it on
    the email."""
    receipt = Receipt.objects.filter(emails__pk=email_id).first()
    if receipt is not None and not receipt.pdf_sha256:
        try:
            ensure_receipt_pdf(receipt)
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
        "donation__recurring_plan",
        "donation__campaign",
    ).get(pk=email_id)
    try:
        message = build_message(email)
        message.send(using="default")
    except Exception as exc:
        logger.warning("receipt email %s attempt %s failed: %s", email.pk, email.attempts, exc)
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if email.attempts >= MAX_ATTEMPTS:
            email.status = DonorEmail.Status.GAVE_UP
            email.next_attempt_at = None
        else:
            email.status = DonorEmail.Status.FAILED
            email.next_attempt_at = timezone.now() + backoff(email.attempts)
        fields = ("status", "last_error", "next_attempt_at")
    else:
        status = getattr(message, "anymail_status", None)
        email.message_id = str(
            (status.message_id if status and status.message_id is not None else None)
            or message.extra_headers["Message-ID"]
        )
        email.status = DonorEmail.Status.SENT
        email.sent_at = timezone.now()
        email.next_attempt_at = None
        email.last_error = ""
        fields = ("status", "message_id", "sent_at", "next_attempt_at", "last_error")
    _record(email, worker, fields)
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


@receiver(tracking, dispatch_uid="crm.mail.tracking")
def record_tracking_event(sender, event, esp_name, **kwargs):
    """anymail tracking webhook → the DonorEmail's delivery status (by provider message id)."""
    status = TRACKING_STATUS.get(event.event_type)
    if status is None or not event.message_id:
        return
    with transaction.atomic():
        for email in DonorEmail.objects.select_for_update().filter(
            message_id=str(event.message_id)
        ):
            if status_rank(status) > status_rank(email.status):
                email.status = status
                if status in SUPPRESSING:
                    email.last_error = (event.description or event.mta_response or "")[:2000]
                email.save(update_fields=["status", "last_error", "updated_at"])
            if status in SUPPRESSING and (network := _network_of(email)) is not None:
                suppress_address(
                    network.pk,
                    email.to,
                    SUPPRESSING[status],
                    detail=event.description or event.mta_response or "",
                    source=SuppressedAddress.Source.GIFT_EMAIL,
                )
