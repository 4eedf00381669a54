"""Business verbs on gifts: a payment arrived, failed, was refunded or disputed.

Callers (the Stripe webhook handlers, the reconcile command, treasurers' screens) hold a
transaction and, where two paths could race, a row lock on the donation (`lock_donation`). The
verbs are idempotent: applying the same fact twice changes nothing the second time. What follows
for receipts is a direct call into `crm.receipts` in the same transaction; the slow part (PDF,
email) is queued there on commit.
"""

import logging

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import receipts
from .donors import match_or_create_donor
from .models import Donation

log = logging.getLogger(__name__)

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


def record_payment(donation, *, amount_cents=None, received_on=None, **stripe_ids):
    """The money arrived: attach the donor, set the Stripe ids, and receipt the gift if the
    donor asked for it (or the network always issues them). Returns False if the donation had
    already succeeded (a replay)."""
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
    receipts.receipt_gift_if_due(donation)
    return True


def record_payment_failure(donation, *, status=Donation.Status.FAILED):
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


def record_refunded_total(donation, refunded_cents, *, reason="refund"):
    """Stripe reports the total refunded so far (`charge.amount_refunded`): setting it, rather
    than adding, makes replays and out-of-order deliveries harmless. The receipts covering the
    gift are voided (and reissued for what remains)."""
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
    receipts.follow_refund(donation, reason)
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
    return record_refunded_total(donation, donation.refunded_cents + amount_cents, reason=reason)


def record_dispute(donation):
    """The donor's bank opened a dispute (chargeback): the gift no longer counts until won."""
    if donation.status == Donation.Status.DISPUTED:
        return False
    donation.status = Donation.Status.DISPUTED
    donation.save(update_fields=["status", "updated_at"])
    return True


def record_dispute_closed(donation, *, won):
    """Won: the gift counts again. Lost: the money went back to the donor, as a refund
    (https://docs.stripe.com/disputes/how-disputes-work), and its receipts are voided."""
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
    receipts.follow_refund(donation, "dispute_lost")
    return True
