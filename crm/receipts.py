"""Receipts for liberal donations (art. 83 D.Lgs. 117/2017): issue, void, reissue, annual
statements. The public API other parts of Trama call; `crm.gifts` calls `receipt_gift_if_due`
when money arrives and `follow_refund` when it goes back.

Numbering: per issuing network and fiscal year, gapless and strictly increasing. The counter row
is locked (`select_for_update`) in the same transaction that writes the receipt, so concurrent
issuers queue on it and a rolled-back issue gives its number back. Receipts are never deleted: a
correction or a refund voids the receipt (it keeps its number) and, where money remains, issues
a new one linked through `replaces`.
"""

import logging

from django.db import transaction
from django.utils import timezone

from . import outbox, tasks
from . import receipt_log_actions as history
from .models import Donation, Donor, Network, Receipt, ReceiptCounter
from .receipt_files import ReceiptError

logger = logging.getLogger(__name__)

__all__ = [
    "ReceiptError",
    "follow_refund",
    "issue_receipt",
    "receipt_gift_if_due",
    "reissue_receipt",
    "void_receipt",
]


# --- Issuing ------------------------------------------------------------------------------------


def _next_sequence(network, year):
    """Take the next number for (network, year) under a row lock held until the caller's
    transaction ends: concurrent issuers wait here, so numbers never collide or skip."""
    ReceiptCounter.objects.get_or_create(network=network, year=year)
    counter = ReceiptCounter.objects.select_for_update().get(network=network, year=year)
    counter.last_sequence += 1
    counter.save(update_fields=["last_sequence"])
    return counter.last_sequence


def format_number(network, year, sequence):
    """`2026/00042`, or `RV-2026/00042` with the network's series prefix."""
    number = f"{year}/{sequence:05d}"
    return f"{network.receipt_series}-{number}" if network.receipt_series else number


def donor_snapshot(donor):
    if donor.kind == Donor.Kind.ORGANISATION and donor.organisation_name:
        name = donor.organisation_name
    else:
        name = f"{donor.first_name} {donor.last_name}".strip() or donor.email
    province = f" ({donor.province})" if donor.province else ""
    locality = f"{donor.postal_code} {donor.city}".strip()
    address = ", ".join(p for p in (donor.street_address, locality + province) if p.strip())
    if address and donor.country and donor.country != "IT":
        address = f"{address}, {donor.country}"
    return {
        "kind": donor.kind,
        "name": name,
        "email": donor.email,
        "codice_fiscale": donor.codice_fiscale,
        "partita_iva": donor.partita_iva,
        "address": address,
        "language": donor.language,
    }


def entity_snapshot(network):
    return {
        "legal_name": network.legal_name,
        "codice_fiscale": network.codice_fiscale,
        "partita_iva": network.partita_iva,
        "kind": network.entity_kind,
        "kind_label": str(Network.EntityKind(network.entity_kind).label),
        "runts_number": network.runts_number,
        "tax_regime": network.tax_regime,
        "address": network.full_address,
        "city": network.city,
        "signer_name": network.signer_name,
        "signer_role": network.signer_role,
        "logo_id": network.logo_id,
        # With the file name, the renderer caches the logo without a query (crm.pdf).
        "logo_file": network.logo.file.name if network.logo_id else "",
        "email": network.email,
    }


def _receipted_amount(donation):
    """What a receipt states of a gift: what the gift raised (`Donation.kept_cents`)."""
    return donation.kept_cents


