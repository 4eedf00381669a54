"""Refunds from Trama: a treasurer gives back all or part of an online gift through Stripe's
Refunds API (https://docs.stripe.com/api/refunds/create), on the network's connected account
when it has one, then the money is recorded through the crm verbs
(`crm.gifts.record_refunded_total` → `crm.receipts.follow_refund`, the donor's email).

Exactly once, and no row lock held while Stripe answers: the gift is checked under its row
lock and the lock released (commit); Stripe is called; the answer is recorded under the lock
again. The treasurer's form carries what was refunded when the question was asked (a click
after a refund landed finds it changed and refunds nothing), and the idempotency key is made of
that state alone: however many clicks, tabs or retries ask at the same moment, Stripe makes one
refund for it (the same key replays the first answer; while the first is in flight Stripe
answers 409 and the SDK asks again). The webhook for the same refund (`charge.refunded`,
`refund.created`) then finds the total already recorded and changes nothing; a refund made in
Stripe's dashboard arrives only by it.
"""

import logging
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log

from crm import gifts
from crm.models import Donation
from crm.money import format_amount

from . import stripe_api

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

REFUND_ACTION = "campaigns.refund"


class RefundRefused(Exception):
    """Stripe, or the gift's state, refused the refund: nothing was refunded or recorded. The
    message is for the treasurer."""


def remaining_cents(donation: Donation) -> int:
    return donation.amount_cents - donation.refunded_cents


def can_refund(donation: Donation) -> bool:
    """An online gift whose money arrived (and is not all refunded or disputed) and whose
    payment Stripe knows."""
    return bool(
        donation.status in Donation.COUNTED_STATUSES
        and donation.channel == Donation.Channel.ONLINE
        and remaining_cents(donation) > 0
        and (
            donation.stripe_charge_id
            or donation.stripe_payment_intent_id
            or donation.stripe_invoice_id
        )
    )


def _stripe_refusal(exc: Exception, account: str = "") -> "StrOrPromise":
    """What the treasurer reads when Stripe says no (or cannot be reached); `account`: the
    Stripe account the call was made on, the gift's ('' for the platform)."""
    if isinstance(exc, stripe_api.InvalidRequestError):
        if exc.code == "resource_missing":
            # "No such charge": as likely a test key in live, another account or a stand-in
            # that forgot, as a payment gone. Say where to look; conclude nothing.
            return _(
                "Stripe does not know this payment with the %(mode)s key "
                "(account: %(account)s): nothing was refunded or changed. Check that the key "
                "(test or live) and the network's Stripe account are those the gift was paid "
                "with."
            ) % {
                "mode": _("live") if stripe_api.key_is_live() else _("test"),
                "account": account or _("the platform account"),
            }
        if exc.code == "amount_too_large":
            return _("Stripe refused: the amount is more than what is left to refund.")
        if exc.code == "charge_already_refunded":
            return _("Stripe refused: this payment is already fully refunded.")
        if exc.code == "charge_disputed":
            return _("Stripe refused: the donor's bank disputes this payment.")
        # Stripe's own sentence is English and for developers: in the log, not on the screen.
        logger.warning("Stripe refused a refund: %s", exc.user_message or exc)
        return _(
            "Stripe refused the refund: nothing was refunded. The payment's page in Stripe's "
            "dashboard says why."
        )
    if isinstance(exc, stripe_api.APIConnectionError):
        return _("Stripe could not be reached: nothing was refunded. Try again in a few minutes.")
    return _("Stripe could not make the refund: nothing was refunded. Try again later.")


def refund_gift(
    donation_id: int,
    *,
    amount_cents: int,
    reason: str,
    user: "User",
    seen_refunded_cents: int,
) -> Donation:
    """Refund `amount_cents` of gift `donation_id` through Stripe and record it: the receipt
    voided (or reissued for what remains), the donor emailed. `seen_refunded_cents` is what
    the treasurer saw refunded when they asked. Returns the gift; raises RefundRefused or
    ValidationError (a bad amount) with nothing changed."""
    donation = _check(donation_id, amount_cents, seen_refunded_cents)
    # One refund per state the treasurer saw: the amount is not in the key, so two clicks
    # asking different amounts of the same state cannot both go through.
    key = f"refund-donation-{donation.pk}-{seen_refunded_cents}-{_created_us(donation)}"
    metadata = {
        "donation_id": str(donation.pk),
        "network": donation.network.slug,
        "reason": reason[:500],
        "refunded_by": user.get_username()[:500],
    }
    try:
        refund = stripe_api.create_refund(
            donation, amount_cents=amount_cents, metadata=metadata, idempotency_key=key
        )
    except (stripe_api.StripeError, ValueError) as exc:
        logger.warning("refund of donation %s refused: %s", donation.pk, exc)
        raise RefundRefused(_stripe_refusal(exc, donation.stripe_account)) from exc
    charge = refund.get("charge")
    total = (
        int(charge.get("amount_refunded") or 0)
        if isinstance(charge, dict)
        else seen_refunded_cents + int(refund.get("amount") or amount_cents)
    )
    with transaction.atomic():
        locked = gifts.lock_donation(pk=donation_id)
        if locked is None:  # gifts are never deleted; the webhook records the refund anyway
            raise Donation.DoesNotExist(donation_id)
        donation = locked
        if isinstance(charge, dict) and not donation.stripe_charge_id:
            donation.stripe_charge_id = charge["id"]
            donation.save(update_fields=["stripe_charge_id", "updated_at"])
        if gifts.record_refunded_total(donation, int(total), reason=reason, user=user):
            log(
                instance=donation,
                action=REFUND_ACTION,
                user=user,
                data={"amount_cents": amount_cents, "reason": reason, "refund": refund.get("id")},
            )
    return donation


def _created_us(donation: Donation) -> int:
    return int(donation.created_at.timestamp() * 1e6)


def _check(donation_id: int, amount_cents: int, seen_refunded_cents: int) -> Donation:
    """The gift, if it can be refunded `amount_cents` from the state the treasurer saw;
    RefundRefused or ValidationError otherwise."""
    with transaction.atomic():
        donation = gifts.lock_donation(pk=donation_id)
        if donation is None:
            raise RefundRefused(_("This gift does not exist."))
        if donation.refunded_cents != seen_refunded_cents:
            raise RefundRefused(
                _(
                    "This gift was refunded meanwhile (%(refunded)s so far): nothing more was "
                    "refunded. Check the gift and ask again if needed."
                )
                % {"refunded": format_amount(donation.refunded_cents)}
            )
        if not can_refund(donation):
            raise RefundRefused(_("This gift cannot be refunded from Trama."))
        if not 0 < amount_cents <= remaining_cents(donation):
            raise ValidationError(
                _("A refund cannot be larger than the amount still to refund."), code="too_large"
            )
    return donation
