"""Payment methods, payment attempts (card and SEPA Direct Debit) and refunds.

Test numbers follow https://docs.stripe.com/testing: 4242... succeeds; the decline cards
below fail with their ``decline_code``; SEPA IBAN DE89370400440532013000 succeeds after a
delay, DE62370400440532013001 fails after it.
"""

from __future__ import annotations

import asyncio
import re

import stripe.params as sp
from localstripe.resources import (
    BalanceTransaction,
    Charge,
    PaymentIntent,
    PaymentMethod,
    Refund,
)

from . import core, events

# number -> (failure_code, decline_code, message)
DECLINES = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": ("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": (
        "incorrect_cvc",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
    ),
    "4000000000000119": (
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    # Attaches to a customer fine, then every charge fails (used for renewals that fail).
    "4000000000000341": ("card_declined", "generic_decline", "Your card was declined."),
}
GENERIC_DECLINE = DECLINES["4000000000000002"]
FAILING_IBANS = {"DE62370400440532013001"}
SEPA_FAILURE = (
    "insufficient_funds",
    None,
    "The customer's account has insufficient funds to cover this payment.",
)


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number][::-1]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if re.match(r"^(5[1-5]|2[2-7])", number):
        return "mastercard"
    if re.match(r"^3[47]", number):
        return "amex"
    return "unknown"


def card_payment_method(number: str, billing_details: dict) -> PaymentMethod:
    """A card PaymentMethod; raises ValueError with Stripe's message if the number is invalid."""
    number = re.sub(r"\D", "", number or "")
    if len(number) != 16 or not luhn_ok(number):
        raise ValueError("Your card number is invalid.")
    pm = PaymentMethod(
        type="card",
        billing_details=billing_details,
        card={"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
    )
    brand = brand_of(number)
    pm.card.update(
        {
            "brand": brand,
            "country": "US",
            "display_brand": brand,
            "networks": {"available": [brand], "preferred": None},
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "unchecked",
            },
            "generated_from": None,
            "wallet": None,
        }
    )
    pm.card.pop("three_d_secure_usage", None)
    return pm


