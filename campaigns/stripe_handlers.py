"""What each Stripe event means for our records: a dispatch table of small handlers.

Each handler gets the event's `data.object` (a plain dict, shapes of API version 2026-10-28)
and the connected account the event came from ('' for the platform), runs inside the
transaction `campaigns.webhooks.receive_event` opened, and returns True if it changed something.
Handlers are idempotent and order-tolerant: Stripe retries for days and does not guarantee
order (https://docs.stripe.com/webhooks#event-ordering).

Handlers never call Stripe: no transaction (and no row lock) waits on the network. What an event
needs from Stripe is asked before the transaction (`campaigns.stripe_reads.prepare`: a
refund's charge), and the handler gets the answer as `fetched`; what can follow the record runs
after the commit: a paid payout's balance transactions (`campaigns.stripe_reads.follow_up`), a
payment's fee (`campaigns.tasks.read_payment_fee`, queued with the record).

A Stripe object is bound to the donation it was created for: the Checkout Session id is stored
when the session is created (`campaigns.views.give`), the payment intent and subscription ids
when its completion arrives. `metadata.donation_id` / `client_reference_id` are only hints
(whoever creates a session on the account sets them): a donation found through them is used
only when none of its recorded ids contradicts the event's (`stripe_matching._agrees`);
otherwise the event is not ours and nothing changes. Amounts and currencies are checked by the
crm verbs (`crm.gifts.record_payment`): a mismatch holds the gift for review, and the event is
applied (acknowledged) as such.

The plan and subscription handlers are in `campaigns.stripe_plan_handlers`; the outcomes that
are not a change and how an event finds its donation in `campaigns.stripe_matching`.
"""

import logging

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from crm import gifts, plans
from crm.models import Donation

from . import tasks as fees_later
from .payouts import apply as money
from .stripe_matching import (
    NotYet,
    Unreachable,
    _guard,
    _id,
    _payment_donation,
    _session_donation,
)
from .stripe_plan_handlers import (
    invoice_paid,
    invoice_payment_failed,
    subscription_deleted,
    subscription_updated,
)

log = logging.getLogger(__name__)
GIFT_PAID = "campaigns_gift_paid"


# --- Checkout ----------------------------------------------------------------------------------
# https://docs.stripe.com/checkout/fulfillment : fulfil on `checkout.session.completed` when
# `payment_status` is `paid`; delayed methods (SEPA) finish with `async_payment_succeeded`.


def checkout_completed(session, account, fetched=None):
    donation = _session_donation(session, account)
    changed = _bind_session(donation, session)
    sub_id = _id(session.get("subscription"))
    monthly = session.get("mode") == "subscription" and sub_id
    paid = session.get("payment_status") == "paid"
    matches = gifts.payment_matches(donation, session.get("amount_total"), session.get("currency"))
    if monthly and paid and matches and donation.recurring_plan_id is None:
        # The plan first: this payment is its first charge, acknowledged with the plan's
        # welcome (`crm.outbox.queue_gift_email`), not as a one-off gift.
        donation.recurring_plan = _plan_of_session(session, donation, account)
        changed = True
    if paid:
        _record_wallet(donation, (fetched or {}).get("method"))
        recorded = gifts.record_payment(
            donation,
            amount_cents=session.get("amount_total"),
            currency=session.get("currency"),
            stripe_checkout_session_id=session["id"],
            stripe_payment_intent_id=_id(session.get("payment_intent")),
        )
        changed |= recorded
        if recorded and donation.status == Donation.Status.SUCCEEDED:
            # Another app told of the gift (a supporter's page tells its owner: queued on
            # commit, never sent from here). fn(donation, session) -> None.
            for paid_hook in hooks.get_hooks(GIFT_PAID):
                paid_hook(donation, session)
        fees_later.read_fee_later(donation)  # after the commit: no lock waits on Stripe
    elif _id(session.get("payment_intent")) and not donation.stripe_payment_intent_id:
        donation.stripe_payment_intent_id = _id(session["payment_intent"])
        donation.method = Donation.Method.SEPA_DEBIT
        donation.save(update_fields=["stripe_payment_intent_id", "method", "updated_at"])
        changed = True
    if monthly:
        if donation.status == Donation.Status.NEEDS_REVIEW:
            return changed  # no plan for a payment under review
        changed |= plans.attach_plan(_plan_of_session(session, donation, account), donation)
    return changed


WALLETS = (Donation.Method.PAYPAL, Donation.Method.SATISPAY)


def _record_wallet(donation, method):
    """The method a session offering PayPal or Satispay was paid with, read from its charge
    (`stripe_reads`), recorded before the payment so that its receipt names it; a gift whose
    payment is already recorded keeps its method (a receipt is immutable)."""
    if method not in WALLETS or donation.method == method:
        return
    if donation.status in (*gifts.FINAL_GOOD, Donation.Status.NEEDS_REVIEW):
        return
    donation.method = method
    donation.save(update_fields=["method", "updated_at"])


def _plan_of_session(session, donation, account):
    return plans.plan_for_subscription(
        _id(session["subscription"]),
        origin=donation,
        customer_id=_id(session.get("customer")) or "",
        livemode=session.get("livemode"),
        account=account or "",
    )


def _bind_session(donation, session):
    """Record the session's own ids on its donation (where not recorded yet): from now on
    events of this session, its payment and its subscription find this gift and no other."""
    ids = {
        "stripe_checkout_session_id": session["id"],
        "stripe_subscription_id": _id(session.get("subscription"))
        if session.get("mode") == "subscription"
        else None,
    }
    fields = [f for f, value in ids.items() if value and not getattr(donation, f)]
    for field in fields:
        setattr(donation, field, ids[field])
    if fields:
        donation.save(update_fields=[*fields, "updated_at"])
    return bool(fields)


