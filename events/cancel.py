"""The treasurer cancels an order and refunds it: the gift first, through the giving app's
refund verb (`campaigns.refunds.refund_gift`: its receipt voided, the donor told), then the
tickets (`campaigns.stripe_api.create_refund` on the same payment), then the tickets are void
and go back on sale. No lock is held while Stripe answers; each refund's idempotency key is the
state the treasurer saw, so a second click refunds nothing more."""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log

from campaigns import stripe_api
from campaigns.refunds import RefundRefused, _stripe_refusal, refund_gift, remaining_cents

from . import orders
from .models import Order

logger = logging.getLogger(__name__)
CANCEL_ACTION = "events.order_cancel"


def cancel_order(order_id: int, *, reason: str, user) -> Order:
    """Refund what the order's buyer paid (gift, then tickets) and cancel its tickets. Raises
    RefundRefused with nothing more changed if Stripe says no."""
    order = Order.objects.select_related("network", "donation").get(pk=order_id)
    if order.status not in (Order.Status.PAID, Order.Status.REVIEW):
        raise RefundRefused(_("Only a paid order can be cancelled."))
    donation = order.donation
    if donation is not None and remaining_cents(donation) > 0 and order.status == "paid":
        refund_gift(
            donation.pk,
            amount_cents=remaining_cents(donation),
            reason=reason,
            user=user,
            seen_refunded_cents=donation.refunded_cents,
        )
    left = order.tickets_cents - order.tickets_refunded_cents
    if left > 0 and order.stripe_payment_intent_id:
        key = f"refund-order-{order.pk}-{order.tickets_refunded_cents}-{order.token}"
        metadata = {"order_id": str(order.pk), "reason": reason[:500]}
        try:
            refund = stripe_api.create_refund(
                order, amount_cents=left, metadata=metadata, idempotency_key=key
            )
        except (stripe_api.StripeError, ValueError) as exc:
            logger.warning("refund of order %s refused: %s", order.pk, exc)
            raise RefundRefused(_stripe_refusal(exc, order.stripe_account)) from exc
        charge = refund.get("charge")
        total = int(charge["amount_refunded"]) if isinstance(charge, dict) else None
    else:
        total = None
    with transaction.atomic():
        locked = orders.lock_order(pk=order.pk)
        assert locked is not None
        if total is not None:
            orders.record_refunded_total(locked, total, reason=reason, user=user)
        if locked.status != Order.Status.CANCELLED:
            locked.status = Order.Status.CANCELLED
            locked.cancelled_at = timezone.now()
            locked.cancel_reason = reason[:255]
            locked.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
            orders._release_order(locked)
            log(instance=locked, action=CANCEL_ACTION, user=user, data={"reason": reason})
    return locked


def buyer_gives_up(order: Order) -> bool:
    """The buyer, back from Checkout without paying, presses "Cancel the order": Stripe's
    session is expired first, so no payment can arrive once the tickets are back on sale, then
    the order ends like an expired Checkout (`orders.record_unpaid`). A session Stripe says is
    complete was paid meanwhile: nothing changes here (its webhook records it) and False is
    returned. Raises StripeError if Stripe does not answer: nothing changed."""
    if order.status != Order.Status.PENDING:
        return order.status == Order.Status.EXPIRED
    if order.stripe_checkout_session_id:
        status = stripe_api.expire_checkout_session(order, order.stripe_checkout_session_id)
        if status != "expired":
            return False
    with transaction.atomic():
        locked = orders.lock_order(pk=order.pk)
        if locked is not None:
            orders.record_unpaid(locked)
    return True