def issue_receipt(donations, *, kind="single", issued_by=None, enqueue_render=True, _replaces=None):
    """Number and record a receipt for `donations` (succeeded gifts of one donor, one network,
    one fiscal year, none already covered by an issued receipt). The PDF is rendered after
    commit by a background task (unless `enqueue_render` is false: the caller renders it, as
    the yearly statements' worker processes do). Returns the receipt."""
    ids = sorted({d.pk for d in donations})
    if not ids:
        raise ReceiptError("no gifts to receipt")
    with transaction.atomic():
        # Lock the gifts first: two issuers covering the same gift serialise here, and the
        # second one sees the first one's receipt below.
        gifts = list(Donation.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        if len(gifts) != len(ids):
            raise ReceiptError("unknown gift")
        first = gifts[0]
        if any(g.network_id != first.network_id or g.donor_id != first.donor_id for g in gifts):
            raise ReceiptError("gifts belong to different donors or networks")
        if first.donor_id is None:
            raise ReceiptError("gift has no donor yet")
        if any(g.status not in Donation.COUNTED_STATUSES for g in gifts):
            raise ReceiptError("only succeeded gifts can be receipted")
        # The fiscal year is the year the gift was received (a date, already Italian).
        years = {g.received_on.year for g in gifts}
        if len(years) != 1:
            raise ReceiptError("gifts span more than one fiscal year")
        covered = Receipt.objects.filter(donations__in=ids, status=Receipt.Status.ISSUED).exclude(
            pk=getattr(_replaces, "pk", None)
        )
        if covered.exists():
            raise ReceiptError("a gift is already covered by an issued receipt")
        amount = sum(_receipted_amount(g) for g in gifts)
        if amount <= 0:
            raise ReceiptError("nothing left to receipt")

        network = Network.objects.get(pk=first.network_id)
        donor = Donor.objects.get(pk=first.donor_id)
        year = years.pop()
        sequence = _next_sequence(network, year)
        receipt = Receipt.objects.create(
            network=network,
            year=year,
            sequence=sequence,
            number=format_number(network, year, sequence),
            kind=kind,
            issued_by=issued_by,
            donor=donor,
            amount_cents=amount,
            donor_snapshot=donor_snapshot(donor),
            entity_snapshot=entity_snapshot(network),
            language="en" if donor.language == "en" else "it",
            replaces=_replaces,
        )
        receipt.donations.set(gifts)
        history.log_receipt(
            receipt,
            history.ISSUE,
            issued_by,
            kind=kind,
            amount_cents=amount,
            donations=ids,
            replaces=getattr(_replaces, "number", None),
        )
        if enqueue_render:
            receipt_id = receipt.pk
            transaction.on_commit(lambda: tasks.render_receipt_pdf.enqueue(receipt_id))
    return receipt


def void_receipt(receipt, *, reason, user=None):
    """Mark the receipt void (it keeps its number and its PDF). Idempotent."""
    if not reason:
        raise ReceiptError("a reason is required to void a receipt")
    with transaction.atomic():
        locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
        if locked.status == Receipt.Status.VOID:
            return locked
        locked.status = Receipt.Status.VOID
        locked.voided_at = timezone.now()
        locked.voided_by = user
        locked.void_reason = reason[:255]
        locked.save(update_fields=["status", "voided_at", "voided_by", "void_reason"])
        history.log_receipt(locked, history.VOID, user, reason=locked.void_reason)
    return locked


def reissue_receipt(receipt, *, reason, user=None):
    """Void `receipt` and issue a new one for the same gifts with the donor's CURRENT details
    (a corrected name or codice fiscale), linked to the old one through `replaces`."""
    with transaction.atomic():
        voided = void_receipt(receipt, reason=reason, user=user)
        gifts = [
            g
            for g in voided.donations.all()
            if g.status in Donation.COUNTED_STATUSES and _receipted_amount(g) > 0
        ]
        new = issue_receipt(gifts, kind=voided.kind, issued_by=user, _replaces=voided)
        history.log_receipt(voided, history.REISSUE, user, reason=reason, replaced_by=new.number)
        return new


def follow_refund(donation, reason, *, user=None):
    """A gift was refunded (fully or in part) or lost a dispute: void every issued receipt that
    covers it; where money is still given (other gifts of a statement, a partial refund) issue a
    replacement for what remains."""
    receipts = Receipt.objects.filter(donations=donation, status=Receipt.Status.ISSUED)
    for receipt in receipts:
        with transaction.atomic():
            remaining = [
                g
                for g in receipt.donations.all()
                if g.status in Donation.COUNTED_STATUSES and _receipted_amount(g) > 0
            ]
            if remaining:
                reissue_receipt(receipt, reason=reason, user=user)
            else:
                void_receipt(receipt, reason=reason, user=user)


def should_issue_automatically(donation):
    return bool(
        donation.donor_id
        and (donation.wants_receipt or donation.network.always_issue_receipts)
        and donation.status in Donation.COUNTED_STATUSES
        and not donation.receipts.filter(status=Receipt.Status.ISSUED).exists()
    )


def receipt_gift_if_due(donation, *, email=True):
    """A gift just succeeded (online or offline): issue its receipt if the donor asked for one
    or the network always issues them, and queue the thank-you email with it (unless `email`
    is false: `crm.thanks.acknowledge_gift` attaches it to the gift's confirmation). Returns
    the receipt, or None."""
    if not should_issue_automatically(donation):
        return None
    try:
        # A savepoint: a receipt problem must not undo the gift being recorded; the gift stays
        # uncovered and the yearly statement (or the admin) receipts it later.
        with transaction.atomic():
            receipt = issue_receipt([donation])
            if email and receipt.donor.email:
                outbox.queue_receipt_email(receipt)
    except Exception:
        logger.exception("could not issue a receipt for donation %s", donation.pk)
        return None
    return receipt


def email_receipt(receipt, *, user=None):
    """Queue the receipt's email if the donor has an address. True if queued."""
    if not (receipt.donor_snapshot.get("email") or receipt.donor.email):
        return False
    outbox.queue_receipt_email(receipt, user=user)
    return True


def issue_receipts_for(donations, *, issued_by=None, email=True):
    """One receipt per gift for `donations` (the bulk action, an import batch): gifts already
    covered, not completed or without a donor are skipped with the reason. Each receipt is
    emailed to the donor unless `email` is false. Returns a report: `issued` (receipts),
    `emailed` (count) and `skipped` (list of (gift, reason code))."""
    report = {"issued": [], "emailed": 0, "skipped": []}
    covered = set(
        Receipt.objects.filter(
            donations__in=[d.pk for d in donations], status=Receipt.Status.ISSUED
        ).values_list("donations", flat=True)
    )
    for gift in donations:
        if gift.pk in covered:
            report["skipped"].append((gift, "covered"))
        elif gift.status not in Donation.COUNTED_STATUSES or not gift.donor_id:
            report["skipped"].append((gift, "not_receiptable"))
        else:
            try:
                with transaction.atomic():
                    receipt = issue_receipt([gift], issued_by=issued_by)
                    if email and email_receipt(receipt):
                        report["emailed"] += 1
            except ReceiptError:
                report["skipped"].append((gift, "not_receiptable"))
                continue
            report["issued"].append(receipt)
    return report
