"""Write what Stripe says about money movements: a payment's fee and net (its balance
transaction), a payout and the balance transactions it paid out.

Callers are the webhook handlers (`campaigns.stripe_handlers`) and `stripe_reconcile`; all
writes are idempotent. Stripe objects are plain dicts in the shapes of API 2026-10-28
(https://docs.stripe.com/api/balance_transactions/object, /api/payouts/object)."""

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.models import Donation, IssuingEntity
from crm.money import fiscal_date

from .. import stripe_api
from .models import Payout, PayoutLine

log = logging.getLogger(__name__)
BATCH = 500


def _id(value):
    return value.get("id") if isinstance(value, dict) else value


def _day(timestamp):
    if not timestamp:
        return None
    # The day in Italy (a payout's arrival date decides its year in the payouts report).
    return fiscal_date(datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.UTC))


def _moment(timestamp):
    if not timestamp:
        return None
    return datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.UTC)


# --- A payment's fee -------------------------------------------------------------------------


def record_charge_balance(donation, charge):
    """Record the charge id and, where the charge carries its balance transaction expanded,
    the fee, the date the money becomes available and the transaction id. Returns True if
    something changed."""
    if not isinstance(charge, dict):
        return False
    values = {"stripe_charge_id": charge.get("id") or ""}
    txn = charge.get("balance_transaction")
    if isinstance(txn, dict):
        values.update(
            stripe_balance_transaction_id=txn.get("id") or "",
            fee_cents=int(txn.get("fee") or 0),
            available_on=_day(txn.get("available_on")),
        )
    fields = [f for f, v in values.items() if v not in ("", None) and getattr(donation, f) != v]
    for field in fields:
        setattr(donation, field, values[field])
    if fields:
        donation.save(update_fields=[*fields, "updated_at"])
    return bool(fields)


def ask_payment_charge(gift, *, payment_intent_id=None, invoice_id=None):
    """Ask Stripe once for a payment's charge with its balance transaction expanded, on the
    account `gift` was paid on (outside any transaction: the webhook asks before applying).
    None if it has no charge yet; raises StripeError when Stripe does not answer."""
    if payment_intent_id:
        return stripe_api.payment_charge(gift, payment_intent_id)
    if invoice_id:
        return stripe_api.invoice_charge(gift, invoice_id)
    return None


def fee_wanted(donation):
    """A gift whose money arrived, whose fee is not known yet, and that Stripe can be asked
    about (its payment or its invoice is on record)."""
    return bool(
        not donation.stripe_balance_transaction_id
        and donation.status in Donation.COUNTED_STATUSES
        and (donation.stripe_payment_intent_id or donation.stripe_invoice_id)
    )


def record_payment_fee(donation, charge):
    """Record the fee `ask_payment_charge` read, on a gift whose money arrived and whose fee is
    not known yet. No charge (Stripe did not answer): nothing now; `stripe_reconcile` and the
    payout's lines fill it in later. True if something changed."""
    if charge is None or donation.stripe_balance_transaction_id:
        return False
    if donation.status not in Donation.COUNTED_STATUSES:
        return False
    return record_charge_balance(donation, charge)


# --- Payouts -----------------------------------------------------------------------------------


def kind_of(txn):
    """Our line kind for a balance transaction (https://docs.stripe.com/reports/reporting-categories)."""
    kind, category = txn.get("type") or "", txn.get("reporting_category") or ""
    source = _id(txn.get("source")) or ""
    if kind in ("charge", "payment"):
        return PayoutLine.Kind.GIFT
    if kind in ("refund", "payment_refund") or category in ("refund", "refund_failure"):
        return PayoutLine.Kind.REFUND
    if category.startswith("dispute") or source.startswith("du_"):
        return PayoutLine.Kind.DISPUTE
    if kind == "payout" or category == "payout":
        return PayoutLine.Kind.PAYOUT
    if kind in ("stripe_fee", "application_fee", "tax_fee") or category == "fee":
        return PayoutLine.Kind.FEE
    return PayoutLine.Kind.ADJUSTMENT


