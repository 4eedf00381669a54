"""The Stripe events of ticket orders (registered under `campaigns.stripe_reads.PAYMENT_OWNERS`,
asked before the giving handlers): a Checkout Session or a payment bound to an `Order` is
handled here, anything else is left to `campaigns.stripe_handlers` (None).

Binding as for gifts: the session id is stored when the session is created
(`events.views.buy`), the payment intent when the payment arrives; `metadata.order_id` is a hint
used only when the order holds no other session."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from campaigns.stripe_matching import NotOurs, _id

from . import orders
from .models import Order

SESSION_PAID = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
SESSION_UNPAID = ("checkout.session.expired", "checkout.session.async_payment_failed")
REFUNDS = ("charge.refunded", "refund.created", "refund.updated")


def _guard(order: Order, account: str) -> Order:
    if order.stripe_account != (account or ""):  # its entity's account (a partner's own)
        raise NotOurs(f"order {order.pk} belongs to another Stripe account")
    return order


def _session_order(session: dict) -> Order | None:
    order = orders.lock_order(stripe_checkout_session_id=session["id"])
    if order is not None:
        return order
    claimed = str((session.get("metadata") or {}).get("order_id") or "")
    if not claimed.isdigit():
        return None
    order = orders.lock_order(pk=int(claimed))
    if order is None:
        return None
    if order.stripe_checkout_session_id not in (None, session["id"]):
        raise NotOurs(f"session {session['id']} names order {claimed}, bound elsewhere")
    order.stripe_checkout_session_id = session["id"]
    order.save(update_fields=["stripe_checkout_session_id", "updated_at"])
    return order


def _refund_reason() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(_("Refunded in Stripe"))


def own(kind: str, obj: dict, account: str, fetched: dict | None) -> bool | None:
    if kind in SESSION_PAID or kind in SESSION_UNPAID:
        if not (obj.get("metadata") or {}).get("order_id"):
            # Every order's session carries its id (`events.views.buy`): a gift's session is
            # left to campaigns without a query in its webhook's transaction.
            return None
        order = _session_order(obj)
        if order is None:
            return None
        order = _guard(order, account)
        if kind in SESSION_UNPAID:
            return orders.record_unpaid(order)
        if kind == SESSION_PAID[0] and obj.get("payment_status") != "paid":
            return False  # a delayed method: `async_payment_succeeded` follows
        return orders.record_paid(
            order,
            amount_cents=obj.get("amount_total"),
            currency=obj.get("currency"),
            payment_intent_id=_id(obj.get("payment_intent")) or "",
        )
    if kind in REFUNDS:
        intent = _id(obj.get("payment_intent"))
        order = orders.lock_order(stripe_payment_intent_id=intent) if intent else None
        if order is None:
            return None
        order = _guard(order, account)
        charge = obj if kind == "charge.refunded" else (fetched or {}).get("charge")
        if not isinstance(charge, dict) or obj.get("status") in ("failed", "canceled"):
            return False
        if charge.get("id") and not order.stripe_charge_id:
            order.stripe_charge_id = charge["id"]
            order.save(update_fields=["stripe_charge_id", "updated_at"])
        return orders.record_refunded_total(
            order, int(charge.get("amount_refunded") or 0), reason=_refund_reason()
        )
    return None
