"""Apply what webhooks missed: list recent Checkout Sessions, paid invoices, refunds,
disputes, payouts and payments' balance transactions, and every subscription, from Stripe
and run them through the same handlers as the webhook (they are idempotent, so what
was already applied changes nothing). The handlers' checks hold here too: a session or a
subscription bound to another gift is skipped, a payment whose amount or currency is not the
gift's is held for review (and the report says so). Used by `manage.py stripe_reconcile`."""

import logging

from django.db import transaction

from crm import gifts as gift_verbs
from crm.models import Donation, IssuingEntity, Network

from . import stripe_lists, stripe_reads
from .payouts import apply as money
from .stripe_handlers import (
    charge_refunded,
    checkout_completed,
    dispute_closed,
    dispute_created,
    payout_changed,
)
from .stripe_matching import NotOurs, NotYet, Unreachable
from .stripe_plan_handlers import invoice_paid, subscription_deleted, subscription_updated

log = logging.getLogger(__name__)


def _accounts():
    """Every Stripe account gifts are paid on: the platform ('', if a network has no account of
    its own), each network's connected account and each partner entity's own."""
    accounts = {
        account or "" for account in Network.objects.values_list("stripe_account_id", flat=True)
    }
    own = IssuingEntity.objects.filter(is_lead=False).exclude(stripe_account_id="")
    accounts |= set(own.values_list("stripe_account_id", flat=True))
    return sorted(accounts)


HELD = "held for review: the amount or currency paid is not the gift's"


def _apply(kind, handler, obj, account, label, report, gifts=None):
    """Run one handler as the webhook runs the event of type `kind` (Stripe asked before the
    transaction, the follow-up after it); `gifts` are the donations the object is bound to, to
    tell a payment held for review from one applied."""
    try:
        fetched = stripe_reads.prepare(kind, obj, account)
        with transaction.atomic():
            changed = stripe_reads.apply(kind, handler, obj, account, fetched)
        changed |= stripe_reads.follow_up(kind, obj, account)
    except (NotOurs, NotYet, Unreachable) as exc:
        report.append(("skipped", label, str(exc)))
        return
    if changed:
        held = gifts is not None and gifts.filter(status=Donation.Status.NEEDS_REVIEW).exists()
        report.append(("changed", label, HELD if held else ""))


def reconcile_since(created_gte):
    """Returns a list of (what, object, note): `changed` for each fix applied, `skipped` for
    objects that are not ours or cannot be placed."""
    report = []
    for account in _accounts():
        for session in stripe_lists.list_checkout_sessions(account, created_gte):
            if session.get("status") == "complete":
                label = f"checkout session {session['id']}"
                bound = Donation.objects.filter(stripe_checkout_session_id=session["id"])
                kind = "checkout.session.completed"
                _apply(kind, checkout_completed, session, account, label, report, bound)
        for invoice in stripe_lists.list_paid_invoices(account, created_gte):
            if (invoice.get("parent") or {}).get("subscription_details"):
                label = f"invoice {invoice['id']}"
                bound = Donation.objects.filter(stripe_invoice_id=invoice["id"])
                _apply("invoice.paid", invoice_paid, invoice, account, label, report, bound)
        for charge in stripe_lists.list_refunded_charges(account, created_gte):
            label = f"refunds of charge {charge['id']}"
            _apply("charge.refunded", charge_refunded, charge, account, label, report)
        _money_since(account, created_gte, report)
    return report


OPEN_DISPUTE = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")


def _dispute(dispute, account, fetched=None):
    """An open dispute flags the gift; a closed one (won or lost) settles it."""
    if dispute.get("status") in OPEN_DISPUTE:
        return dispute_created(dispute, account, fetched)
    return dispute_closed(dispute, account, fetched)


def _subscription(subscription, account):
    if subscription.get("status") in ("canceled", "incomplete_expired"):
        return subscription_deleted(subscription, account)
    return subscription_updated(subscription, account)


def _charge_fee(txn, account):
    """A payment's balance transaction: the fee of a gift that lacks it."""
    charge = txn.get("source")
    if not isinstance(charge, dict) or charge.get("object") != "charge":
        raise NotOurs("not a charge")
    donation = gift_verbs.lock_donation(stripe_charge_id=charge["id"])
    intent = charge.get("payment_intent")
    if donation is None and isinstance(intent, str):
        donation = gift_verbs.lock_donation(stripe_payment_intent_id=intent)
    if donation is None or donation.stripe_account != (account or ""):
        raise NotOurs(f"no gift of ours for charge {charge['id']}")
    if donation.stripe_balance_transaction_id:
        return False
    return money.record_charge_balance(donation, {**charge, "balance_transaction": txn})


def _money_since(account, created_gte, report):
    """Disputes, subscriptions (status and cancellation), payouts and payments' fees."""
    for dispute in stripe_lists.list_disputes(account, created_gte):
        label = f"dispute {dispute['id']}"
        _apply("charge.dispute.updated", _dispute, dispute, account, label, report)
    for subscription in stripe_lists.list_subscriptions(account):
        label = f"subscription {subscription['id']}"
        _apply("customer.subscription.updated", _subscription, subscription, account, label, report)
    for payout in stripe_lists.list_payouts(account, created_gte):
        _apply("payout.updated", payout_changed, payout, account, f"payout {payout['id']}", report)
    for txn in stripe_lists.list_charge_transactions(account, created_gte):
        _apply("balance_transaction", _charge_fee, txn, account, f"fee of {txn['id']}", report)
