"""Business verbs on gifts: a payment arrived, failed, was refunded or disputed.

Callers (the Stripe webhook handlers, the reconcile command, treasurers' screens) hold a
transaction and, where two paths could race, a row lock on the donation (`lock_donation`). The
verbs are idempotent: applying the same fact twice changes nothing the second time. What follows
for receipts is a direct call into `crm.receipts` in the same transaction; the slow part (PDF,
email) is queued there on commit.

Money is checked at the door: a payment whose amount or currency is not the gift's is held for
review (`Donation.Status.NEEDS_REVIEW`, with what Stripe reported) and applies nothing else: no
donor, no receipt, no success. Refunds and disputes leave a gift under review as it is: the
treasurer settles it in Stripe.
"""

import datetime
import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import outbox, receipts, thanks
from .donors import match_or_create_donor
from .models import Donation, Refund
from .money import fiscal_today

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

FINAL_GOOD = (
    Donation.Status.SUCCEEDED,
    Donation.Status.PARTIALLY_REFUNDED,
    Donation.Status.REFUNDED,
    Donation.Status.DISPUTED,
)


def lock_donation(**lookup: Any) -> Donation | None:
    """The donation matching `lookup` with its network, the donation row locked until the
    transaction ends (a no-op on SQLite, which serialises writers anyway). None if there is
    none. Only the donation is locked (`of`): events of one network must not queue."""
    return (
        Donation.objects.select_related("network")
        .select_for_update(of=("self",))
        .filter(**lookup)
        .first()
    )


def payment_matches(donation: Donation, amount_cents: object, currency: object) -> bool:
    """True if Stripe's `amount_cents` and `currency` ("eur") are exactly the gift's."""
    return (
        isinstance(amount_cents, int)
        and not isinstance(amount_cents, bool)
        and amount_cents == donation.amount_cents
        and str(currency or "").upper() == donation.currency.upper()
    )


def hold_for_review(
    donation: Donation,
    *,
    amount_cents: object,
    currency: object,
    fields: tuple[str, ...] | list[str] = (),
) -> None:
    """Keep a payment whose amount or currency is not the gift's for a treasurer to look at:
    the gift stays without donor and receipt, with what Stripe reported. Idempotent."""
    reported = amount_cents if isinstance(amount_cents, int) and 0 <= amount_cents < 2**31 else None
    donation.status = Donation.Status.NEEDS_REVIEW
    donation.reported_amount_cents = reported
    donation.reported_currency = str(currency or "")[:3].upper()
    donation.save(
        update_fields=[
            *fields,
            "status",
            "reported_amount_cents",
            "reported_currency",
            "updated_at",
        ]
    )
    log.warning(
        "donation %s held for review: Stripe reported %r %r, the gift is %s %s",
        donation.pk,
        amount_cents,
        currency,
        donation.amount_cents,
        donation.currency,
    )


def record_payment(
    donation: Donation,
    *,
    amount_cents: object,
    currency: object,
    received_on: datetime.date | None = None,
    stripe_checkout_session_id: str | None = None,
    stripe_payment_intent_id: str | None = None,
    stripe_charge_id: str | None = None,
    stripe_invoice_id: str | None = None,
    stripe_subscription_id: str | None = None,
) -> bool:
    """The money arrived: `amount_cents` and `currency` are what Stripe says was paid. If they
    are the gift's, attach the donor (`match_or_create_donor`: an existing donor only if every
    detail agrees), set the Stripe ids, receipt the gift if the donor asked for it (or the
    network always issues them) and, if the donor ticked "send me news", ask them to confirm
    it. If they are not, the gift is held for review and nothing else happens. Returns False
    if nothing changed (a replay, or a gift already under review)."""
    fields = ["recurring_plan"]  # callers may have linked the plan just before (monthly gifts)
    stripe_ids = {
        "stripe_checkout_session_id": stripe_checkout_session_id,
        "stripe_payment_intent_id": stripe_payment_intent_id,
        "stripe_charge_id": stripe_charge_id,
        "stripe_invoice_id": stripe_invoice_id,
        "stripe_subscription_id": stripe_subscription_id,
    }
    for field, value in stripe_ids.items():
        if value and getattr(donation, field) != value:
            setattr(donation, field, value)
            fields.append(field)
    if donation.status in (*FINAL_GOOD, Donation.Status.NEEDS_REVIEW):
        if len(fields) > 1 or donation.recurring_plan_id:  # a replay with nothing new: no write
            donation.save(update_fields=[*fields, "updated_at"])
        return False
    if not payment_matches(donation, amount_cents, currency):
        hold_for_review(donation, amount_cents=amount_cents, currency=currency, fields=fields)
        return True
    matched = donation.donor_id is None
    if matched:
        donation.donor = match_or_create_donor(donation.network, donation.donor_details)
    donation.status = Donation.Status.SUCCEEDED
    donation.received_on = received_on or fiscal_today()
    fields += ["donor", "status", "received_on", "updated_at"]
    donation.save(update_fields=fields)
    thanks.acknowledge_gift(donation)
    if matched and (donation.donor_details or {}).get("newsletter"):
        outbox.queue_newsletter_confirmation(donation.donor)
    return True


