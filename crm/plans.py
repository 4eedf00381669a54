"""Business verbs on recurring plans: a Stripe subscription becomes a plan, each paid invoice
a gift (through `crm.gifts.record_payment`), failures tell the donor, cancellation ends it.

Money at the door: each paid invoice must be the plan's amount in the plan's currency (the
first one: the started gift's); otherwise its gift is held for review (`crm.gifts`).

Locks: callers lock the donation first, then the plan (`plan_for_subscription`), everywhere.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import outbox
from . import plan_history as history
from .gifts import record_payment
from .models import Donation, RecurringPlan

# Our intervals as Stripe prices say them: (recurring.interval, recurring.interval_count).
STRIPE_INTERVALS = {
    RecurringPlan.Interval.MONTH: ("month", 1),
    RecurringPlan.Interval.QUARTER: ("month", 3),
    RecurringPlan.Interval.YEAR: ("year", 1),
}


def interval_from_stripe(interval, count):
    """Our interval for a Stripe price's recurring interval, or None if we have no such one."""
    wanted = (interval, int(count or 1))
    return next((ours for ours, theirs in STRIPE_INTERVALS.items() if theirs == wanted), None)


class PlanError(Exception):
    """A change to a plan could not be made; the message is for the person who asked."""


class PlanGone(PlanError):
    """The plan is already stopped: nothing to change."""


class PlanToCheck(PlanError):
    """Stripe does not know the plan's subscription with the key and account in use: the plan
    is marked to check for the treasurer, nothing else changed, no donor told."""


class PlanServiceDown(PlanError):
    """Stripe did not answer (or refused): nothing changed, the person may try again."""


def plan_for_subscription(
    subscription_id, *, origin=None, customer_id="", livemode=None, account=None
):
    """The recurring plan of a Stripe subscription, row-locked, created from the donation that
    started it (`origin`) if new, noting where Stripe made it (`livemode`, the connected
    `account`, '' for the platform) if the event says. Two events of the same subscription
    can arrive together: the unique subscription id decides which one creates it."""
    plan = (
        RecurringPlan.objects.select_for_update()
        .filter(stripe_subscription_id=subscription_id)
        .first()
    )
    if plan is not None or origin is None:
        return plan
    try:
        with transaction.atomic():
            plan = RecurringPlan.objects.create(
                network=origin.network,
                donor=origin.donor,
                campaign=origin.campaign,
                amount_cents=origin.amount_cents,
                status=RecurringPlan.Status.ACTIVE,
                stripe_subscription_id=subscription_id,
                stripe_customer_id=customer_id or "",
                livemode=livemode if isinstance(livemode, bool) else None,
                stripe_account_id=account,
                started_at=timezone.now(),
            )
    except IntegrityError:
        plan = RecurringPlan.objects.select_for_update().get(stripe_subscription_id=subscription_id)
    return plan


def attach_plan(plan, donation):
    """Link the first donation to its plan and give the plan its donor once known."""
    changed = False
    if donation.recurring_plan_id != plan.pk:
        donation.recurring_plan = plan
        donation.save(update_fields=["recurring_plan", "updated_at"])
        changed = True
    if plan.donor_id is None and donation.donor_id is not None:
        plan.donor_id = donation.donor_id
        plan.save(update_fields=["donor", "updated_at"])
        changed = True
    return changed


def record_plan_charge(plan, *, invoice_id, amount_cents, currency, origin=None, received_on=None):
    """One monthly charge of a plan is one donation. The first charge completes the donation
    created with the checkout (`origin`); later ones are new donations of the plan's amount.
    `amount_cents` and `currency` are what Stripe says the invoice paid: if they are not what
    the gift expects, the gift is held for review and the plan is not activated. The unique
    invoice id makes a replay a no-op."""
    existing = Donation.objects.filter(stripe_invoice_id=invoice_id).first()
    if existing is not None:
        return False
    if origin is not None and not origin.stripe_invoice_id:
        origin.recurring_plan = plan
        record_payment(
            origin,
            amount_cents=amount_cents,
            currency=currency,
            received_on=received_on,
            stripe_invoice_id=invoice_id,
            stripe_subscription_id=plan.stripe_subscription_id,
        )
        attach_plan(plan, origin)
        if origin.status != Donation.Status.NEEDS_REVIEW:
            _activate(plan)
        return True  # at least the invoice id is new on the gift
    template = origin or plan.donations.order_by("id").first()
    donation = Donation(
        network=plan.network,
        donor=plan.donor,
        campaign=plan.campaign,
        recurring_plan=plan,
        amount_cents=plan.amount_cents,
        currency=plan.currency,
        wants_receipt=template.wants_receipt if template else False,
        donor_details=template.donor_details if template else {},
        anonymous=template.anonymous if template else True,
        # A plan started through an email keeps saying so on each of its gifts.
        message_token=template.message_token if template else "",
        stripe_invoice_id=invoice_id,
        stripe_subscription_id=plan.stripe_subscription_id,
        # Paid where the subscription lives, whatever the campaign's entity connected since.
        stripe_account_id=plan.stripe_account,
    )
    donation.save()
    record_payment(donation, amount_cents=amount_cents, currency=currency, received_on=received_on)
    attach_plan(plan, donation)
    if donation.status != Donation.Status.NEEDS_REVIEW:
        _activate(plan)
    return True


