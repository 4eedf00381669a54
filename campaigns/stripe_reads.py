"""What a Stripe event needs from Stripe itself, asked outside any transaction: before it
(`prepare`: a refund's charge, which invoice a monthly charge paid) and after the commit
(`follow_up`: a paid payout's balance transactions; a payment's fee is read by a task queued
with the record, `campaigns.tasks.read_payment_fee`, so that the webhook's answer never waits
on Stripe for it). The handlers
(`campaigns.stripe_handlers`) never call Stripe; they get what was read as `fetched`. The
webhook (`campaigns.webhooks`) and `stripe_reconcile` (`campaigns.reconcile`) both run an event
as prepare, then the handler in a transaction (`apply`), then follow_up."""

import logging

from django.db.models import Q
from wagtail import hooks

from crm.models import Donation, Network

from . import stripe_api
from .payouts import apply as money
from .stripe_handlers import HANDLERS, payout_changed
from .stripe_matching import Unreachable

log = logging.getLogger(__name__)


def _id(value):
    return value.get("id") if isinstance(value, dict) else value


def _fetch_charge_invoice(charge_id, payment_intent_id, account):
    """Before the transaction: a monthly charge has only its invoice on record, and since API
    2025-03-31 charges no longer name their invoice, so ask Stripe which one it paid (only when
    no gift holds the charge or its payment, on accounts with monthly plans)."""
    known = Q(stripe_charge_id=charge_id) if charge_id else Q(pk__in=[])
    if payment_intent_id:
        known |= Q(stripe_payment_intent_id=payment_intent_id)
    if not payment_intent_id or Donation.objects.filter(known).exists():
        return {}
    if not Network.objects.with_account(account).filter(recurring_plans__isnull=False).exists():
        return {}
    try:
        return {"invoice_id": stripe_api.invoice_for_payment_intent(account, payment_intent_id)}
    except stripe_api.StripeError as exc:
        raise Unreachable(f"Stripe unreachable: {exc}") from exc


def payout_lines(payout, account):
    """After the commit: a paid payout's balance transactions, page by page, each batch in a
    short transaction of its own (`campaigns.payouts.apply.fetch_lines`)."""
    try:
        return money.fetch_lines_if_due(payout["id"])
    except stripe_api.StripeError as exc:
        raise Unreachable(f"Stripe unreachable: {exc}") from exc


# --- What each event asks Stripe, before the transaction ---------------------------------------


def _known(account):
    """`account` if some network's gifts are paid on it ('' the platform: if a network has no
    account of its own), else None: Stripe is asked only about accounts of ours."""
    return (account or "") if Network.objects.with_account(account).exists() else None


def _fetch_charge(charge, account):
    return _fetch_charge_invoice(charge["id"], _id(charge.get("payment_intent")), account)


def _fetch_dispute(dispute, account):
    return _fetch_charge_invoice(
        _id(dispute.get("charge")), _id(dispute.get("payment_intent")), account
    )


def _fetch_refund(refund, account):
    fetched = _fetch_charge_invoice(
        _id(refund.get("charge")), _id(refund.get("payment_intent")), account
    )
    if refund.get("status") in ("failed", "canceled") or not _id(refund.get("charge")):
        return fetched
    charge_id, intent_id = _id(refund.get("charge")), _id(refund.get("payment_intent"))
    # A gift paid on an account its entity has left since is still refunded there.
    held = Q(stripe_charge_id=charge_id) | (
        Q(stripe_payment_intent_id=intent_id) if intent_id else Q(pk__in=[])
    )
    if _known(account) is None and not Donation.objects.paid_on(account).filter(held).exists():
        return fetched
    try:  # on the event's account: the charge is there (the handler checks it is the gift's)
        charge = stripe_api.retrieve_charge(account or "", charge_id)
    except stripe_api.StripeError as exc:
        raise Unreachable(f"Stripe unreachable: {exc}") from exc
    return {**fetched, "charge": charge}


def _fetch_session_method(session, account):
    """Before the transaction: the method a paid one-off session was paid with, when it offered
    PayPal or Satispay (a session does not say which method the donor chose; its charge's
    `payment_method_details.type` does). Card and SEPA sessions ask nothing."""
    intent = _id(session.get("payment_intent"))
    if not _offers_wallet(session) or session.get("payment_status") != "paid":
        return None
    if session.get("mode") != "payment" or not intent:
        return None
    known = _known(account)
    if known is None:
        return None
    try:  # the session is of the event's account, and so is its payment
        charge = stripe_api.payment_charge(known, intent)
    except stripe_api.StripeError as exc:
        raise Unreachable(f"Stripe unreachable: {exc}") from exc
    method = ((charge or {}).get("payment_method_details") or {}).get("type")
    return {"method": method} if method else None


FETCH = {
    "checkout.session.completed": _fetch_session_method,
    "charge.refunded": _fetch_charge,
    "refund.created": _fetch_refund,
    "refund.updated": _fetch_refund,
    "charge.dispute.created": _fetch_dispute,
    "charge.dispute.updated": _fetch_dispute,
    "charge.dispute.closed": _fetch_dispute,
}

AFTER = {kind: payout_lines for kind, handler in HANDLERS.items() if handler is payout_changed}


def _offers_wallet(session):
    return bool(set(session.get("payment_method_types") or ()) & set(stripe_api.WALLETS))


def asks_stripe(kind, obj):
    """True if `prepare` may ask Stripe something for an event of type `kind` about `obj` (a
    completed session only when it offered PayPal or Satispay: card gifts ask nothing)."""
    if kind == "checkout.session.completed":
        return _offers_wallet(obj)
    return kind in FETCH


def prepare(kind, obj, account):
    """Before the transaction: what the event of type `kind` needs from Stripe (None if
    nothing); raises Unreachable when Stripe does not answer a question the event needs."""
    fetch = FETCH.get(kind)
    return fetch(obj, account) if fetch else None


# A payment another app owns (an event's ticket order, `events.stripe_owner`) is handled by
# it: fn(kind, obj, account, fetched) -> None if the object is not its own, else True/False
# (changed or not), raising NotOurs / NotYet like the handlers. Asked before the handler.
PAYMENT_OWNERS = "campaigns_stripe_payment_owner"


def apply(kind, handler, obj, account, fetched):
    """Inside the transaction: the handler, given what `prepare` fetched, unless an owner
    registered under PAYMENT_OWNERS claims the object."""
    for owner in hooks.get_hooks(PAYMENT_OWNERS):
        outcome = owner(kind, obj, account, fetched)
        if outcome is not None:
            return outcome
    if fetched is None:
        return handler(obj, account)
    return handler(obj, account, fetched=fetched)


def follow_up(kind, obj, account):
    """After the commit: the Stripe work that follows the record. True if it changed something."""
    after = AFTER.get(kind)
    return bool(after(obj, account)) if after else False
