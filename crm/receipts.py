"""Receipts for liberal donations (art. 83 D.Lgs. 117/2017): issue, void, reissue, annual
statements. The public API other parts of Trama call; `crm.gifts` calls `receipt_gift_if_due`
when money arrives and `follow_refund` when it goes back.

Numbering: per issuing entity and fiscal year, gapless and strictly increasing. The counter row
is locked (its UPDATE) in the same transaction that writes the receipt, after every check and
just before the receipt's inserts, so concurrent issuers queue on it for as short a time as can
be, and a rolled-back issue gives its number back. Receipts are never deleted: a
correction or a refund voids the receipt (it keeps its number) and, where money remains, issues
a new one linked through `replaces`.
"""

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from . import outbox, tasks
from . import receipt_log_actions as history
from .models import (
    Donation,
    InKindGift,
    IssuingEntity,
    Receipt,
    ReceiptCounter,
)
from .receipt_files import ReceiptError
from .receipt_snapshots import donor_snapshot, entity_snapshot

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

__all__ = [
    "ReceiptError",
    "follow_refund",
    "issue_in_kind_receipt",
    "issue_receipt",
    "receipt_gift_if_due",
    "reissue_receipt",
    "void_receipt",
]


# --- Issuing ------------------------------------------------------------------------------------


def _next_sequence(entity: IssuingEntity, year: int) -> int:
    """Take the next number for (entity, year): one UPDATE ... RETURNING, which takes the
    counter's row lock until the caller's transaction ends. Concurrent issuers of the entity
    queue on it, so numbers never collide or skip; callers take it as late as they can (after
    every read and check), so the lock is held for the few inserts that follow it only. The
    year's first receipt creates the counter (a concurrent creator finds it made)."""
    table = connection.ops.quote_name(ReceiptCounter._meta.db_table)  # ours, not input
    sql = (
        f"UPDATE {table} SET last_sequence = last_sequence + 1 "  # noqa: S608
        "WHERE entity_id = %s AND year = %s RETURNING last_sequence"
    )
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, [entity.pk, year])
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        ReceiptCounter.objects.get_or_create(
            entity=entity, year=year, defaults={"network_id": entity.network_id}
        )
    raise ReceiptError("the receipt counter could not be taken")


def format_number(entity: IssuingEntity, year: int, sequence: int) -> str:
    """`2026/00042`, or `RV-2026/00042` with the entity's series prefix."""
    number = f"{year}/{sequence:05d}"
    return f"{entity.receipt_series}-{number}" if entity.receipt_series else number


def _receipted_amount(donation: Donation) -> int:
    """What a receipt states of a gift: what the gift raised (`Donation.kept_cents`)."""
    return donation.kept_cents


# The code of the ReceiptError for a gift already covered by an issued receipt (a replay, or two
# issuers racing): `receipt_gift_if_due` finds its work done and says nothing.
COVERED = "covered"


def issue_receipt(
    donations: Iterable[Donation],
    *,
    kind: str = "single",
    issued_by: "User | None" = None,
    enqueue_render: bool = True,
    confirmed_missing: Sequence[str] = (),
    _replaces: Receipt | None = None,
) -> Receipt:
    """Number and record a receipt for `donations` (succeeded gifts of one donor, one network,
    one fiscal year, none already covered by an issued receipt). The PDF is rendered after
    commit by a background task (unless `enqueue_render` is false: the caller renders it, as
    the yearly statements' worker processes do, or an email that carries it renders it first,
    `crm.mail`). `confirmed_missing` names the donor data the treasurer confirmed issuing
    without (`crm.receipt_selection.missing_receipt_data`): kept in the receipt's history.
    Returns the receipt."""
    with transaction.atomic():
        return _issue(
            donations,
            kind=kind,
            issued_by=issued_by,
            enqueue_render=enqueue_render,
            confirmed_missing=confirmed_missing,
            replaces=_replaces,
        )


