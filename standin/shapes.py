"""Make localstripe's objects look like API version 2026-10-28.endive.

localstripe exports whatever attributes its objects carry (shapes from ~2017-2020, e.g.
``invoice.subscription``/``invoice.charge``, ``payment_intent.charges``, nested
``latest_charge``). Here every exported object goes through a *shaper* that builds the
current shape field by field (field names from the API reference and stripe-python 16's
typed resources), plus ``expand[]`` and includable fields (``invoice.payments``,
``charge.refunds``, ``checkout.session.line_items``), which Stripe returns only on request.
"""

from __future__ import annotations

from localstripe.resources import (
    BalanceTransaction,
    Charge,
    Customer,
    Invoice,
    InvoiceLineItem,
    List,
    PaymentIntent,
    Plan,
    Product,
    Refund,
    StripeObject,
    Subscription,
    SubscriptionItem,
    store,
)

from . import core

SHAPERS: dict[type, callable] = {}


def shaper(cls):
    def register(func):
        SHAPERS[cls] = func
        return func

    return register


def install() -> None:
    orig = StripeObject._export
    if getattr(orig, "_standin", False):
        return

    def _export(self, expand=None):
        expand = expand or []
        if not isinstance(expand, list) or not all(isinstance(p, str) for p in expand):
            raise core.error(400, "Invalid array", "parameter_invalid_array", "expand")
        if any(len(p.split(".")) > 4 for p in expand):
            raise core.error(400, "You cannot expand more than 4 levels of a property.")
        obj = orig(self)
        func = SHAPERS.get(type(self))
        if func is not None:
            obj = func(self, obj, {p.split(".")[0] for p in expand})
        for path in expand:
            _expand(obj, path.split("."), path)
        return obj

    _export._standin = True
    StripeObject._export = _export

    # Subscription periods advance on renewal (see billing.py), not only from start_date.
    orig_period = SubscriptionItem._current_period

    def _current_period(self):
        sub = store.get(f"subscription:{self._subscription}") if self._subscription else None
        period = getattr(sub, "_period", None)
        return {"start": period[0], "end": period[1]} if period else orig_period(self)

    SubscriptionItem._current_period = _current_period


def _expand(obj, parts, path):
    if isinstance(obj, list):
        for item in obj:
            _expand(item, parts, path)
        return
    if not isinstance(obj, dict):
        return
    key, rest = parts[0], parts[1:]
    if key not in obj:
        raise core.error(400, f"This property cannot be expanded ({path}).")
    value = obj[key]
    if isinstance(value, str):
        target = core.find(value)
        if target is not None:
            obj[key] = value = target._export()
    if rest and value is not None:
        _expand(value, rest, path)


def sub_list(url: str, objects) -> dict:
    return {"object": "list", "data": [o._export() for o in objects], "has_more": False, "url": url}


def _id(value):
    return value.get("id") if isinstance(value, dict) else value


@shaper(List)
def _list(self, o, inc):
    return {"object": "list", "data": o["data"], "has_more": o["has_more"], "url": o["url"]}