def checkout_async_succeeded(session, account):
    return checkout_completed({**session, "payment_status": "paid"}, account)


def checkout_async_failed(session, account):
    return gifts.record_payment_failure(_session_donation(session, account))


def checkout_expired(session, account):
    return gifts.record_payment_failure(
        _session_donation(session, account), status=Donation.Status.CANCELLED
    )


def payment_failed(intent, account):
    donation = _payment_donation(intent["id"], account, intent.get("metadata"))
    return gifts.record_payment_failure(_guard(donation, account))


# --- Refunds and disputes ----------------------------------------------------------------------


def _charge_donation(charge_id, payment_intent_id, account, fetched=None):
    donation = gifts.lock_donation(stripe_charge_id=charge_id) if charge_id else None
    if donation is None and payment_intent_id:
        donation = gifts.lock_donation(stripe_payment_intent_id=payment_intent_id)
    invoice_id = (fetched or {}).get("invoice_id")
    if donation is None and invoice_id:
        donation = gifts.lock_donation(stripe_invoice_id=invoice_id)
    if donation is None:
        raise NotYet(f"no donation for charge {charge_id} / {payment_intent_id} yet")
    donation = _guard(donation, account)
    updates = []
    if charge_id and not donation.stripe_charge_id:
        donation.stripe_charge_id = charge_id
        updates.append("stripe_charge_id")
    if payment_intent_id and not donation.stripe_payment_intent_id:
        donation.stripe_payment_intent_id = payment_intent_id
        updates.append("stripe_payment_intent_id")
    if updates:
        donation.save(update_fields=[*updates, "updated_at"])
    return donation


def _refund_reason(refund_metadata):
    """The receipt's void reason: the treasurer's own words for a refund made from Trama, else
    a note that it was made in Stripe (its dashboard, or another tool)."""
    reason = (refund_metadata or {}).get("reason")
    with translation.override(settings.LANGUAGE_CODE):
        return str(reason or _("Refunded in Stripe"))[:255]


def charge_refunded(charge, account, fetched=None):
    donation = _charge_donation(charge["id"], _id(charge.get("payment_intent")), account, fetched)
    return gifts.record_refunded_total(
        donation, int(charge.get("amount_refunded") or 0), reason=_refund_reason({})
    )


def refund_changed(refund, account, fetched=None):
    """`refund.created` / `refund.updated` (https://docs.stripe.com/api/refunds/object): a
    refund names its charge but not the total refunded, so read it from the charge as Stripe
    has it now (`_fetch_refund`, before the transaction); the same total as recorded (this
    refund already landed through `charge.refunded`, or was made from Trama) changes nothing."""
    donation = _charge_donation(
        _id(refund.get("charge")), _id(refund.get("payment_intent")), account, fetched
    )
    if refund.get("status") in ("failed", "canceled"):
        log.warning("refund %s of donation %s %s", refund.get("id"), donation.pk, refund["status"])
        return False
    charge = (fetched or {}).get("charge")
    if charge is None:
        raise Unreachable(f"the charge of refund {refund.get('id')} was not read from Stripe")
    return gifts.record_refunded_total(
        donation,
        int(charge.get("amount_refunded") or 0),
        reason=_refund_reason(refund.get("metadata")),
    )


# https://docs.stripe.com/api/disputes/object#dispute_object-status : an inquiry closed without
# a chargeback (`warning_closed`) or a prevented one leaves the money with us, like a won one.
DISPUTE_KEPT = ("won", "warning_closed", "prevented")


def dispute_created(dispute, account, fetched=None):
    donation = _charge_donation(
        _id(dispute.get("charge")), _id(dispute.get("payment_intent")), account, fetched
    )
    if dispute.get("status") in (*DISPUTE_KEPT, "lost"):
        return dispute_closed(dispute, account, fetched)
    return gifts.record_dispute(donation)


def dispute_closed(dispute, account, fetched=None):
    donation = _charge_donation(
        _id(dispute.get("charge")), _id(dispute.get("payment_intent")), account, fetched
    )
    if dispute.get("status") in DISPUTE_KEPT:
        return gifts.record_dispute_closed(donation, won=True)
    if dispute.get("status") == "lost":
        return gifts.record_dispute_closed(donation, won=False)
    return False


def payout_changed(payout, account):
    """`payout.paid` / `payout.failed` / `payout.reconciliation_completed` (and the others):
    our payout record; once paid, its balance transactions follow the commit (`AFTER`)."""
    return money.apply_payout(payout, account)


HANDLERS = {
    "checkout.session.completed": checkout_completed,
    "checkout.session.async_payment_succeeded": checkout_async_succeeded,
    "checkout.session.async_payment_failed": checkout_async_failed,
    "checkout.session.expired": checkout_expired,
    "payment_intent.payment_failed": payment_failed,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "customer.subscription.updated": subscription_updated,
    "customer.subscription.deleted": subscription_deleted,
    "charge.refunded": charge_refunded,
    "refund.created": refund_changed,
    "refund.updated": refund_changed,
    "charge.dispute.created": dispute_created,
    # `updated` carries the dispute's status now: open (flag), or closed (settle).
    "charge.dispute.updated": dispute_created,
    "charge.dispute.closed": dispute_closed,
    "payout.paid": payout_changed,
    "payout.failed": payout_changed,
    "payout.canceled": payout_changed,
    "payout.updated": payout_changed,
    "payout.reconciliation_completed": payout_changed,
}
