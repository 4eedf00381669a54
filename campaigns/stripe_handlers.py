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
only when none of its recorded ids contradicts the event's (`_agrees`); otherwise the event is
not ours and nothing changes. Amounts and currencies are checked by the crm verbs
(`crm.gifts.record_payment`): a mismatch holds the gift for review, and the event is applied
(acknowledged) as such.
"""

import datetime
import logging

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from crm import gifts, plans
from crm.models import Donation
from crm.money import fiscal_date

from . import plan_changes
from . import tasks as fees_later
from .payouts import apply as money

log = logging.getLogger(__name__)


class NotOurs(Exception):
    """The event concerns an object we do not know, or one of another account: acknowledged
    and kept, nothing applied."""


class NotYet(Exception):
    """The event refers to something that has not arrived yet (the checkout that makes its plan,
    the payment it refunds): kept as waiting and acknowledged, then applied when that arrives
    (`campaigns.webhooks.apply_waiting`) or by the worker's sweep."""


class Unreachable(Exception):
    """Stripe did not answer a question the event needs: answered with an error, so that
    Stripe delivers it again later."""


def _id(value):
    return value.get("id") if isinstance(value, dict) else value


def _date(timestamp):
    if not timestamp:
        return None
    # The day in Italy: a gift paid at 23:30 on 31 December in Rome is of that year.
    return fiscal_date(datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.UTC))


def _guard(donation, account):
    """A connected account's events may only touch its network's gifts, and platform events
    only those of networks without their own account."""
    if donation is None:
        raise NotOurs("no matching donation")
    if (donation.network.stripe_account_id or "") != (account or ""):
        raise NotOurs(f"donation {donation.pk} belongs to another Stripe account")
    return donation


def _metadata_donation_id(obj):
    value = (obj.get("metadata") or {}).get("donation_id") or obj.get("client_reference_id")
    return int(value) if value and str(value).isdigit() else None


def _agrees(donation, *, session_id=None, payment_intent_id=None, subscription_id=None):
    """A donation named only by metadata may take an event's Stripe ids if it is an online gift
    still waiting for its money (pending, or failed: a later success wins) and each of its
    recorded ids is either unset or the event's own (ids the event does not carry are not
    compared: a failed card attempt names only its payment)."""
    recorded = (
        (donation.stripe_checkout_session_id, session_id),
        (donation.stripe_payment_intent_id, payment_intent_id),
        (donation.stripe_subscription_id, subscription_id),
    )
    return (
        donation.status in (Donation.Status.PENDING, Donation.Status.FAILED)
        and donation.channel == Donation.Channel.ONLINE
        and all(not ours or not theirs or ours == theirs for ours, theirs in recorded)
    )


def _session_donation(session, account):
    """The donation a Checkout Session was created for: the one holding its id. A donation
    named by the session's metadata only if no recorded id of its contradicts the session
    (no session recorded yet, or the same ones): another session never takes over a gift."""
    donation = gifts.lock_donation(stripe_checkout_session_id=session["id"])
    claimed = _metadata_donation_id(session)
    if donation is None and claimed:
        donation = gifts.lock_donation(pk=claimed)
        ids = {
            "session_id": session["id"],
            "payment_intent_id": _id(session.get("payment_intent")),
            "subscription_id": _id(session.get("subscription")),
        }
        if donation is not None and not _agrees(donation, **ids):
            raise NotOurs(f"session {session['id']} names donation {claimed}, bound elsewhere")
    return _guard(donation, account)


def _payment_donation(payment_intent_id, account, metadata=None):
    donation = None
    if payment_intent_id:
        donation = gifts.lock_donation(stripe_payment_intent_id=payment_intent_id)
    claimed = _metadata_donation_id({"metadata": metadata or {}})
    if donation is None and claimed:
        donation = gifts.lock_donation(pk=claimed)
        if donation is not None and not _agrees(donation, payment_intent_id=payment_intent_id):
            raise NotOurs(f"payment {payment_intent_id} names donation {claimed}, bound elsewhere")
    return donation


# --- Checkout ----------------------------------------------------------------------------------
# https://docs.stripe.com/checkout/fulfillment : fulfil on `checkout.session.completed` when
# `payment_status` is `paid`; delayed methods (SEPA) finish with `async_payment_succeeded`.


def checkout_completed(session, account):
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
        changed |= gifts.record_payment(
            donation,
            amount_cents=session.get("amount_total"),
            currency=session.get("currency"),
            stripe_checkout_session_id=session["id"],
            stripe_payment_intent_id=_id(session.get("payment_intent")),
        )
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


# --- Subscriptions -----------------------------------------------------------------------------
# Since API 2025-03-31 an invoice names its subscription in `parent.subscription_details`,
# with a snapshot of the subscription's metadata (where our donation id is).


