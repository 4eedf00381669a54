"""The one module that talks to Stripe (or the local stand-in). Nothing is configured at import:
every call builds a client from settings and the Connect account it concerns: a gift's (the
account it is paid on), a plan's, an issuing entity's or a network's (`_account`).

Docs: Checkout Sessions https://docs.stripe.com/api/checkout/sessions/create, direct charges on
connected accounts https://docs.stripe.com/connect/direct-charges (the `Stripe-Account`
header), webhook signatures https://docs.stripe.com/webhooks#verify-events.
"""

import functools
import json

import stripe
from django.conf import settings

from crm.outbound import check_no_transaction

StripeError = stripe.StripeError
SignatureVerificationError = stripe.SignatureVerificationError
InvalidRequestError = stripe.InvalidRequestError
APIConnectionError = stripe.APIConnectionError
WEBHOOK_TOLERANCE_SECONDS = 300  # Stripe's default: older signatures are replays


class _HTTPClient(stripe.RequestsClient):
    """stripe-python's `requests` client (its default) with our timeout, and the one point every
    Stripe request passes through: none may leave while a database transaction is open
    (`crm.outbound`). stripe-python takes a client of ours through `StripeClient(http_client=)`;
    its `HTTPClient` is the "base HTTP client that custom clients can inherit from", and every
    request, retries included, goes through `request` or `request_stream` (stripe/_http_client.py,
    16.1)."""

    def request(self, method, url, headers, post_data=None):
        check_no_transaction(f"Stripe {method.upper()} {url}")
        return super().request(method, url, headers, post_data)

    def request_stream(self, method, url, headers, post_data=None):
        check_no_transaction(f"Stripe {method.upper()} {url}")
        return super().request_stream(method, url, headers, post_data)


CONNECT_TIMEOUT = 5  # seconds: Stripe's API connects in well under one


@functools.cache
def _http_client(timeout):
    """One per process and timeout (it keeps a `requests` session per thread). `requests`
    takes (connect, read) timeouts; the read timeout bounds each wait for the answer."""
    return _HTTPClient(timeout=(min(CONNECT_TIMEOUT, timeout), timeout))


def _account(owner):
    """The Connect account `owner`'s calls go to ('' the platform): a gift's, a plan's, an
    issuing entity's or a network's `stripe_account`, or an account id itself."""
    if owner is None or isinstance(owner, str):
        return owner or ""
    return owner.stripe_account


def stripe_client(network=None, retries=None):
    """A client for the account of `network` (a network, an entity, a gift, a plan or an
    account id: `_account`). `retries`: how many times the SDK repeats a request
    that failed on the network or got 409/5xx (https://docs.stripe.com/error-low-level#idempotency);
    the SDK gives each POST an idempotency key of its own, so its retries never create twice,
    and our creating calls pass keys of ours, so that our own repeats do not either."""
    stripe.enable_telemetry = False  # else it writes ~/.config/stripe/telemetry_id
    if retries is None:
        retries = settings.STRIPE_MAX_NETWORK_RETRIES
    options = {
        "max_network_retries": retries,
        "http_client": _http_client(settings.STRIPE_TIMEOUT),
    }
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    if account := _account(network):
        options["stripe_account"] = account
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, **options)


def key_is_live():
    """True if our secret key is a live one (`sk_live_…`, restricted `rk_live_…`): objects
    made with a test key do not exist for it, and the other way round
    (https://docs.stripe.com/keys#test-live-modes)."""
    return str(settings.STRIPE_SECRET_KEY or "").startswith(("sk_live_", "rk_live_"))


