"""The one module that talks to Stripe (or the local stand-in). Nothing is configured at import:
every call builds a client from settings and the network's Connect account.

Docs: Checkout Sessions https://docs.stripe.com/api/checkout/sessions/create, direct charges on
connected accounts https://docs.stripe.com/connect/direct-charges (the `Stripe-Account`
header), webhook signatures https://docs.stripe.com/webhooks#verify-events.
"""

import json

import stripe
from django.conf import settings

StripeError = stripe.StripeError
SignatureVerificationError = stripe.SignatureVerificationError
WEBHOOK_TOLERANCE_SECONDS = 300  # Stripe's default: older signatures are replays


def _client(network=None):
    stripe.enable_telemetry = False  # else it writes ~/.config/stripe/telemetry_id
    options = {"max_network_retries": 1}
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    if network is not None and network.stripe_account_id:
        options["stripe_account"] = network.stripe_account_id
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, **options)


def verify_event(payload, sig_header):
    """The event as a plain dict if `payload` carries a valid, fresh signature made with our
    endpoint secret; raises SignatureVerificationError or ValueError otherwise.

    `WebhookSignature.verify_header` is the check `Webhook.construct_event` makes
    (https://docs.stripe.com/webhooks#verify-official-libraries); we skip the StripeObject tree
    construct_event would build from a second parse, since handlers read plain dicts."""
    stripe.WebhookSignature.verify_header(
        payload, sig_header, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE_SECONDS
    )
    event = json.loads(payload)
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise ValueError("not a Stripe event")
    return event


def create_checkout_session(donation, *, product_name, success_url, cancel_url, monthly):
    """A hosted Checkout Session for a pending donation, in `payment` mode (ad-hoc
    `price_data`) or `subscription` mode (monthly). The donation id travels in
    `client_reference_id` and in the metadata of the session and of the payment or
    subscription, so every later event can find it."""
    metadata = {"donation_id": str(donation.pk), "network": donation.network.slug}
    price_data = {
        "currency": donation.currency.lower(),
        "unit_amount": donation.amount_cents,
        "product_data": {"name": product_name[:250]},
    }
    params = {
        "mode": "subscription" if monthly else "payment",
        "line_items": [{"price_data": price_data, "quantity": 1}],
        "client_reference_id": str(donation.pk),
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": "it" if donation.donor_details.get("language", "it") == "it" else "en",
    }
    email = donation.donor_details.get("email")
    if email:
        params["customer_email"] = email
    if monthly:
        price_data["recurring"] = {"interval": "month"}
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["submit_type"] = "donate"
        params["payment_intent_data"] = {"metadata": metadata}
    # Retries of this call reuse the session; the creation time keeps keys unique when a
    # development database is reset and ids start again.
    key = f"checkout-donation-{donation.pk}-{int(donation.created_at.timestamp() * 1e6)}"
    session = _client(donation.network).v1.checkout.sessions.create(
        params=params, options={"idempotency_key": key}
    )
    return {"id": session.id, "url": session.url}


def cancel_subscription(network, subscription_id):
    """Cancel now (https://docs.stripe.com/api/subscriptions/cancel)."""
    sub = _client(network).v1.subscriptions.cancel(subscription_id)
    return sub.to_dict()


def _since(created_gte, limit=100):
    return {"created": {"gte": int(created_gte)}, "limit": limit}


def list_checkout_sessions(network, created_gte):
    client = _client(network)
    page = client.v1.checkout.sessions.list(params=_since(created_gte))
    return [s.to_dict() for s in page.auto_paging_iter()]


def list_paid_invoices(network, created_gte):
    client = _client(network)
    page = client.v1.invoices.list(params={**_since(created_gte), "status": "paid"})
    return [i.to_dict() for i in page.auto_paging_iter()]


def list_refunded_charges(network, created_gte):
    """Charges with a refund created since then (a refund is newer than its charge)."""
    client = _client(network)
    page = client.v1.refunds.list(params=_since(created_gte))
    charge_ids = {r.charge for r in page.auto_paging_iter() if r.charge}
    return [client.v1.charges.retrieve(charge_id).to_dict() for charge_id in sorted(charge_ids)]


def invoice_for_payment_intent(network, payment_intent_id):
    """The invoice a subscription payment belongs to: since API 2025-03-31 charges and
    payment intents no longer name their invoice; invoice payments do
    (https://docs.stripe.com/api/invoice-payment/list)."""
    page = _client(network).v1.invoice_payments.list(
        params={"payment": {"type": "payment_intent", "payment_intent": payment_intent_id}}
    )
    for payment in page.data:
        return payment.invoice if isinstance(payment.invoice, str) else payment.invoice.id
    return None


# --- Plans: https://docs.stripe.com/api/subscriptions/update, billing portal sessions ----------


def retrieve_subscription(network, subscription_id):
    return _client(network).v1.subscriptions.retrieve(subscription_id).to_dict()


def update_subscription(network, subscription_id, params, *, idempotency_key=None):
    options = {"idempotency_key": idempotency_key} if idempotency_key else {}
    sub = _client(network).v1.subscriptions.update(subscription_id, params=params, options=options)
    return sub.to_dict()


def create_card_update_session(network, customer_id, *, return_url, locale):
    """A customer portal session deep-linked to the payment-method update flow
    (https://docs.stripe.com/customer-management/portal-deep-links): the donor gives a new
    card on Stripe's page and comes back to `return_url`."""
    session = _client(network).v1.billing_portal.sessions.create(
        params={
            "customer": customer_id,
            "return_url": return_url,
            "locale": locale,
            "flow_data": {
                "type": "payment_method_update",
                "after_completion": {"type": "redirect", "redirect": {"return_url": return_url}},
            },
        }
    )
    return {"id": session.id, "url": session.url}