def _invoice_subscription(invoice):
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _id(details.get("subscription")), details.get("metadata") or {}


def invoice_paid(invoice, account):
    sub_id, metadata = _invoice_subscription(invoice)
    if not sub_id:
        raise NotOurs("invoice without a subscription")
    origin = None
    origin_id = _metadata_donation_id({"metadata": metadata})
    if origin_id:
        # Lock order everywhere: donation, then plan (see checkout_completed).
        origin = _guard(gifts.lock_donation(pk=origin_id), account)
        _check_origin(origin, sub_id)
    plan = plans.plan_for_subscription(
        sub_id,
        origin=origin,
        customer_id=_id(invoice.get("customer")),
        livemode=invoice.get("livemode"),
        account=account or "",
    )
    if plan is None:
        raise NotOurs(f"unknown subscription {sub_id}")
    if origin is None and (plan.network.stripe_account_id or "") != (account or ""):
        raise NotOurs(f"plan {plan.pk} belongs to another Stripe account")
    first = invoice.get("billing_reason") == "subscription_create"
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at") or invoice.get("created")
    changed = plans.record_plan_charge(
        plan,
        invoice_id=invoice["id"],
        amount_cents=invoice.get("amount_paid"),
        currency=invoice.get("currency"),
        origin=origin if first else None,
        received_on=_date(paid_at),
    )
    # The paid line's service period ends when Stripe charges next.
    lines = (invoice.get("lines") or {}).get("data") or []
    period_end = (lines[0].get("period") or {}).get("end") if lines else None
    plans.record_next_charge(plan, plan_changes.when(period_end))
    gift = Donation.objects.filter(stripe_invoice_id=invoice["id"]).first()
    if gift is not None:
        fees_later.read_fee_later(gift)  # after the commit: no lock waits on Stripe
    return changed


def _check_origin(origin, sub_id):
    """The subscription's metadata names the donation that started it; it is that donation's
    only once its checkout completed and bound the subscription id to it. Before (Stripe often
    sends `invoice.paid` first), the event waits; bound to another, it is not ours."""
    if origin.stripe_subscription_id == sub_id:
        if origin.status == Donation.Status.NEEDS_REVIEW:
            raise NotOurs(f"donation {origin.pk} is held for review")
        return
    if not origin.stripe_subscription_id and origin.status == Donation.Status.PENDING:
        raise NotYet(f"the checkout of donation {origin.pk} has not completed yet")
    raise NotOurs(f"subscription {sub_id} names donation {origin.pk}, bound elsewhere")


def invoice_payment_failed(invoice, account):
    sub_id, _metadata = _invoice_subscription(invoice)
    plan = plans.plan_for_subscription(sub_id) if sub_id else None
    if plan is None or (plan.network.stripe_account_id or "") != (account or ""):
        raise NotOurs(f"unknown subscription {sub_id}")
    # Smart Retries send this event again for each failed retry of the same invoice
    # (https://docs.stripe.com/billing/revenue-recovery/smart-retries): the donor hears once,
    # at the first failed attempt (`attempt_count`, https://docs.stripe.com/api/invoices/object).
    first_attempt = int(invoice.get("attempt_count") or 1) <= 1
    return plans.record_plan_failure(plan, first_attempt=first_attempt)


def _subscription_plan(subscription, account):
    plan = plans.plan_for_subscription(subscription["id"])
    if plan is None:
        _early_subscription(subscription, account)
    if (plan.network.stripe_account_id or "") != (account or ""):
        raise NotOurs(f"unknown subscription {subscription['id']}")
    return plan


def _early_subscription(subscription, account):
    """No plan yet: if the subscription names a gift of this account still waiting for its
    checkout, the event waits (Stripe redelivers it, and `campaigns.webhooks` applies it
    again once the checkout created the plan); otherwise it is not ours."""
    claimed = _metadata_donation_id(subscription)
    origin = Donation.objects.select_related("network").filter(pk=claimed).first()
    if (
        origin is not None
        and (origin.network.stripe_account_id or "") == (account or "")
        and not origin.stripe_subscription_id
        and origin.status == Donation.Status.PENDING
    ):
        raise NotYet(f"subscription {subscription['id']} waits for its checkout")
    raise NotOurs(f"unknown subscription {subscription['id']}")


def subscription_updated(subscription, account):
    plan = _subscription_plan(subscription, account)
    changed = plans.update_plan(plan, **plan_changes.state_of(subscription))
    # The donor gave a new card on Stripe's page (the portal sets it on the subscription).
    payment_method = _id(subscription.get("default_payment_method"))
    return plans.record_payment_method(plan, payment_method) or changed


def subscription_deleted(subscription, account):
    return plans.cancel_plan(_subscription_plan(subscription, account))


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