def _charge_of(txn):
    """The charge a balance transaction concerns: its source, or its source's charge."""
    source = txn.get("source")
    if isinstance(source, dict):
        if source.get("object") == "charge":
            return source.get("id") or "", source.get("payment_intent")
        return _id(source.get("charge")) or "", _id(source.get("payment_intent"))
    if isinstance(source, str) and source.startswith(("ch_", "py_")):
        return source, None
    return "", None


def _entity_for(account):
    """The entity whose connected account this is (a partner's own, or its network's lead
    entity's); for the platform (''), None (decided by gifts)."""
    return IssuingEntity.objects.with_account(account).select_related("network").first()


def _donations(account, charge_ids, intent_ids):
    """Our donations of these charges (or payment intents), paid on this account."""
    found = (
        Donation.objects.paid_on(account)
        .filter(Q(stripe_charge_id__in=charge_ids) | Q(stripe_payment_intent_id__in=intent_ids))
        .values_list("pk", "network_id", "stripe_charge_id", "stripe_payment_intent_id")
    )
    by_charge, by_intent = {}, {}
    for pk, network_id, charge_id, intent_id in found:
        if charge_id:
            by_charge[charge_id] = (pk, network_id)
        if intent_id:
            by_intent[intent_id] = (pk, network_id)
    return by_charge, by_intent


def upsert_payout(obj, account):
    """Create or update our record of a Stripe payout (not its lines). Returns (payout, changed)."""
    trace = obj.get("trace_id") or {}
    values = {
        "account": account or "",
        "amount_cents": int(obj.get("amount") or 0),
        "currency": str(obj.get("currency") or "eur").upper(),
        "arrival_date": _day(obj.get("arrival_date")),
        "status": obj.get("status") or Payout.Status.PENDING,
        "statement_descriptor": (obj.get("statement_descriptor") or obj.get("description") or "")[
            :255
        ],
        "trace_id": ((trace.get("value") if isinstance(trace, dict) else trace) or "")[:255],
        "failure_code": (obj.get("failure_code") or "")[:64],
        "failure_message": (obj.get("failure_message") or "")[:500],
        "reconciliation_status": obj.get("reconciliation_status") or "",
    }
    payout = Payout.objects.select_for_update().filter(stripe_payout_id=obj["id"]).first()
    if payout is None:
        entity = _entity_for(account)
        payout = Payout.objects.create(
            stripe_payout_id=obj["id"],
            entity=entity,
            network=entity.network if entity else None,
            **values,
        )
        return payout, True
    fields = [f for f, v in values.items() if getattr(payout, f) != v]
    for field in fields:
        setattr(payout, field, values[field])
    if fields:
        payout.save(update_fields=[*fields, "updated_at"])
    return payout, bool(fields)


def apply_payout(obj, account):
    """A payout's event (`payout.paid`, `payout.failed`, `payout.reconciliation_completed`,
    ...) or a payout found by reconcile: record it (in the caller's transaction). Its balance
    transactions are read from Stripe after the commit (`fetch_lines_if_due`). A failed
    payout's transactions go back to the balance: its lines are dropped. Returns True if
    something changed."""
    payout, changed = upsert_payout(obj, account)
    if payout.status == Payout.Status.FAILED and (payout.lines_fetched_at or payout.lines.exists()):
        _drop_lines(payout)
        return True
    return changed


def _drop_lines(payout):
    Donation.objects.filter(stripe_payout_id=payout.stripe_payout_id).update(stripe_payout_id="")
    payout.lines.all().delete()
    payout.lines_fetched_at = None
    payout.save(update_fields=["lines_fetched_at", "updated_at"])


def fetch_lines_if_due(stripe_payout_id):
    """After the payout's record committed: if it is paid and its lines were not read yet,
    read them (`fetch_lines`). True if it did. Raises StripeError when Stripe does not answer
    (the lines are read on the next event of the payout, its redelivery or reconcile)."""
    payout = Payout.objects.select_related("network").filter(stripe_payout_id=stripe_payout_id)
    payout = payout.first()
    if payout is None or payout.status != Payout.Status.PAID or payout.lines_fetched_at:
        return False
    fetch_lines(payout)
    return True


