"""Business verbs on donations and recurring plans: what happens when a gift succeeds, fails,
is refunded or disputed, and when a monthly plan changes.

Callers (the Stripe webhook, the reconcile command, treasurers' screens) hold a transaction
and, where two paths could race, a row lock on the donation (`lock_donation`). The verbs are
idempotent: applying the same fact twice changes nothing the second time. `donation_succeeded`
and `donation_refunded` are sent inside the transaction; receivers defer slow work on commit.
"""

import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from .events import donation_refunded, donation_succeeded
from .models import Donation, Donor, RecurringPlan
from .validators import normalise_code

log = logging.getLogger(__name__)

# Fields copied from what the donor typed (Donation.donor_details) onto a Donor.
DONOR_FIELDS = (
    "kind",
    "first_name",
    "last_name",
    "organisation_name",
    "email",
    "codice_fiscale",
    "partita_iva",
    "street_address",
    "postal_code",
    "city",
    "province",
    "language",
)
FINAL_GOOD = (
    Donation.Status.SUCCEEDED,
    Donation.Status.PARTIALLY_REFUNDED,
    Donation.Status.REFUNDED,
    Donation.Status.DISPUTED,
)


def lock_donation(**lookup):
    """The donation matching `lookup` with its network, the donation row locked until the
    transaction ends (a no-op on SQLite, which serialises writers anyway). None if there is
    none. Only the donation is locked (`of`): events of one network must not queue."""
    return (
        Donation.objects.select_related("network")
        .select_for_update(of=("self",))
        .filter(**lookup)
        .first()
    )


def match_or_create_donor(network, details):
    """The donor of `network` these details belong to: same codice fiscale (or partita IVA),
    else same email; created if none. Empty fields of a matched donor are filled in; consents
    only ever widen here (withdrawing them is the donor's explicit act)."""
    details = details or {}
    email = (details.get("email") or "").strip().lower()
    cf = normalise_code(details.get("codice_fiscale"))
    piva = normalise_code(details.get("partita_iva"))
    donors = Donor.objects.filter(network=network, merged_into__isnull=True, anonymised_at=None)
    donor = None
    if cf:
        donor = donors.filter(codice_fiscale=cf).order_by("id").first()
    if donor is None and piva:
        donor = donors.filter(partita_iva=piva).order_by("id").first()
    if donor is None and email:
        # A donor with a different codice fiscale is a different person sharing the mailbox.
        same_email = donors.filter(email=email).order_by("id")
        if cf:
            same_email = same_email.filter(Q(codice_fiscale="") | Q(codice_fiscale=cf))
        donor = same_email.first()
    values = {field: details.get(field) or "" for field in DONOR_FIELDS}
    values.update(email=email, codice_fiscale=cf, partita_iva=piva)
    values["kind"] = values["kind"] or Donor.Kind.PERSON
    values["language"] = values["language"] or "it"
    values["newsletter"] = bool(details.get("newsletter"))
    values["public_mention"] = bool(details.get("public_mention"))
    if details.get("privacy_notice_version"):
        accepted = details.get("privacy_accepted_at")
        values["privacy_notice_version"] = details["privacy_notice_version"]
        values["privacy_accepted_at"] = parse_datetime(accepted) if accepted else timezone.now()
    if donor is None:
        donor = Donor(network=network, source="online", **values)
        donor.save()
        return donor
    changed = []
    for field, value in values.items():
        # Consents only widen; the latest privacy acknowledgement replaces the older one.
        replaces = field.startswith("privacy_") or not getattr(donor, field)
        if value and replaces and getattr(donor, field) != value:
            setattr(donor, field, value)
            changed.append(field)
    if changed:  # a returning donor with nothing new costs no write
        donor.save(update_fields=[*changed, "updated_at"])
    return donor


