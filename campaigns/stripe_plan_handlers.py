"""What Stripe's subscription and invoice events mean for recurring plans: handlers of the
dispatch table `campaigns.stripe_handlers.HANDLERS` (same contract: see that module)."""

from crm import gifts, plans
from crm.models import Donation

from . import plan_changes
from . import tasks as fees_later
from .stripe_matching import NotOurs, NotYet, _date, _guard, _id, _metadata_donation_id

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
    if origin is None and plan.stripe_account != (account or ""):
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
    if plan is None or plan.stripe_account != (account or ""):
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
    if plan.stripe_account != (account or ""):
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
        and origin.stripe_account == (account or "")
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