def fetch_lines(payout):
    """Store the payout's balance transactions as lines linked to our gifts, batch by batch
    (memory stays flat for tens of thousands), and fill in what the gifts lack (fee,
    available date) and the payout id on them. Stripe is read outside any transaction; each
    batch is written in a short one of its own (lines are unique by balance transaction, so a
    second reader, or a run cut short and started again, writes each line once)."""
    record_lines(payout, stripe_api.payout_transactions(payout.account, payout.stripe_payout_id))


def record_lines(payout, transactions):
    """Store `transactions` (Stripe's balance transactions of the payout, an iterable read as
    it goes) as the payout's lines, batch by batch, then mark the lines read; the payout takes
    the network of its gifts when they are all of one (a platform payout: the platform is the
    account of networks without one, so the payout is their lead entity's)."""
    networks = set()
    batch = []
    for txn in transactions:
        batch.append(txn)
        if len(batch) >= BATCH:
            networks |= _store_batch(payout, batch)
            batch = []
    networks |= _store_batch(payout, batch)
    with transaction.atomic():
        # A failed payout meanwhile (its event applied while we read) keeps no lines.
        current = Payout.objects.select_for_update().get(pk=payout.pk)
        if current.status != Payout.Status.PAID:
            _drop_lines(current)
            return
        fields = ["lines_fetched_at", "updated_at"]
        current.lines_fetched_at = timezone.now()
        if current.network_id is None and len(networks) == 1:
            current.network_id = networks.pop()
            fields.append("network")
            if current.entity_id is None:
                lead = IssuingEntity.objects.filter(network_id=current.network_id, is_lead=True)
                current.entity_id = lead.values_list("pk", flat=True).first()
                fields.append("entity")
        current.save(update_fields=fields)


def _store_batch(payout, transactions):
    with transaction.atomic():
        return _store(payout, transactions)


def _store(payout, transactions):
    if not transactions:
        return set()
    refs = [_charge_of(t) for t in transactions]
    by_charge, by_intent = _donations(
        payout.account, [c for c, _i in refs if c], [_id(i) for _c, i in refs if i]
    )
    lines, gifts, networks = [], [], set()
    for txn, (charge_id, intent) in zip(transactions, refs, strict=True):
        kind = kind_of(txn)
        found = by_charge.get(charge_id) or by_intent.get(_id(intent))
        if found:
            networks.add(found[1])
        amount, fee = int(txn.get("amount") or 0), int(txn.get("fee") or 0)
        lines.append(
            PayoutLine(
                payout=payout,
                balance_transaction_id=txn["id"],
                kind=kind,
                type=(txn.get("type") or "")[:50],
                amount_cents=amount,
                fee_cents=fee,
                net_cents=int(txn["net"]) if txn.get("net") is not None else amount - fee,
                currency=str(txn.get("currency") or "eur").upper(),
                created=_moment(txn.get("created")),
                available_on=_day(txn.get("available_on")),
                source_id=(_id(txn.get("source")) or "")[:255],
                charge_id=charge_id[:255],
                description=(txn.get("description") or "")[:500],
                donation_id=found[0] if found else None,
            )
        )
        if found and kind == PayoutLine.Kind.GIFT:
            gifts.append((found[0], txn, charge_id))
    PayoutLine.objects.bulk_create(lines, ignore_conflicts=True)
    pks = [pk for pk, _txn, _charge in gifts]
    Donation.objects.filter(pk__in=pks).update(stripe_payout_id=payout.stripe_payout_id)
    lacking = Donation.objects.filter(pk__in=pks, stripe_balance_transaction_id="")
    lacking = set(lacking.values_list("pk", flat=True))
    for pk, txn, charge_id in gifts:
        if pk in lacking:  # a fee the payment's own event could not fetch
            Donation.objects.filter(pk=pk).update(
                stripe_balance_transaction_id=txn["id"],
                fee_cents=int(txn.get("fee") or 0),
                available_on=_day(txn.get("available_on")),
                stripe_charge_id=charge_id,
            )
    return networks
