"""What happens when the customer presses "Pay" on the hosted page.

Event sequences (https://docs.stripe.com/checkout/fulfillment,
https://docs.stripe.com/payments/checkout/how-checkout-works#lifecycle):

- payment, card: ``payment_intent.succeeded``, ``charge.succeeded``,
  ``checkout.session.completed`` (plus ``customer.created`` first if a customer is created:
  only with ``customer_creation=always``; the default ``if_required`` leaves ``customer`` null).
- subscription, card: ``customer.created`` (unless ``customer`` was given),
  ``payment_method.attached``, ``customer.subscription.created`` (status ``active``),
  ``invoice.created``, ``invoice.finalized``, ``payment_intent.succeeded``,
  ``charge.succeeded``, ``invoice.paid``, ``invoice.payment_succeeded``,
  ``checkout.session.completed``.
- SEPA Direct Debit: as above but the payment is ``processing`` (``payment_intent.processing``,
  ``charge.pending``), the session completes with ``payment_status=unpaid``; after
  ``settings["sepa_delay"]`` s: ``payment_intent.succeeded``, ``charge.succeeded``
  (subscription: ``invoice.paid``, ``invoice.payment_succeeded``), then
  ``checkout.session.async_payment_succeeded`` -- or the ``*_failed`` counterparts.
- declined card: ``payment_intent.payment_failed``, ``charge.failed``; the session stays open.
"""

from __future__ import annotations

from localstripe.resources import Customer

from . import billing, core, events, payments


class PaymentError(Exception):
    """Shown to the customer on the hosted page."""


def success_redirect(session) -> str:
    if session.success_url:
        return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)
    return f"/checkout/pay/{session.id}"


def pay(session, form: dict) -> str:
    """Process the hosted page's form; return the URL to redirect to or raise PaymentError."""
    if session.status != "open":
        raise PaymentError("This Checkout Session is no longer active.")
    method = form.get("method") or "card"
    if method not in session.payment_method_types:
        raise PaymentError("This payment method is not available.")
    existing = Customer._api_retrieve(session.customer) if session.customer else None
    email = (
        (existing.email if existing else None)
        or session.customer_email
        or (form.get("email") or "").strip()
    )
    if not email:
        raise PaymentError("Your email address is incomplete.")
    name = (form.get("name") or "").strip() or None
    if method == "sepa_debit" and not name:
        raise PaymentError("Your name is required for SEPA Direct Debit.")
    billing_details = {"address": None, "email": email, "name": name, "phone": None}
    with core.as_account(session._account):
        try:
            if method == "card":
                pm = payments.card_payment_method(form.get("card_number"), billing_details)
            elif method in ("paypal", "satispay"):
                pm = payments.wallet_payment_method(method, billing_details)
            else:
                pm = payments.sepa_payment_method(form.get("iban"), billing_details)
        except ValueError as exc:
            raise PaymentError(str(exc)) from None
        if pm.type == "card" and pm._card_number in payments.DECLINES:
            _decline(session, pm)
        if session.mode == "payment":
            _pay_once(session, pm, existing, email, name)
        else:
            _subscribe(session, pm, existing, email, name)
    return success_redirect(session)


def _payment_intent(session, customer_id):
    if session._pi is None:
        data = session._pi_data
        session._pi = payments.new_payment_intent(
            session.amount_total,
            session.currency,
            customer=customer_id,
            metadata=data.get("metadata"),
            description=data.get("description"),
            receipt_email=data.get("receipt_email"),
            statement_descriptor=data.get("statement_descriptor"),
            pm_types=session.payment_method_types,
        )
        if session.mode == "payment":
            session.payment_intent = session._pi.id
    elif customer_id:
        session._pi.customer = customer_id
    return session._pi


def _decline(session, pm):
    # Simplification: in subscription mode Stripe would fail the first invoice's
    # PaymentIntent; here a bare PaymentIntent fails and nothing else is created.
    pi = _payment_intent(session, session.customer)
    payments.attempt(pi, pm)
    raise PaymentError(pi.latest_charge.failure_message)


def _async_settled(session):
    def settled(ok: bool):
        session.payment_status = "paid" if ok else "unpaid"
        kind = "succeeded" if ok else "failed"
        events.emit(f"checkout.session.async_payment_{kind}", session)

    return settled


def _pay_once(session, pm, existing, email, name):
    customer = existing
    if customer is None and session.customer_creation == "always":
        customer = Customer(email=email, name=name)
    pi = _payment_intent(session, customer.id if customer else None)
    outcome = payments.attempt(pi, pm, on_settled=_async_settled(session))
    _complete(session, customer, email, name, paid=outcome == "succeeded")


def _subscribe(session, pm, existing, email, name):
    customer = existing or Customer(email=email, name=name)
    pm.customer = customer.id
    events.emit("payment_method.attached", pm)
    item = session._line_items[0]
    sub_data = session._sub_data
    sub, invoice = billing.create_subscription(
        customer,
        item["price"],
        item["quantity"],
        pm,
        metadata=sub_data.get("metadata"),
        description=sub_data.get("description"),
    )
    session.subscription = sub.id
    session.invoice = invoice.id
    events.emit("customer.subscription.created", sub)
    billing.finalize(invoice)
    settled = _async_settled(session) if pm.type == "sepa_debit" else None
    outcome = billing.pay(invoice, pm, on_settled=settled)
    _complete(session, customer, email, name, paid=outcome == "succeeded")


def _complete(session, customer, email, name, paid: bool):
    session.status = "complete"
    session.payment_status = "paid" if paid else "unpaid"
    session.customer = customer.id if customer else None
    session.customer_details = {
        "address": {
            "city": None,
            "country": None,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": name,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }
    session.url = None
    events.emit("checkout.session.completed", session)