def _issue(
    donations: Iterable[Donation],
    *,
    kind: str,
    issued_by: "User | None",
    enqueue_render: bool,
    confirmed_missing: Sequence[str],
    replaces: Receipt | None,
) -> Receipt:
    """`issue_receipt` inside the caller's transaction (no savepoint of its own): every read
    and check first, then the counter (`_next_sequence`), then the inserts."""
    ids = sorted({d.pk for d in donations})
    if not ids:
        raise ReceiptError("no gifts to receipt")
    # Lock the gifts first: two issuers covering the same gift serialise here, and the second
    # one sees the first one's receipt below. Their network and donor come with them.
    gifts = list(
        Donation.objects.select_related("network", "donor", "entity")
        .select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(gifts) != len(ids):
        raise ReceiptError("unknown gift")
    first = gifts[0]
    if any(g.network_id != first.network_id or g.donor_id != first.donor_id for g in gifts):
        raise ReceiptError("gifts belong to different donors or networks")
    # One receipt, one issuer: the entity that received the gifts (the lead entity for a gift
    # recorded without one).
    entities = {g.entity or first.network.lead_entity for g in gifts}
    if len(entities) != 1:
        raise ReceiptError("gifts were received by different entities")
    entity = entities.pop()
    if entity.network_id != first.network_id:
        raise ReceiptError("the receiving entity is not of the gift's network")
    donor = first.donor
    if donor is None:
        raise ReceiptError("gift has no donor yet")
    if any(g.status not in Donation.COUNTED_STATUSES for g in gifts):
        raise ReceiptError("only succeeded gifts can be receipted")
    # The fiscal year is the year the gift was received (a date, already Italian).
    years = {g.received_on.year for g in gifts}
    if len(years) != 1:
        raise ReceiptError("gifts span more than one fiscal year")
    covered = Receipt.objects.filter(donations__in=ids, status=Receipt.Status.ISSUED)
    if replaces is not None:
        covered = covered.exclude(pk=replaces.pk)
    if covered.exists():
        raise ReceiptError("a gift is already covered by an issued receipt", code=COVERED)
    amount = sum(_receipted_amount(g) for g in gifts)
    if amount <= 0:
        raise ReceiptError("nothing left to receipt")

    network, year = first.network, years.pop()
    receipt = Receipt(
        network=network,
        entity=entity,
        year=year,
        kind=kind,
        issued_by=issued_by,
        donor=donor,
        amount_cents=amount,
        donor_snapshot=donor_snapshot(donor),
        entity_snapshot=entity_snapshot(entity),
        language="en" if donor.language == "en" else "it",
        replaces=replaces,
    )
    # The counter as late as possible: only inserts follow it until the commit.
    receipt.sequence = _next_sequence(entity, year)
    receipt.number = format_number(entity, year, receipt.sequence)
    receipt.save(force_insert=True)
    Covers = Receipt.donations.through
    Covers.objects.bulk_create([Covers(receipt_id=receipt.pk, donation_id=pk) for pk in ids])
    history.log_receipt(
        receipt,
        history.ISSUE,
        issued_by,
        kind=kind,
        amount_cents=amount,
        donations=ids,
        replaces=getattr(replaces, "number", None),
        **({"missing_data_confirmed": list(confirmed_missing)} if confirmed_missing else {}),
    )
    if enqueue_render:
        render_later(receipt)
    return receipt


def issue_in_kind_receipt(
    gift: InKindGift,
    *,
    issued_by: "User | None" = None,
    enqueue_render: bool = True,
    _replaces: Receipt | None = None,
) -> Receipt:
    """Number and record the receipt of a gift in kind (kind IN_KIND), in the series of the
    entity that received the goods: its amount is the goods' value, and it covers no money gift. One
    issued receipt per gift: the gift's row is locked, a second issuer finds the first one's
    receipt."""
    with transaction.atomic():
        gift = (
            InKindGift.objects.select_related("network", "donor")
            .select_for_update(of=("self",))
            .get(pk=gift.pk)
        )
        covered = gift.receipts.filter(status=Receipt.Status.ISSUED)
        if _replaces is not None:
            covered = covered.exclude(pk=_replaces.pk)
        if covered.exists():
            raise ReceiptError("the gift in kind already has a receipt", code=COVERED)
        network, year, donor = gift.network, gift.received_on.year, gift.donor
        # The entity that received the goods (a gift recorded before they had one: the lead).
        entity = gift.entity or network.lead_entity
        receipt = Receipt(
            network=network,
            entity=entity,
            year=year,
            kind=Receipt.Kind.IN_KIND,
            issued_by=issued_by,
            donor=donor,
            amount_cents=gift.value_cents,
            in_kind_gift=gift,
            goods_snapshot=gift.snapshot(),
            donor_snapshot=donor_snapshot(donor),
            entity_snapshot=entity_snapshot(entity),
            language="en" if donor.language == "en" else "it",
            replaces=_replaces,
        )
        receipt.sequence = _next_sequence(entity, year)
        receipt.number = format_number(entity, year, receipt.sequence)
        receipt.save(force_insert=True)
        history.log_receipt(
            receipt,
            history.ISSUE,
            issued_by,
            kind=receipt.kind,
            amount_cents=receipt.amount_cents,
            in_kind_gift=gift.pk,
            replaces=getattr(_replaces, "number", None),
        )
        if enqueue_render:
            render_later(receipt)
        return receipt


def render_later(receipt: Receipt) -> None:
    """Queue the rendering of the receipt's PDF with the transaction that issued it."""
    tasks.enqueue_with_work(tasks.render_receipt_pdf, receipt.pk)


def void_receipt(receipt: Receipt, *, reason: str, user: "User | None" = None) -> Receipt:
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


def reissue_receipt(receipt: Receipt, *, reason: str, user: "User | None" = None) -> Receipt:
    """Void `receipt` and issue a new one for the same gifts with the donor's CURRENT details
    (a corrected name or codice fiscale), linked to the old one through `replaces`."""
    with transaction.atomic():
        voided = void_receipt(receipt, reason=reason, user=user)
        if voided.in_kind_gift is not None:
            new = issue_in_kind_receipt(voided.in_kind_gift, issued_by=user, _replaces=voided)
            history.log_receipt(
                voided, history.REISSUE, user, reason=reason, replaced_by=new.number
            )
            return new
        gifts = [
            g
            for g in voided.donations.all()
            if g.status in Donation.COUNTED_STATUSES and _receipted_amount(g) > 0
        ]
        new = issue_receipt(gifts, kind=voided.kind, issued_by=user, _replaces=voided)
        history.log_receipt(voided, history.REISSUE, user, reason=reason, replaced_by=new.number)
        return new


def follow_refund(donation: Donation, reason: str, *, user: "User | None" = None) -> None:
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


def should_issue_automatically(donation: Donation) -> bool:
    return bool(
        donation.donor_id
        and (donation.wants_receipt or donation.network.always_issue_receipts)
        and donation.status in Donation.COUNTED_STATUSES
        and not donation.receipts.filter(status=Receipt.Status.ISSUED).exists()
    )


def receipt_gift_if_due(
    donation: Donation, *, email: bool = True, render: bool = True
) -> Receipt | None:
    """A gift just succeeded (online or offline): issue its receipt if the donor asked for one
    or the network always issues them, and queue the thank-you email with it (unless `email`
    is false: `crm.thanks.acknowledge_gift` attaches it to the gift's confirmation). The email
    renders the PDF before it is sent (`crm.mail`), one task rather than two; without one, its
    own task renders it (unless `render` is false: the caller's email will carry it). Returns
    the receipt, or None."""
    asked = donation.wants_receipt or donation.network.always_issue_receipts
    if not (donation.donor_id and asked and donation.status in Donation.COUNTED_STATUSES):
        return None
    try:
        # A savepoint: a receipt problem must not undo the gift being recorded; the gift stays
        # uncovered and the yearly statement (or the admin) receipts it later. Whether a
        # receipt already covers the gift is decided under the gift's lock (`_issue`).
        with transaction.atomic():
            receipt = _issue(
                [donation],
                kind="single",
                # the treasurer who recorded an offline gift issued its receipt; online: nobody
                issued_by=donation.recorded_by,
                enqueue_render=False,
                confirmed_missing=(),
                replaces=None,
            )
            emailed = email and receipt.donor.email and outbox.queue_receipt_email(receipt)
            if render and not emailed:
                render_later(receipt)
    except Exception as exc:
        if getattr(exc, "code", None) != COVERED:
            logger.exception("could not issue a receipt for donation %s", donation.pk)
        return None
    return receipt


def email_receipt(receipt: Receipt, *, user: "User | None" = None) -> bool:
    """Queue the receipt's email if the donor has an address. True if queued."""
    if not (receipt.donor_snapshot.get("email") or receipt.donor.email):
        return False
    outbox.queue_receipt_email(receipt, user=user)
    return True