def mark_donation_succeeded(donation, *, amount_cents=None, received_on=None, **stripe_ids):
    """The money arrived: attach the donor, set the Stripe ids, and tell listeners (receipts).
    Returns False if the donation had already succeeded (a replay)."""
    fields = ["recurring_plan"]  # callers may have linked the plan just before (monthly gifts)
    for field, value in stripe_ids.items():
        if value and getattr(donation, field) != value:
            setattr(donation, field, value)
            fields.append(field)
    if donation.status in FINAL_GOOD:
        donation.save(update_fields=[*fields, "updated_at"])
        return False
    if amount_cents and amount_cents != donation.amount_cents:
        log.warning(
            "donation %s: Stripe charged %s cents, form said %s",
            donation.pk,
            amount_cents,
            donation.amount_cents,
        )
        donation.amount_cents = amount_cents
    if donation.donor_id is None:
        donation.donor = match_or_create_donor(donation.network, donation.donor_details)
    donation.status = Donation.Status.SUCCEEDED
    donation.received_on = received_on or timezone.localdate()
    fields += ["amount_cents", "donor", "status", "received_on", "updated_at"]
    donation.save(update_fields=fields)
    donation_succeeded.send(sender=Donation, donation=donation)
    return True


def mark_donation_failed(donation, *, status=Donation.Status.FAILED):
    """A payment attempt failed or the donor gave up. Only a pending gift changes: a later
    success still wins (Checkout lets the donor retry another card)."""
    if donation.status != Donation.Status.PENDING:
        return False
    donation.status = status
    donation.save(update_fields=["status", "updated_at"])
    return True


def _status_after_refund(donation):
    if donation.refunded_cents >= donation.amount_cents:
        return Donation.Status.REFUNDED
    if donation.refunded_cents:
        return Donation.Status.PARTIALLY_REFUNDED
    return Donation.Status.SUCCEEDED


def set_refunded_total(donation, refunded_cents, *, reason="refund"):
    """Stripe reports the total refunded so far (`charge.amount_refunded`): setting it, rather
    than adding, makes replays and out-of-order deliveries harmless."""
    if refunded_cents > donation.amount_cents:
        raise ValidationError(
            _("A refund cannot be larger than the amount still to refund."), code="too_large"
        )
    if refunded_cents <= donation.refunded_cents:
        return False
    donation.refunded_cents = refunded_cents
    if donation.status != Donation.Status.DISPUTED:
        donation.status = _status_after_refund(donation)
    donation.save(update_fields=["refunded_cents", "status", "updated_at"])
    donation_refunded.send(sender=Donation, donation=donation, reason=reason)
    return True


def record_refund(donation, amount_cents, *, reason="refund"):
    """Refund `amount_cents` more of a gift (a treasurer's action); a refund larger than what
    remains is refused."""
    if amount_cents <= 0:
        raise ValidationError(_("The amount must be more than zero."), code="zero")
    remaining = donation.amount_cents - donation.refunded_cents
    if amount_cents > remaining:
        raise ValidationError(
            _("A refund cannot be larger than the amount still to refund."), code="too_large"
        )
    return set_refunded_total(donation, donation.refunded_cents + amount_cents, reason=reason)


def mark_disputed(donation):
    """The donor's bank opened a dispute (chargeback): the gift no longer counts until won."""
    if donation.status == Donation.Status.DISPUTED:
        return False
    donation.status = Donation.Status.DISPUTED
    donation.save(update_fields=["status", "updated_at"])
    return True


def close_dispute(donation, *, won):
    """Won: the gift counts again. Lost: the money went back to the donor, as a refund
    (https://docs.stripe.com/disputes/how-disputes-work)."""
    if won:
        if donation.status != Donation.Status.DISPUTED:
            return False
        donation.status = _status_after_refund(donation)
        donation.save(update_fields=["status", "updated_at"])
        return True
    if donation.status == Donation.Status.REFUNDED:
        return False
    donation.refunded_cents = donation.amount_cents
    donation.status = Donation.Status.REFUNDED
    donation.save(update_fields=["refunded_cents", "status", "updated_at"])
    donation_refunded.send(sender=Donation, donation=donation, reason="dispute_lost")
    return True


# --- recurring plans ---------------------------------------------------------------------------


def plan_for_subscription(subscription_id, *, origin=None, customer_id=""):
    """The recurring plan of a Stripe subscription, row-locked, created from the donation that
    started it (`origin`) if new. Two events of the same subscription can arrive together:
    the unique subscription id decides which one creates it."""
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


