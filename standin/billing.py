"""Subscriptions and invoices: creation from Checkout, renewals, failures, updates, cancels.

Invoice shape and event flow: https://docs.stripe.com/billing/subscriptions/webhooks
(``invoice.created`` -> ``invoice.finalized`` -> payment events -> ``invoice.paid`` +
``invoice.payment_succeeded``, or ``invoice.payment_failed`` and the subscription goes
``past_due``). Invoice payments: https://docs.stripe.com/api/invoice-payment
"""

from __future__ import annotations

from datetime import UTC, datetime

import stripe.params as sp
from dateutil.relativedelta import relativedelta
from localstripe.resources import (
    Customer,
    Invoice,
    PaymentMethod,
    StripeObject,
    Subscription,
)

from . import core, events, payments, prices, subscription_changes

RETRY_AFTER = 3 * 86400  # Smart Retries' first retry is a few days later


def add_interval(ts: int, interval: str, count: int = 1) -> int:
    delta = {
        "day": relativedelta(days=count),
        "week": relativedelta(weeks=count),
        "month": relativedelta(months=count),
        "year": relativedelta(years=count),
    }[interval]
    return int((datetime.fromtimestamp(ts, tz=UTC) + delta).timestamp())


class InvoicePayment(StripeObject):
    object = "invoice_payment"
    _id_prefix = "inpay_"

    def __init__(self, invoice, pi):
        super().__init__(id=core.new_id("inpay_"))
        self.amount_paid = None
        self.amount_requested = invoice.total
        self.currency = invoice.currency
        self.invoice = invoice.id
        self.is_default = True
        self.payment = {"payment_intent": pi.id, "type": "payment_intent"}
        self.status = "open"
        self.status_transitions = {"canceled_at": None, "paid_at": None}


def create_subscription(customer, price, quantity: int, pm, metadata=None, description=None):
    """A subscription (and its draft first invoice) as Checkout creates them; no events yet."""
    plan = prices.plan_for(price)
    with events.quiet():
        # trial_period_days=0 stops localstripe from creating and paying an invoice itself.
        sub = Subscription(
            customer=customer.id,
            metadata=dict(metadata or {}),
            items=[{"plan": plan.id, "quantity": quantity}],
            trial_period_days=0,
        )
    start = core.now()
    sub._period = (start, add_interval(start, plan.interval, plan.interval_count))
    sub.start_date = sub.billing_cycle_anchor = start
    sub.default_payment_method = pm.id
    sub.description = description
    sub.status = "active"  # since 2025-03-31 Checkout creates it once payment is confirmed
    invoice = new_invoice(sub, "subscription_create", (start, start))
    return sub, invoice


def new_invoice(sub, billing_reason: str, period: tuple[int, int]):
    with core.as_account(sub._account), events.quiet():
        invoice = Invoice(
            customer=sub.customer, subscription=sub.id, items=[sub.items._list[0]], date=core.now()
        )
    invoice.billing_reason = billing_reason
    invoice.period_start, invoice.period_end = period
    invoice.attempted, invoice.attempt_count = False, 0
    invoice._subscription_metadata = dict(sub.metadata)
    return invoice


def finalize(invoice) -> None:
    """Emit ``invoice.created`` (draft) then finalize and emit ``invoice.finalized``."""
    events.emit("invoice.created", invoice)
    invoice._finalize()
    customer = Customer._api_retrieve(invoice.customer)
    customer._invoice_count = getattr(customer, "_invoice_count", 0) + 1
    invoice.number = f"{customer.id[4:12].upper()}-{customer._invoice_count:04d}"
    events.emit("invoice.finalized", invoice)


def pay(invoice, pm, force_fail: bool = False, on_settled=None) -> str:
    """Attempt payment of a finalized invoice; emits payment then invoice events."""
    description = (
        "Subscription creation"
        if invoice.billing_reason == "subscription_create"
        else "Subscription update"
    )
    pi = payments.new_payment_intent(
        invoice.total,
        invoice.currency,
        customer=invoice.customer,
        description=description,
        pm_types=[pm.type],
    )
    pi.invoice = invoice.id  # internal link only (removed from the API in 2025-03-31)
    invoice.payment_intent = pi.id  # localstripe derives invoice.status from it
    invoice_payment = InvoicePayment(invoice, pi)
    invoice.attempted = True
    invoice.attempt_count += 1

    def settled(ok: bool):
        if ok:
            paid_at = core.now()
            invoice.status_transitions["paid_at"] = paid_at
            invoice_payment.status = "paid"
            invoice_payment.amount_paid = invoice.total
            invoice_payment.status_transitions["paid_at"] = paid_at
            events.emit("invoice.paid", invoice)
            events.emit("invoice.payment_succeeded", invoice)
        else:
            invoice._next_attempt = core.now() + RETRY_AFTER
            events.emit("invoice.payment_failed", invoice)
            _set_status(Subscription._api_retrieve(invoice.subscription), "past_due")
        if on_settled is not None:
            on_settled(ok)

    outcome = payments.attempt(pi, pm, force_fail=force_fail, on_settled=settled)
    if outcome != "processing":
        settled(outcome == "succeeded")
    return outcome