def record_payment_failure(donation: Donation, *, status: str = Donation.Status.FAILED) -> bool:
    """A payment attempt failed or the donor gave up. Only a pending gift changes: a later
    success still wins (Checkout lets the donor retry another card)."""
    if donation.status != Donation.Status.PENDING:
        return False
    donation.status = status
    donation.save(update_fields=["status", "updated_at"])
    return True


def _status_after_refund(donation: Donation) -> str:
    if donation.refunded_cents >= donation.amount_cents:
        return Donation.Status.REFUNDED
    if donation.refunded_cents:
        return Donation.Status.PARTIALLY_REFUNDED
    return Donation.Status.SUCCEEDED


def _log_refund(donation: Donation, amount_cents: int, reason: str) -> None:
    """The dated event behind an increase of `refunded_cents` (the Agenzia Entrate data
    reports refunds by the day they were made, crm.tax_data)."""
    Refund.objects.create(
        network_id=donation.network_id,
        donation=donation,
        amount_cents=amount_cents,
        refunded_on=fiscal_today(),
        reason=reason[:30],
    )


def record_refunded_total(
    donation: Donation, refunded_cents: int, *, reason: str = "refund", user: "User | None" = None
) -> bool:
    """Stripe reports the total refunded so far (`charge.amount_refunded`): setting it, rather
    than adding, makes replays and out-of-order deliveries harmless. The receipts covering the
    gift are voided (and reissued for what remains), and the donor is told (`outbox`)."""
    if donation.status == Donation.Status.NEEDS_REVIEW:
        return False
    if refunded_cents > donation.amount_cents:
        raise ValidationError(
            _("A refund cannot be larger than the amount still to refund."), code="too_large"
        )
    if refunded_cents <= donation.refunded_cents:
        return False
    refunded_now = refunded_cents - donation.refunded_cents
    _log_refund(donation, refunded_now, reason)
    donation.refunded_cents = refunded_cents
    if donation.status != Donation.Status.DISPUTED:
        donation.status = _status_after_refund(donation)
    donation.save(update_fields=["refunded_cents", "status", "updated_at"])
    receipts.follow_refund(donation, reason, user=user)
    outbox.queue_refund_email(donation, refunded_now)
    return True


def record_refund(donation: Donation, amount_cents: int, *, reason: str = "refund") -> bool:
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


def record_dispute(donation: Donation) -> bool:
    """The donor's bank opened a dispute (chargeback): the gift no longer counts until won, and
    it and its receipts are flagged in the admin (`Donation.objects.open_disputes()`). Only a
    gift whose money counts: a late `charge.dispute.updated` after a lost one changes nothing."""
    if donation.status not in Donation.COUNTED_STATUSES:
        return False
    donation.status = Donation.Status.DISPUTED
    donation.save(update_fields=["status", "updated_at"])
    return True


def record_dispute_closed(donation: Donation, *, won: bool) -> bool:
    """Won: the gift counts again. Lost: the money went back to the donor, as a refund
    (https://docs.stripe.com/disputes/how-disputes-work), and its receipts are voided."""
    if donation.status == Donation.Status.NEEDS_REVIEW:
        return False
    if won:
        if donation.status != Donation.Status.DISPUTED:
            return False
        donation.status = _status_after_refund(donation)
        donation.save(update_fields=["status", "updated_at"])
        return True
    if donation.status == Donation.Status.REFUNDED:
        return False
    if donation.amount_cents > donation.refunded_cents:
        _log_refund(donation, donation.amount_cents - donation.refunded_cents, "dispute_lost")
    donation.refunded_cents = donation.amount_cents
    donation.status = Donation.Status.REFUNDED
    donation.save(update_fields=["refunded_cents", "status", "updated_at"])
    receipts.follow_refund(donation, "dispute_lost")
    return True