def record_plan_charge(plan, *, invoice_id, amount_cents, origin=None, received_on=None):
    """One monthly charge of a plan is one donation. The first charge completes the donation
    created with the checkout (`origin`); later ones are new donations. The unique invoice id
    makes a replay a no-op."""
    existing = Donation.objects.filter(stripe_invoice_id=invoice_id).first()
    if existing is not None:
        return False
    if origin is not None and not origin.stripe_invoice_id:
        origin.recurring_plan = plan
        mark_donation_succeeded(
            origin,
            amount_cents=amount_cents,
            received_on=received_on,
            stripe_invoice_id=invoice_id,
            stripe_subscription_id=plan.stripe_subscription_id,
        )
        attach_plan(plan, origin)
        _activate(plan)
        return True  # at least the invoice id is new on the gift
    template = origin or plan.donations.order_by("id").first()
    donation = Donation(
        network=plan.network,
        donor=plan.donor,
        campaign=plan.campaign,
        recurring_plan=plan,
        amount_cents=amount_cents,
        wants_receipt=template.wants_receipt if template else False,
        donor_details=template.donor_details if template else {},
        anonymous=template.anonymous if template else False,
        stripe_invoice_id=invoice_id,
        stripe_subscription_id=plan.stripe_subscription_id,
    )
    donation.save()
    mark_donation_succeeded(donation, received_on=received_on)
    attach_plan(plan, donation)
    _activate(plan)
    return True


def _activate(plan):
    if plan.status in (RecurringPlan.Status.PENDING, RecurringPlan.Status.PAST_DUE):
        plan.status = RecurringPlan.Status.ACTIVE
        plan.failures = 0
        plan.save(update_fields=["status", "failures", "updated_at"])


def record_plan_failure(plan):
    """A monthly charge failed; Stripe retries on its schedule (Smart Retries)."""
    if plan.status == RecurringPlan.Status.CANCELLED:
        return False
    plan.failures += 1
    plan.status = RecurringPlan.Status.PAST_DUE
    plan.save(update_fields=["failures", "status", "updated_at"])
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
}


def update_plan(plan, *, stripe_status=None, amount_cents=None):
    """Apply a subscription's new state. A cancelled plan stays cancelled."""
    changed = []
    status = SUBSCRIPTION_STATUS.get(stripe_status or "")
    if plan.status == RecurringPlan.Status.CANCELLED:
        return False
    if status and status != plan.status:
        plan.status = status
        changed.append("status")
        if status == RecurringPlan.Status.CANCELLED:
            plan.cancelled_at = timezone.now()
            changed.append("cancelled_at")
    if amount_cents and amount_cents != plan.amount_cents:
        plan.amount_cents = amount_cents
        changed.append("amount_cents")
    if changed:
        plan.save(update_fields=[*changed, "updated_at"])
    return bool(changed)


PLAN_CANCEL_SALT = "campaigns.cancel-plan"
# Every email to a monthly donor carries a fresh link; an old email's link still works a year on.
PLAN_CANCEL_MAX_AGE = 400 * 24 * 3600


def plan_cancel_url(plan):
    """Absolute, signed link letting a monthly donor stop their plan without logging in (put it
    in every email to them), in the donor's language (`/en/...` for English). Served by
    `campaigns.views.cancel_plan`."""
    token = signing.dumps(plan.pk, salt=PLAN_CANCEL_SALT)
    language = (plan.donor.language if plan.donor_id else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        return settings.SITE_URL + reverse("campaigns:cancel_plan", args=[token])


def plan_from_cancel_token(token):
    """The plan id in a cancel link; raises signing.BadSignature (or SignatureExpired)."""
    return signing.loads(token, salt=PLAN_CANCEL_SALT, max_age=PLAN_CANCEL_MAX_AGE)


def cancel_plan(plan):
    """The plan ends (the donor's link, a treasurer, or `customer.subscription.deleted`)."""
    if plan.status == RecurringPlan.Status.CANCELLED:
        return False
    plan.status = RecurringPlan.Status.CANCELLED
    plan.cancelled_at = timezone.now()
    plan.save(update_fields=["status", "cancelled_at", "updated_at"])
    return True