def _set_status(sub, status: str) -> None:
    if sub.status != status:
        previous = {"status": sub.status}
        sub.status = status
        events.emit("customer.subscription.updated", sub, previous_attributes=previous)


def _end(sub) -> None:
    sub.status = "canceled"
    sub.ended_at = core.now()
    sub.canceled_at = sub.canceled_at or sub.ended_at
    events.emit("customer.subscription.deleted", sub)


def cycle(sub, force_fail: bool = False):
    """Advance to the next period: what Stripe does at ``current_period_end``. A trial that
    ends starts the price's interval from then; a paused subscription (``pause_collection``)
    gets its invoice voided (``behavior: void``) instead of charged, unless ``resumes_at`` has
    come (https://docs.stripe.com/billing/subscriptions/pause-payment)."""
    if sub.status in ("canceled", "incomplete_expired"):
        raise core.error(400, f"Subscription {sub.id} is {sub.status}.")
    with core.as_account(sub._account):
        start, end = sub._period
        if sub.cancel_at_period_end or (sub.cancel_at and sub.cancel_at <= end):
            _end(sub)
            return sub
        before = sub._export()
        plan = sub.plan
        sub._period = (end, add_interval(end, plan.interval, plan.interval_count))
        if sub.status == "trialing":
            sub.status = "active"
            sub._trial_end = None
            sub._trial_start = None
        pause = getattr(sub, "pause_collection", None)
        if pause and pause.get("resumes_at") and pause["resumes_at"] <= end:
            sub.pause_collection = pause = None
        invoice = new_invoice(sub, "subscription_cycle", (start, end))
        after = sub._export()
        events.emit(
            "customer.subscription.updated",
            sub,
            previous_attributes={
                k: before[k]
                for k in ("items", "latest_invoice", "status", "pause_collection", "trial_end")
                if before[k] != after[k]
            },
        )
        if pause:
            subscription_changes.void_paused(invoice, pause)
            return sub
        finalize(invoice)
        pm = PaymentMethod._api_retrieve(sub.default_payment_method)

        def settled(ok: bool):
            if ok and sub.status == "past_due":
                _set_status(sub, "active")

        pay(invoice, pm, force_fail=force_fail, on_settled=settled)
    return sub


async def renew(request):
    sub = core.get(Subscription, request.match_info["id"])
    return core.respond(cycle(sub))


async def fail(request):
    sub = core.get(Subscription, request.match_info["id"])
    return core.respond(cycle(sub, force_fail=True))


# --- real API: https://docs.stripe.com/api/subscriptions/update and /cancel ---------------

SUB_UPDATE = core.param_names(sp.SubscriptionModifyParams)
SUB_CANCEL = core.param_names(sp.SubscriptionCancelParams)
SUPPORTED_UPDATE = {
    "items",
    "pause_collection",
    "trial_end",
    "cancel_at",
    "cancel_at_period_end",
    "cancellation_details",
    "default_payment_method",
    "description",
    "metadata",
    "proration_behavior",
}
FEEDBACK = (
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
)


def _cancellation_details(value, reason):
    value = value if isinstance(value, dict) else {}
    core.check_known(value, ("comment", "feedback"), "cancellation_details")
    if value.get("feedback") and value["feedback"] not in FEEDBACK:
        raise core.invalid("cancellation_details[feedback]", "Invalid feedback")
    return {
        "comment": value.get("comment") or None,
        "feedback": value.get("feedback") or None,
        "reason": reason,
    }