def _activate(plan):
    """A paid charge: the plan runs (a plan to check evidently exists at Stripe)."""
    waiting = (
        RecurringPlan.Status.PENDING,
        RecurringPlan.Status.PAST_DUE,
        RecurringPlan.Status.TO_CHECK,
    )
    if plan.status in waiting:
        plan.status = RecurringPlan.Status.ACTIVE
        plan.failures = 0
        plan.save(update_fields=["status", "failures", "updated_at"])


def record_plan_failure(plan, *, first_attempt=True):
    """A monthly charge failed; Stripe retries on its schedule (Smart Retries). The donor is
    told once per failed invoice, at its first failed attempt, not at each retry."""
    if plan.status == RecurringPlan.Status.CANCELLED:
        return False
    plan.failures += 1
    plan.status = RecurringPlan.Status.PAST_DUE
    plan.save(update_fields=["failures", "status", "updated_at"])
    if first_attempt:
        outbox.queue_payment_failed_email(plan)
    return True


# Stripe subscription statuses (https://docs.stripe.com/api/subscriptions/object#subscription_object-status)
SUBSCRIPTION_STATUS = {
    "active": RecurringPlan.Status.ACTIVE,
    "trialing": RecurringPlan.Status.ACTIVE,
    "past_due": RecurringPlan.Status.PAST_DUE,
    "unpaid": RecurringPlan.Status.PAST_DUE,
    "incomplete": RecurringPlan.Status.PENDING,
    "canceled": RecurringPlan.Status.CANCELLED,
    "incomplete_expired": RecurringPlan.Status.CANCELLED,
    "paused": RecurringPlan.Status.PAUSED,
}


def update_plan(
    plan,
    *,
    stripe_status=None,
    amount_cents=None,
    currency=None,
    interval=None,
    paused=None,
    resumes_at=None,
    next_charge_at=None,
    revision=None,
    user=None,
    by=history.BY_STRIPE,
):
    """Apply a subscription's new state (from a webhook, or from the answer to our own call:
    whichever comes first records each change, once, in the plan's history, and queues one
    email confirming it to the donor, whoever made it). A cancelled plan stays cancelled. A
    new amount in another currency than the plan's is not taken (its invoices will be held
    for review). `paused`: Stripe's `pause_collection` is set; the subscription's status
    stays `active` while paused, so a paused plan stays paused until Stripe says it is not
    (or cancelled, or failing). `revision`: the one our last change stamped on the
    subscription; a state from before it (a late webhook) is not applied."""
    changed, told = [], []  # fields saved; changes the donor is told about
    if revision is not None:
        if revision < plan.stripe_revision:
            return False
        if revision > plan.stripe_revision:
            plan.stripe_revision = revision
            changed.append("stripe_revision")
    if currency and str(currency).upper() != plan.currency.upper():
        amount_cents = None
    status = SUBSCRIPTION_STATUS.get(stripe_status or "")
    if plan.status == RecurringPlan.Status.CANCELLED:
        return False
    was_paused = plan.status == RecurringPlan.Status.PAUSED
    # Back from "to check": the state Stripe has is not news to the donor.
    quiet = plan.status == RecurringPlan.Status.TO_CHECK
    if status == RecurringPlan.Status.ACTIVE and (paused or (paused is None and was_paused)):
        status = RecurringPlan.Status.PAUSED
    if status and status != plan.status:
        plan.status = status
        changed.append("status")
        if status == RecurringPlan.Status.CANCELLED:
            plan.cancelled_at = timezone.now()
            changed.append("cancelled_at")
        elif status == RecurringPlan.Status.PAUSED:
            data = {"resumes_at": resumes_at.isoformat()} if resumes_at else {}
            history.log_plan(plan, history.PAUSE, user=user, by=by, **data)
            told.append({"what": "pause", **data})
        elif was_paused and status == RecurringPlan.Status.ACTIVE:
            history.log_plan(plan, history.RESUME, user=user, by=by)
            told.append({"what": "resume"})
        if status != RecurringPlan.Status.TO_CHECK and plan.check_note:
            plan.check_note = ""  # Stripe knows the subscription after all
            changed.append("check_note")
    if amount_cents and amount_cents != plan.amount_cents:
        change = {"from": plan.amount_cents, "to": amount_cents}
        history.log_plan(plan, history.AMOUNT, user=user, by=by, **change)
        told.append({"what": "amount", **change})
        plan.amount_cents = amount_cents
        changed.append("amount_cents")
    if interval and interval != plan.interval:
        change = {"from": plan.interval, "to": interval}
        history.log_plan(plan, history.INTERVAL, user=user, by=by, **change)
        told.append({"what": "interval", **change})
        plan.interval = interval
        changed.append("interval")
    if next_charge_at and next_charge_at != plan.next_charge_at:
        plan.next_charge_at = next_charge_at
        changed.append("next_charge_at")
    if changed:
        plan.save(update_fields=[*changed, "updated_at"])
    if "status" in changed and plan.status == RecurringPlan.Status.CANCELLED:
        history.log_plan(plan, history.STOP, user=user, by=by)
        outbox.queue_plan_stopped_email(plan)
    elif told and not quiet:
        outbox.queue_plan_changed_email(plan, told, by=by)
    return bool(changed)