def sepa_payment_method(iban: str, billing_details: dict) -> PaymentMethod:
    iban = re.sub(r"\s", "", iban or "").upper()
    if not re.match(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$", iban):
        raise ValueError("Your IBAN is invalid.")
    pm = PaymentMethod(
        type="sepa_debit", billing_details=billing_details, sepa_debit={"iban": iban}
    )
    pm.sepa_debit = {
        "bank_code": iban[4:12],
        "branch_code": "",
        "country": iban[:2],
        "fingerprint": pm.sepa_debit["fingerprint"],
        "generated_from": None,
        "last4": iban[-4:],
    }
    return pm


def wallet_payment_method(method: str, billing_details: dict) -> PaymentMethod:
    """A PayPal or Satispay payment method (always approved in test mode). localstripe knows
    only cards and SEPA: built as a card, then made the wallet, with no card details left."""
    pm = PaymentMethod(
        type="card",
        billing_details=billing_details,
        card={"number": "4242424242424242", "exp_month": "12", "exp_year": "2034", "cvc": "123"},
    )
    del pm.card
    pm.type = method
    setattr(pm, method, {"payer_email": billing_details.get("email")} if method == "paypal" else {})
    return pm


def new_payment_intent(
    amount,
    currency,
    customer=None,
    metadata=None,
    description=None,
    receipt_email=None,
    statement_descriptor=None,
    pm_types=None,
):
    pi = PaymentIntent(
        amount=amount, currency=currency, customer=customer, metadata=dict(metadata or {})
    )
    pi.description = description
    pi.receipt_email = receipt_email
    pi.statement_descriptor = statement_descriptor
    pi._pm_types = pm_types or ["card"]
    return pi


def _outcome(ok: bool, decline_code=None, sepa=False):
    return {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network" if ok else "declined_by_network",
        "reason": None if ok else decline_code,
        "risk_level": "not_assessed" if sepa else "normal",
        "risk_score": None if sepa else 20,
        "seller_message": "Payment complete."
        if ok
        else "The bank did not return any further details with this decline.",
        "type": "authorized" if ok else "issuer_declined",
    }


def _method_details(pm) -> dict:
    if pm.type == "sepa_debit":
        return {
            "sepa_debit": {**pm.sepa_debit, "mandate": core.new_id("mandate_")},
            "type": "sepa_debit",
        }
    if pm.type in ("paypal", "satispay"):
        return {pm.type: dict(getattr(pm, pm.type)), "type": pm.type}
    card = pm.card
    return {
        "card": {
            "amount_authorized": None,
            "brand": card["brand"],
            "checks": card["checks"],
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "last4": card["last4"],
            "network": card["brand"],
            "three_d_secure": None,
            "wallet": None,
        },
        "type": "card",
    }


def _billing_details(pm) -> dict:
    bd = pm.billing_details or {}
    return {
        "address": bd.get("address")
        or {
            "city": None,
            "country": None,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
        "email": bd.get("email"),
        "name": bd.get("name"),
        "phone": bd.get("phone"),
        "tax_id": None,
    }


def _settle(charge, pm_type: str) -> None:
    # Stripe's EEA pricing, so balance transactions show realistic fees and nets.
    fee = 35 if pm_type == "sepa_debit" else round(charge.amount * 0.015) + 25
    txn = BalanceTransaction(
        amount=charge.amount,
        currency=charge.currency,
        description=charge.description,
        reporting_category="charge",
        source=charge.id,
        type="charge",
    )
    txn.fee = fee
    txn.fee_details = [
        {
            "amount": fee,
            "application": None,
            "currency": charge.currency,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
    txn.available_on = txn.created + 2 * 86400
    txn.status = "pending"
    charge.balance_transaction = txn.id
    charge.status = "succeeded"


def _fail(charge, failure) -> None:
    charge.status = "failed"
    charge.failure_code, charge._decline_code, charge.failure_message = failure


def attempt(pi, pm, force_fail: bool = False, on_settled=None) -> str:
    """Charge ``pm`` for ``pi`` and emit the PaymentIntent/Charge events Stripe sends.

    Returns ``"succeeded"``, ``"failed"`` or (SEPA) ``"processing"``; for SEPA,
    ``on_settled(ok: bool)`` runs once the debit settles, after the settling events.
    """
    pi.payment_method = pm.id
    pi.latest_charge = None
    charge = Charge(
        amount=pi.amount,
        currency=pi.currency,
        customer=pi.customer,
        source=pm.id,
        description=getattr(pi, "description", None),
        metadata=dict(pi.metadata),
    )
    charge.payment_intent = pi.id
    charge.receipt_email = getattr(pi, "receipt_email", None)
    charge.billing_details = _billing_details(pm)
    charge.payment_method_details = _method_details(pm)
    pi.latest_charge = charge
    pi._pm_types = [pm.type]

    if pm.type == "sepa_debit":
        charge.outcome = _outcome(True, sepa=True)
        events.emit("payment_intent.processing", pi)
        events.emit("charge.pending", charge)
        failing = force_fail or pm._sepa_debit_iban in FAILING_IBANS
        generation = core.generation[0]

        async def settle_later():
            await asyncio.sleep(core.settings["sepa_delay"])
            if generation != core.generation[0]:
                return
            if failing:
                _fail(charge, SEPA_FAILURE)
                charge.outcome = _outcome(False, "insufficient_funds", sepa=True)
                events.emit("payment_intent.payment_failed", pi)
                events.emit("charge.failed", charge)
            else:
                _settle(charge, pm.type)
                events.emit("payment_intent.succeeded", pi)
                events.emit("charge.succeeded", charge)
            if on_settled is not None:
                on_settled(not failing)

        asyncio.ensure_future(settle_later())
        return "processing"

    failure = DECLINES.get(pm._card_number) or (GENERIC_DECLINE if force_fail else None)
    if failure:
        _fail(charge, failure)
        charge.outcome = _outcome(False, failure[1])
        events.emit("payment_intent.payment_failed", pi)
        events.emit("charge.failed", charge)
        return "failed"
    _settle(charge, pm.type)
    charge.outcome = _outcome(True)
    events.emit("payment_intent.succeeded", pi)
    events.emit("charge.succeeded", charge)
    return "succeeded"


# --- refunds: https://docs.stripe.com/api/refunds/create ----------------------------------

REFUND_CREATE = core.param_names(sp.RefundCreateParams)
REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


@core.override("POST", "/v1/refunds")
async def create_refund(request):
    from .disputes import open_dispute_for

    data = await core.read_params(request)
    expand = data.pop("expand", None)
    core.check_known(data, REFUND_CREATE)
    if data.get("payment_intent"):
        pi = core.get(PaymentIntent, data["payment_intent"], "payment_intent")
        charge = pi.latest_charge
        if charge is None or charge.status != "succeeded":
            raise core.error(
                400,
                "This PaymentIntent does not have a successful charge to refund.",
                param="payment_intent",
            )
    elif data.get("charge"):
        charge = core.get(Charge, data["charge"], "charge")
    else:
        raise core.error(
            400,
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
        )
    if charge.status != "succeeded":
        raise core.error(400, "Cannot refund a failed or pending payment.", param="charge")
    if open_dispute_for(charge.id):
        raise core.error(
            400,
            f"Charge {charge.id} has been charged back; cannot issue a refund.",
            "charge_disputed",
        )
    remaining = charge.amount - charge.amount_refunded
    if remaining <= 0:
        raise core.error(
            400, f"Charge {charge.id} has already been refunded.", "charge_already_refunded"
        )
    amount = core.to_int(data["amount"], "amount", 1) if "amount" in data else remaining
    if amount > remaining:
        raise core.error(
            400,
            f"Refund amount ({money(amount, charge.currency)}) is greater than "
            f"unrefunded amount on charge ({money(remaining, charge.currency)})",
            "amount_too_large",
            "amount",
        )
    reason = data.get("reason")
    if reason is not None and reason not in REASONS:
        raise core.invalid("reason", f"Invalid reason: must be one of {', '.join(REASONS)}")
    with core.as_account(getattr(charge, "_account", None) or core.ACCOUNT.get()):
        refund = Refund(
            charge=charge.id, amount=amount, metadata=core.metadata_param(data.get("metadata"))
        )
        refund.payment_intent = charge.payment_intent
        refund.reason = reason
        events.emit("charge.refunded", charge)
        events.emit("refund.created", refund)
    return core.respond(refund, expand)


@core.override("GET", "/v1/refunds")
async def list_refunds(request):
    data = await core.read_params(request)
    filters = []
    if "charge" in data:
        charge = data.pop("charge")
        filters.append(lambda r: r.charge == charge)
    if "payment_intent" in data:
        pi = data.pop("payment_intent")
        filters.append(lambda r: r.payment_intent == pi)
    core.check_known(data, ("created", "ending_before", "limit", "starting_after"))
    return core.respond(core.list_response("/v1/refunds", core.objects_of(Refund), data, filters))


@core.override("GET", "/v1/charges")
async def list_charges(request):
    data = await core.read_params(request)
    filters = []
    for key in ("customer", "payment_intent"):
        if key in data:
            value = data.pop(key)
            filters.append(lambda c, k=key, v=value: getattr(c, k) == v)
    data.pop("transfer_group", None)
    core.check_known(data, ("created", "ending_before", "limit", "starting_after"))
    return core.respond(core.list_response("/v1/charges", core.objects_of(Charge), data, filters))


def install() -> None:
    """Add the events localstripe's own PaymentIntent/Invoice flows (``POST /v1/payment_intents``
    with ``confirm``, ``POST /v1/subscriptions``) leave out: ``charge.*`` and ``invoice.paid``."""
    from localstripe.resources import Invoice

    if getattr(PaymentIntent._on_success, "_standin", False):
        return
    on_success, on_failure = PaymentIntent._on_success, PaymentIntent._report_failure
    on_async_failure, invoice_paid = (
        PaymentIntent._report_async_failure,
        Invoice._on_payment_success,
    )

    def _on_success(self):
        events.emit("charge.succeeded", self.latest_charge)
        on_success(self)

    def _report_failure(self):
        events.emit("charge.failed", self.latest_charge)
        on_failure(self)

    def _report_async_failure(self):
        events.emit("charge.failed", self.latest_charge)
        on_async_failure(self)

    def _on_payment_success(self):
        events.emit("invoice.paid", self)
        invoice_paid(self)

    _on_success._standin = True
    PaymentIntent._on_success = _on_success
    PaymentIntent._report_failure = _report_failure
    PaymentIntent._report_async_failure = _report_async_failure
    Invoice._on_payment_success = _on_payment_success


def routes(app) -> None:
    """Nothing to add: refunds/charges lists and refund creation override localstripe's routes."""