@core.override("POST", r"/v1/subscriptions/[^/]+")
async def update_subscription(request):
    sub = core.get(Subscription, request.match_info["id"])
    data = await core.read_params(request)
    expand = data.pop("expand", None)
    core.check_known(data, SUB_UPDATE)
    others = {k: data.pop(k) for k in set(data) - SUPPORTED_UPDATE}
    if sub.status == "canceled":
        raise core.error(
            400, "A canceled subscription can only update its cancellation_details and metadata."
        )
    before = sub._export()
    now = core.now()
    if "cancel_at_period_end" in data:
        flag = core.to_bool(data["cancel_at_period_end"], "cancel_at_period_end")
        sub.cancel_at_period_end = flag
        sub.cancel_at = sub._period[1] if flag else None
        sub.canceled_at = now if flag else None
        sub.cancellation_details = _cancellation_details(
            data.get("cancellation_details"), "cancellation_requested" if flag else None
        )
    elif "cancel_at" in data:
        sub.cancel_at = core.to_int(data["cancel_at"], "cancel_at") if data["cancel_at"] else None
        sub.canceled_at = now if sub.cancel_at else None
        sub.cancellation_details = _cancellation_details(
            data.get("cancellation_details"), "cancellation_requested" if sub.cancel_at else None
        )
    elif "cancellation_details" in data:
        reason = (getattr(sub, "cancellation_details", None) or {}).get("reason")
        sub.cancellation_details = _cancellation_details(data["cancellation_details"], reason)
    if "metadata" in data:
        sub.metadata = core.metadata_param(data["metadata"], current=sub.metadata)
    if "description" in data:
        sub.description = data["description"] or None
    if data.get("default_payment_method"):
        sub.default_payment_method = core.get(
            PaymentMethod, data["default_payment_method"], "default_payment_method"
        ).id
    if "items" in data:
        subscription_changes.update_items(sub, data["items"], data.get("proration_behavior"))
    if "pause_collection" in data:
        sub.pause_collection = subscription_changes.pause_collection(data["pause_collection"])
    if "trial_end" in data:
        subscription_changes.start_trial(sub, data["trial_end"], now)
    if others:  # localstripe's own (partial) implementation
        try:
            sub._update(**others)
        except TypeError:
            raise core.error(
                400,
                f"standin: updating {', '.join(sorted(others))} is not "
                "supported by the local Stripe stand-in.",
            ) from None
    after = sub._export()
    changed = {k: before[k] for k in after if before[k] != after[k]}
    if changed:
        with core.as_account(sub._account):
            events.emit("customer.subscription.updated", sub, previous_attributes=changed)
    return core.respond(sub, expand)


@core.override("GET", r"/v1/subscriptions/[^/]+")
async def retrieve_subscription(request):
    """Stripe's "No such subscription: 'sub_...'" (``resource_missing``, param ``id``) for an
    unknown id, where localstripe answers a bare "Not Found"."""
    data = await core.read_params(request)
    sub = core.get(Subscription, request.match_info["id"])
    if sub._account != core.ACCOUNT.get():
        raise core.error(404, f"No such subscription: '{sub.id}'", "resource_missing", "id")
    return core.respond(sub, data.get("expand"))


@core.override("DELETE", r"/v1/subscriptions/[^/]+")
async def cancel_subscription(request):
    sub = core.get(Subscription, request.match_info["id"])
    data = await core.read_params(request)
    expand = data.pop("expand", None)
    core.check_known(data, SUB_CANCEL)
    if sub.status == "canceled":
        raise core.error(400, f"Subscription {sub.id} is already canceled.")
    sub.cancellation_details = _cancellation_details(
        data.get("cancellation_details"), "cancellation_requested"
    )
    sub.canceled_at = core.now()
    with core.as_account(sub._account):
        _end(sub)
    return core.respond(sub, expand)


@core.override("GET", "/v1/invoices")
async def list_invoices(request):
    data = await core.read_params(request)
    filters = []
    for key in ("customer", "subscription", "status", "collection_method"):
        if key in data:  # all four are plain attributes/properties on localstripe's Invoice
            value = data.pop(key)
            filters.append(lambda i, k=key, v=value: getattr(i, k) == v)
    core.check_known(data, ("created", "due_date", "ending_before", "limit", "starting_after"))
    data.pop("due_date", None)
    return core.respond(core.list_response("/v1/invoices", core.objects_of(Invoice), data, filters))


async def list_invoice_payments(request):
    data = await core.read_params(request)
    filters = []
    if "invoice" in data:
        invoice_id = data.pop("invoice")
        filters.append(lambda p: p.invoice == invoice_id)
    if isinstance(data.get("payment"), dict):
        pi_id = data.pop("payment").get("payment_intent")
        filters.append(lambda p: p.payment["payment_intent"] == pi_id)
    if "status" in data:
        status = data.pop("status")
        filters.append(lambda p: p.status == status)
    core.check_known(data, ("created", "ending_before", "limit", "starting_after"))
    return core.respond(
        core.list_response("/v1/invoice_payments", core.objects_of(InvoicePayment), data, filters)
    )


async def retrieve_invoice_payment(request):
    data = await core.read_params(request)
    return core.respond(core.get(InvoicePayment, request.match_info["id"]), data.get("expand"))


def routes(app) -> None:
    app.router.add_post("/_standin/subscriptions/{id}/renew", renew)
    app.router.add_post("/_standin/subscriptions/{id}/fail", fail)
    app.router.add_get("/v1/invoice_payments", list_invoice_payments)
    app.router.add_get("/v1/invoice_payments/{id}", retrieve_invoice_payment)