def mark_plan_to_check(plan, note, *, user=None, by=history.BY_STRIPE):
    """Stripe answered "No such subscription": that may mean a test key in live, another
    account, or a stand-in that forgot, as much as a subscription gone. Nothing is concluded:
    the plan waits for a treasurer (listed on the CRM dashboard) with `note` saying what was
    compared; no donor is told. A cancelled plan stays cancelled."""
    if plan.status == RecurringPlan.Status.CANCELLED:
        return False
    first = plan.status != RecurringPlan.Status.TO_CHECK
    plan.status = RecurringPlan.Status.TO_CHECK
    plan.check_note = note
    plan.save(update_fields=["status", "check_note", "updated_at"])
    if first:
        history.log_plan(plan, history.CHECK, user=user, by=by, note=note)
    return True


def cancel_plan(plan, *, user=None, by=history.BY_STRIPE):
    """The plan ends because Stripe says its subscription is `canceled` (the answer to our
    own cancel call for the donor or a treasurer, or `customer.subscription.deleted`):
    recorded once in its history, and the donor is told by a "plan stopped" email. Never
    for a "No such subscription" answer (`mark_plan_to_check`)."""
    if plan.status == RecurringPlan.Status.CANCELLED:
        return False
    plan.status = RecurringPlan.Status.CANCELLED
    plan.cancelled_at = timezone.now()
    plan.next_charge_at = None
    plan.save(update_fields=["status", "cancelled_at", "next_charge_at", "updated_at"])
    history.log_plan(plan, history.STOP, user=user, by=by)
    outbox.queue_plan_stopped_email(plan)
    return True


def record_next_charge(plan, when):
    """A paid invoice says when its period ends: the next charge, unless we know a later one."""
    if when is None or plan.status == RecurringPlan.Status.CANCELLED:
        return False
    if plan.next_charge_at and plan.next_charge_at >= when:
        return False
    plan.next_charge_at = when
    plan.save(update_fields=["next_charge_at", "updated_at"])
    return True


def record_payment_method(plan, payment_method_id, *, user=None, by=history.BY_STRIPE):
    """The subscription's payment method as Stripe says it now. A different one than the one
    on record is a card update (the donor on Stripe's page), logged once; the first one seen
    is only noted."""
    if not payment_method_id or payment_method_id == plan.stripe_payment_method_id:
        return False
    if plan.stripe_payment_method_id:
        history.log_plan(plan, history.CARD, user=user, by=by)
    plan.stripe_payment_method_id = payment_method_id
    plan.save(update_fields=["stripe_payment_method_id", "updated_at"])
    return True


def send_manage_link(plan, *, user=None):
    """Email the donor the signed link to their plan's page. None without an address."""
    email = outbox.queue_plan_link_email(plan)
    if email is not None:
        history.log_plan(plan, history.LINK, user=user, by=history.BY_TREASURER, to=email.to)
    return email