def verify_event(payload, sig_header):
    """The event as a plain dict if `payload` carries a valid, fresh signature made with one of
    our endpoints' secrets; raises SignatureVerificationError or ValueError otherwise.

    `WebhookSignature.verify_header` is the check `Webhook.construct_event` makes
    (https://docs.stripe.com/webhooks#verify-official-libraries); we skip the StripeObject tree
    construct_event would build from a second parse, since handlers read plain dicts."""
    # The platform's endpoint, then the Connect endpoint (events of connected accounts: each
    # endpoint has its own secret, https://docs.stripe.com/connect/webhooks).
    secrets = [settings.STRIPE_WEBHOOK_SECRET]
    if settings.STRIPE_CONNECT_WEBHOOK_SECRET:
        secrets.append(settings.STRIPE_CONNECT_WEBHOOK_SECRET)
    for n, secret in enumerate(secrets):
        try:
            stripe.WebhookSignature.verify_header(
                payload, sig_header, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
            break
        except SignatureVerificationError:
            if n == len(secrets) - 1:
                raise
    event = json.loads(payload)
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise ValueError("not a Stripe event")
    return event


# Methods Trama records from the charge when a session offers them (`stripe_reads`).
WALLETS = ("paypal", "satispay")


def payment_method_types(network, currency: str, *, monthly: bool) -> list[str] | None:
    """The methods a gift's Checkout offers: None (Stripe's default, card and SEPA Direct
    Debit in euro, as before) unless the network offers PayPal or Satispay; then card, SEPA in
    euro and the chosen ones, for one-off gifts in euro only (Satispay has no subscriptions;
    a monthly PayPal charge would need its method read from each invoice, not done yet)."""
    chosen = [m for m in WALLETS if getattr(network, f"offer_{m}")]
    if monthly or currency.lower() != "eur" or not chosen:
        return None
    return ["card", "sepa_debit", *chosen]


def create_checkout_session(
    donation, *, product_name, success_url, cancel_url, monthly, noted=None
):
    """A hosted Checkout Session for a pending donation, in `payment` mode (ad-hoc
    `price_data`) or `subscription` mode (monthly). The donation id travels in
    `client_reference_id` and in the metadata of the session and of the payment or
    subscription, so every later event can find it."""
    # `noted`: what another app asked the session to carry (a personal page's slug)
    metadata = {**(noted or {}), "donation_id": str(donation.pk), "network": donation.network.slug}
    if donation.message_token:  # the email the donor came through, also on the subscription
        metadata["message_token"] = donation.message_token
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
    methods = payment_method_types(donation.network, donation.currency, monthly=monthly)
    if methods:  # `payment_method_types` is `allowed_payment_method_types` since 2026-09-30
        params["allowed_payment_method_types"] = methods
    if monthly:
        price_data["recurring"] = {"interval": "month"}
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["submit_type"] = "donate"
        params["payment_intent_data"] = {"metadata": metadata}
    # Retries of this call reuse the session; the creation time keeps keys unique when a
    # development database is reset and ids start again. One retry: the donor is waiting.
    key = f"checkout-donation-{donation.pk}-{int(donation.created_at.timestamp() * 1e6)}"
    # On the gift's account: its entity's own, else the network's (direct charges).
    session = stripe_client(donation, retries=1).v1.checkout.sessions.create(
        params=params, options={"idempotency_key": key}
    )
    return {"id": session.id, "url": session.url}


def create_lines_session(
    network,
    *,
    lines,
    metadata,
    reference,
    email,
    language,
    success_url,
    cancel_url,
    key,
    expires_at=None,
):
    """A hosted Checkout Session in `payment` mode with one line per `(name, unit cents,
    quantity)` (another app's purchase: an event's tickets and the gift on top). The metadata
    travels on the session and its payment; `key` is the idempotency key (one retry)."""
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": cents,
                    "product_data": {"name": name[:250]},
                },
                "quantity": quantity,
            }
            for name, cents, quantity in lines
        ],
        "client_reference_id": reference,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": "it" if language == "it" else "en",
        "customer_email": email,
    }
    if expires_at is not None:  # what it holds (tickets) goes back on sale when it expires
        params["expires_at"] = int(expires_at)
    session = stripe_client(network, retries=1).v1.checkout.sessions.create(
        params=params, options={"idempotency_key": key}
    )
    return {"id": session.id, "url": session.url}


def expire_checkout_session(network, session_id):
    """Close an open Checkout Session: "after it expires, a customer can't complete" it
    (https://docs.stripe.com/api/checkout/sessions/expire). Stripe expires only an `open`
    session; the answer is the session's status afterwards: "expired", or "complete" if it
    was paid first."""
    client = stripe_client(network, retries=1)
    try:
        return client.v1.checkout.sessions.expire(session_id).status
    except InvalidRequestError:  # not open any more: say what it became
        return client.v1.checkout.sessions.retrieve(session_id).status


def cancel_subscription(network, subscription_id):
    """Cancel now (https://docs.stripe.com/api/subscriptions/cancel)."""
    sub = stripe_client(network).v1.subscriptions.cancel(subscription_id)
    return sub.to_dict()


def invoice_for_payment_intent(network, payment_intent_id):
    """The invoice a subscription payment belongs to: since API 2025-03-31 charges and
    payment intents no longer name their invoice; invoice payments do
    (https://docs.stripe.com/api/invoice-payment/list)."""
    page = stripe_client(network, retries=1).v1.invoice_payments.list(
        params={"payment": {"type": "payment_intent", "payment_intent": payment_intent_id}}
    )
    for payment in page.data:
        return payment.invoice if isinstance(payment.invoice, str) else payment.invoice.id
    return None


