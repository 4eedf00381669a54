"""Stripe objects as they appear in `event.data.object`, API version 2026-10-28 (fields from
the API reference: checkout/sessions/object, invoices/object, charges/object,
disputes/object, subscriptions/object, payment_intents/object). Only the fields our handlers
read plus their neighbours; values look like Stripe's."""

import time


def checkout_session(
    donation,
    *,
    mode="payment",
    payment_status="paid",
    pi="pi_test_1",
    subscription=None,
    customer="cus_test_1",
):
    return {
        "id": donation.stripe_checkout_session_id,
        "object": "checkout.session",
        "amount_subtotal": donation.amount_cents,
        "amount_total": donation.amount_cents,
        "client_reference_id": str(donation.pk),
        "created": int(time.time()) - 60,
        "currency": "eur",
        "customer": customer if mode == "subscription" else None,
        "customer_details": {
            "email": donation.donor_details.get("email"),
            "name": "Anna Rossi",
            "address": None,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
        "livemode": False,
        "metadata": {"donation_id": str(donation.pk), "network": donation.network.slug},
        "mode": mode,
        "payment_intent": pi if mode == "payment" else None,
        "payment_status": payment_status,
        "status": "complete",
        "subscription": subscription if mode == "subscription" else None,
        "success_url": "http://testserver/give/thanks/x/",
        "cancel_url": "http://testserver/give/cancelled/x/",
        "url": None,
    }


def invoice(
    invoice_id,
    subscription_id,
    *,
    donation=None,
    amount=2500,
    billing_reason="subscription_create",
    paid=True,
):
    metadata = (
        {"donation_id": str(donation.pk), "network": donation.network.slug} if donation else {}
    )
    now = int(time.time())
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": now - 30,
        "currency": "eur",
        "customer": "cus_test_1",
        "customer_email": "anna.rossi@example.org",
        "livemode": False,
        "metadata": {},
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": metadata, "subscription": subscription_id},
            "type": "subscription_details",
        },
        "status": "paid" if paid else "open",
        "status_transitions": {
            "finalized_at": now - 30,
            "marked_uncollectible_at": None,
            "paid_at": now - 20 if paid else None,
            "voided_at": None,
        },
        "total": amount,
    }


def charge(charge_id, pi, *, amount=2500, amount_refunded=0):
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "captured": True,
        "created": int(time.time()) - 100,
        "currency": "eur",
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": pi,
        "refunded": amount_refunded == amount,
        "status": "succeeded",
    }


def dispute(charge_id, pi, *, amount=2500, status="needs_response"):
    return {
        "id": "dp_test_1",
        "object": "dispute",
        "amount": amount,
        "charge": charge_id,
        "created": int(time.time()) - 50,
        "currency": "eur",
        "livemode": False,
        "metadata": {},
        "payment_intent": pi,
        "reason": "fraudulent",
        "status": status,
    }


def subscription(subscription_id, *, status="active", amount=2500):
    return {
        "id": subscription_id,
        "object": "subscription",
        "cancel_at_period_end": False,
        "canceled_at": int(time.time()) if status == "canceled" else None,
        "created": int(time.time()) - 1000,
        "currency": "eur",
        "customer": "cus_test_1",
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_test_1",
                    "object": "subscription_item",
                    "price": {
                        "id": "price_test_1",
                        "object": "price",
                        "currency": "eur",
                        "recurring": {"interval": "month", "interval_count": 1},
                        "unit_amount": amount,
                    },
                    "quantity": 1,
                    "subscription": subscription_id,
                }
            ],
            "has_more": False,
        },
        "livemode": False,
        "metadata": {},
        "status": status,
    }


def payment_intent(pi, donation, *, status="requires_payment_method"):
    return {
        "id": pi,
        "object": "payment_intent",
        "amount": donation.amount_cents,
        "currency": "eur",
        "last_payment_error": {"code": "card_declined", "type": "card_error"},
        "livemode": False,
        "metadata": {"donation_id": str(donation.pk)},
        "status": status,
    }