# https://docs.stripe.com/api/customers/object
@shaper(Customer)
def _customer(self, o, inc):
    return {
        "id": o["id"],
        "object": "customer",
        "address": o["address"],
        "balance": -(self.account_balance or 0),
        "created": o["created"],
        "currency": None,
        "default_source": o["default_source"],
        "delinquent": o["delinquent"],
        "description": o["description"],
        "discount": None,
        "email": o["email"],
        "invoice_prefix": self.id[4:12].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": o["invoice_settings"].get("default_payment_method"),
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": o["metadata"],
        "name": o["name"],
        "next_invoice_sequence": 1 + getattr(self, "_invoice_count", 0),
        "phone": o["phone"],
        "preferred_locales": o["preferred_locales"] or [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


# https://docs.stripe.com/api/payment_intents/object
@shaper(PaymentIntent)
def _payment_intent(self, o, inc):
    status = o["status"]
    error = o.get("last_payment_error")
    if error and self.latest_charge is not None and self.latest_charge.status == "failed":
        charge = self.latest_charge
        error = {
            "charge": charge.id,
            "code": charge.failure_code,
            "decline_code": getattr(charge, "_decline_code", None),
            "doc_url": "https://docs.stripe.com/error-codes/"
            + charge.failure_code.replace("_", "-"),
            "message": charge.failure_message,
            "payment_method": charge.payment_method and core.find(charge.payment_method)._export(),
            "type": "card_error",
        }
    return {
        "id": o["id"],
        "object": "payment_intent",
        "amount": o["amount"],
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": o["amount"] if status == "succeeded" else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": o["capture_method"],
        "client_secret": o["client_secret"],
        "confirmation_method": "automatic",
        "created": o["created"],
        "currency": o["currency"],
        "customer": o["customer"],
        "description": getattr(self, "description", None),
        "excluded_payment_method_types": None,
        "last_payment_error": error,
        "latest_charge": _id(o["latest_charge"]),
        "livemode": False,
        "metadata": o["metadata"],
        "next_action": o["next_action"],
        "on_behalf_of": None,
        "payment_method": o["payment_method"],
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": getattr(self, "_pm_types", None) or ["card"],
        "processing": None,
        "receipt_email": getattr(self, "receipt_email", None),
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": getattr(self, "statement_descriptor", None),
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


# https://docs.stripe.com/api/charges/object
@shaper(Charge)
def _charge(self, o, inc):
    from .disputes import Dispute  # late: disputes imports this module

    succeeded = o["status"] == "succeeded"
    out = {
        "id": o["id"],
        "object": "charge",
        "amount": o["amount"],
        "amount_captured": o["amount"] if succeeded and o["captured"] else 0,
        "amount_refunded": o["amount_refunded"],
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": o["balance_transaction"],
        "billing_details": getattr(self, "billing_details", None)
        or {"address": None, "email": None, "name": None, "phone": None, "tax_id": None},
        "calculated_statement_descriptor": "STANDIN",
        "captured": o["captured"],
        "created": o["created"],
        "currency": o["currency"],
        "customer": o["customer"],
        "description": o["description"],
        "disputed": any(d.charge == self.id for d in core.objects_of(Dispute)),
        "failure_balance_transaction": None,
        "failure_code": o["failure_code"],
        "failure_message": o["failure_message"],
        "fraud_details": {},
        "livemode": False,
        "metadata": o["metadata"],
        "on_behalf_of": None,
        "outcome": getattr(self, "outcome", None),
        "paid": o["paid"],
        "payment_intent": o["payment_intent"],
        "payment_method": o["payment_method"],
        "payment_method_details": getattr(self, "payment_method_details", None),
        "radar_options": {},
        "receipt_email": o["receipt_email"],
        "receipt_number": None,
        "receipt_url": None,
        "refunded": o["refunded"],
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": o["statement_descriptor"],
        "statement_descriptor_suffix": None,
        "status": o["status"],
        "transfer_data": None,
        "transfer_group": None,
    }
    if "refunds" in inc:  # includable since 2022-11-15
        out["refunds"] = sub_list(f"/v1/charges/{self.id}/refunds", self.refunds._list)
    return out


# https://docs.stripe.com/api/refunds/object
@shaper(Refund)
def _refund(self, o, inc):
    return {
        "id": o["id"],
        "object": "refund",
        "amount": o["amount"],
        "balance_transaction": o.get("balance_transaction"),
        "charge": o["charge"],
        "created": o["created"],
        "currency": o["currency"],
        "description": None,
        "destination_details": None,
        "failure_reason": getattr(self, "failure_reason", None),
        "metadata": o["metadata"],
        "payment_intent": o["payment_intent"],
        "reason": getattr(self, "reason", None),
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": o["status"],
        "transfer_reversal": None,
    }


@shaper(BalanceTransaction)
def _balance_transaction(self, o, inc):
    return {
        k: o.get(k)
        for k in (
            "id",
            "object",
            "amount",
            "available_on",
            "created",
            "currency",
            "description",
            "exchange_rate",
            "fee",
            "fee_details",
            "net",
            "reporting_category",
            "source",
            "status",
            "type",
        )
    } | {"balance_type": "payments"}


# https://docs.stripe.com/api/products/object
@shaper(Product)
def _product(self, o, inc):
    return {
        "id": o["id"],
        "object": "product",
        "active": o["active"],
        "created": o["created"],
        "default_price": None,
        "description": o["description"],
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": o["metadata"],
        "name": o["name"],
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": o["statement_descriptor"],
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": o["created"],
        "url": o["url"],
    }


# https://docs.stripe.com/api/plans/object
@shaper(Plan)
def _plan(self, o, inc):
    return {
        "id": o["id"],
        "object": "plan",
        "active": o["active"],
        "amount": o["amount"],
        "amount_decimal": str(o["amount"]),
        "billing_scheme": o["billing_scheme"],
        "created": o["created"],
        "currency": o["currency"],
        "interval": o["interval"],
        "interval_count": o["interval_count"],
        "livemode": False,
        "metadata": o["metadata"],
        "meter": None,
        "nickname": o["nickname"],
        "product": o["product"],
        "tiers_mode": o["tiers_mode"],
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": o["usage_type"],
    }


def _price_for(plan_id: str):
    price = store.get(f"price:{plan_id}")
    return price._export() if price is not None else None


# https://docs.stripe.com/api/subscription_items/object (periods live here since 2025-03-31)
@shaper(SubscriptionItem)
def _subscription_item(self, o, inc):
    period = self._current_period()
    return {
        "id": o["id"],
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": o["created"],
        "current_period_end": period["end"],
        "current_period_start": period["start"],
        "discounts": [],
        "metadata": o["metadata"],
        "plan": o["plan"],
        "price": _price_for(self.plan.id),
        "quantity": o["quantity"],
        "subscription": self._subscription,
        "tax_rates": [],
    }


# https://docs.stripe.com/api/subscriptions/object
@shaper(Subscription)
def _subscription(self, o, inc):
    return {
        "id": o["id"],
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": o["billing_cycle_anchor"] or o["start_date"],
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
        "billing_thresholds": None,
        "cancel_at": o["cancel_at"],
        "cancel_at_period_end": o["cancel_at_period_end"],
        "canceled_at": o["canceled_at"],
        "cancellation_details": getattr(self, "cancellation_details", None)
        or {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": o["created"],
        "currency": self.plan.currency,
        "customer": o["customer"],
        "days_until_due": None,
        "default_payment_method": getattr(self, "default_payment_method", None),
        "default_source": None,
        "default_tax_rates": [],
        "description": getattr(self, "description", None),
        "discounts": [],
        "ended_at": o["ended_at"],
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": o["items"],
        "latest_invoice": o["latest_invoice"],
        "livemode": False,
        "metadata": o["metadata"],
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": getattr(self, "pause_collection", None),
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": o["start_date"],
        "status": o["status"],
        "test_clock": None,
        "transfer_data": None,
        "trial_end": getattr(self, "_trial_end", None),
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": getattr(self, "_trial_start", None),
    }


# https://docs.stripe.com/api/invoice-line-item/object
@shaper(InvoiceLineItem)
def _line(self, o, inc):
    plan = self.plan
    sub_item = getattr(self, "subscription_item", None)
    return {
        "id": o["id"],
        "object": "line_item",
        "amount": o["amount"],
        "currency": o["currency"],
        "description": o["description"],
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": o["invoice"],
        "livemode": False,
        "metadata": o["metadata"],
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": o["subscription"],
                "subscription_item": sub_item,
            },
            "type": "subscription_item_details",
        }
        if sub_item
        else None,
        "period": getattr(self, "_period", None) or o["period"],
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": plan.id, "product": plan.product},
            "type": "price_details",
            "unit_amount_decimal": str(plan.amount),
        }
        if plan
        else None,
        "quantity": o["quantity"],
        "subscription": o["subscription"],
        "subtotal": o["amount"],
        "taxes": [],
    }


# https://docs.stripe.com/api/invoices/object (2025-03-31.basil moved `subscription` to
# `parent.subscription_details` and replaced `charge`/`payment_intent` by `payments`).
@shaper(Invoice)
def _invoice(self, o, inc):
    from .billing import InvoicePayment

    status = o["status"]
    total, paid = o["total"], o["amount_paid"]
    transitions = dict(o["status_transitions"])
    transitions.setdefault("marked_uncollectible_at", None)
    out = {
        "id": o["id"],
        "object": "invoice",
        "account_country": None,
        "account_name": None,
        "account_tax_ids": None,
        "amount_due": total,
        "amount_overpaid": 0,
        "amount_paid": paid,
        "amount_remaining": total - paid,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": o["attempt_count"] if o["attempted"] else 0,
        "attempted": o["attempted"],
        "auto_advance": status in ("draft", "open"),
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": o["billing_reason"],
        "collection_method": o["collection_method"],
        "confirmation_secret": None,
        "created": o["created"],
        "currency": o["currency"],
        "custom_fields": None,
        "customer": o["customer"],
        "customer_address": None,
        "customer_email": o["customer_email"],
        "customer_name": None,
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": o["description"],
        "discounts": [],
        "due_date": None,
        "effective_at": transitions.get("finalized_at"),
        "ending_balance": None if status == "draft" else 0,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": o["lines"],
        "livemode": False,
        "metadata": o["metadata"],
        "next_payment_attempt": getattr(self, "_next_attempt", None) if status == "open" else None,
        "number": getattr(self, "number", None),
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {
                "metadata": getattr(self, "_subscription_metadata", None),
                "subscription": self.subscription,
            },
            "type": "subscription_details",
        }
        if self.subscription
        else None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": o["period_end"] or o["created"],
        "period_start": o["period_start"] or o["created"],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": o["starting_balance"],
        "statement_descriptor": None,
        "status": status,
        "status_transitions": transitions,
        "subtotal": o["subtotal"],
        "subtotal_excluding_tax": o["subtotal"],
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": o["webhooks_delivered_at"],
    }
    if "payments" in inc:
        payments = [p for p in core.objects_of(InvoicePayment) if p.invoice == self.id]
        out["payments"] = sub_list(f"/v1/invoice_payments?invoice={self.id}", payments)
    return out