# --- Balance, payouts and what reconcile walks -----------------------------------------------
# https://docs.stripe.com/api/balance_transactions, https://docs.stripe.com/api/payouts,
# https://docs.stripe.com/expand (at most four levels deep).


def payment_charge(network, payment_intent_id):
    """The payment's charge with its balance transaction expanded, in one call
    (https://docs.stripe.com/payments/payment-intents/verifying-status#fees); None if it
    has no charge yet."""
    intent = stripe_client(network, retries=0).v1.payment_intents.retrieve(
        payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
    )
    charge = intent.to_dict().get("latest_charge")
    return charge if isinstance(charge, dict) else None


def invoice_charge(network, invoice_id):
    """A subscription invoice's charge with its balance transaction: its invoice payment names
    the payment intent (API 2025-03-31 and later), whose charge comes expanded."""
    page = stripe_client(network, retries=0).v1.invoice_payments.list(
        params={"invoice": invoice_id, "limit": 10}
    )
    payments = sorted((p.to_dict() for p in page.data), key=lambda p: p.get("status") != "paid")
    for payment in payments:
        intent = (payment.get("payment") or {}).get("payment_intent")
        intent_id = intent.get("id") if isinstance(intent, dict) else intent
        if intent_id:
            return payment_charge(network, intent_id)
    return None


def retrieve_payout(network, payout_id):
    return stripe_client(network).v1.payouts.retrieve(payout_id).to_dict()


def payout_transactions(network, payout_id):
    """The balance transactions a payout paid out, with their source objects, page by page
    (a generator: a payout can hold tens of thousands)."""
    page = stripe_client(network).v1.balance_transactions.list(
        params={"payout": payout_id, "expand": ["data.source"], "limit": 100}
    )
    for transaction in page.auto_paging_iter():
        yield transaction.to_dict()


def _invoice_payment_intent(client, invoice_id):
    """The payment intent that paid a subscription's invoice (charges do not name invoices
    since API 2025-03-31; invoice payments do)."""
    page = client.v1.invoice_payments.list(params={"invoice": invoice_id, "limit": 10})
    for payment in page.data:
        if payment.payment and getattr(payment.payment, "payment_intent", None):
            intent = payment.payment.payment_intent
            return intent if isinstance(intent, str) else intent.id
    return None


def create_refund(donation, *, amount_cents, metadata, idempotency_key):
    """Refund `amount_cents` of a gift's payment on the account it was paid on
    (https://docs.stripe.com/api/refunds/create), the charge expanded so that the caller reads
    the total refunded so far (`charge.amount_refunded`). The idempotency key makes a retried
    call return the same refund instead of a second one. Returns the refund as a dict."""
    client = stripe_client(donation)
    params = {
        "amount": amount_cents,
        "reason": "requested_by_customer",
        "metadata": metadata,
        "expand": ["charge"],
    }
    if donation.stripe_charge_id:
        params["charge"] = donation.stripe_charge_id
    elif donation.stripe_payment_intent_id:
        params["payment_intent"] = donation.stripe_payment_intent_id
    elif donation.stripe_invoice_id:
        params["payment_intent"] = _invoice_payment_intent(client, donation.stripe_invoice_id)
    if not params.get("charge") and not params.get("payment_intent"):
        raise ValueError(f"donation {donation.pk} has no Stripe payment to refund")
    refund = client.v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
    return refund.to_dict()


def retrieve_charge(network, charge_id):
    """A charge as Stripe has it now (its `amount_refunded` is the total refunded so far).
    One retry: a webhook waits on it, and Stripe delivers the event again if it fails."""
    return stripe_client(network, retries=1).v1.charges.retrieve(charge_id).to_dict()


# --- Plans: https://docs.stripe.com/api/subscriptions/update, billing portal sessions ----------


def retrieve_subscription(network, subscription_id):
    return stripe_client(network).v1.subscriptions.retrieve(subscription_id).to_dict()


def update_subscription(network, subscription_id, params, *, idempotency_key=None):
    options = {"idempotency_key": idempotency_key} if idempotency_key else {}
    sub = stripe_client(network).v1.subscriptions.update(
        subscription_id, params=params, options=options
    )
    return sub.to_dict()


def create_card_update_session(network, customer_id, *, return_url, locale):
    """A customer portal session deep-linked to the payment-method update flow
    (https://docs.stripe.com/customer-management/portal-deep-links): the donor gives a new
    card on Stripe's page and comes back to `return_url`."""
    session = stripe_client(network).v1.billing_portal.sessions.create(
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
