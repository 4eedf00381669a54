"""Disputes (https://docs.stripe.com/api/disputes/object), which localstripe lacks.

Stripe opens disputes when a cardholder's bank says so; here a test-control endpoint does:

- ``POST /_standin/charges/{ch_id}/dispute`` (optional ``reason``, ``amount``)
  -> ``charge.dispute.created`` (status ``needs_response``)
- ``POST /_standin/disputes/{du_id}/close?status=won|lost`` -> ``charge.dispute.closed``
- ``POST /v1/disputes/{id}/close`` (the real API: accept the dispute) -> status ``lost``,
  ``charge.dispute.closed``; ``GET /v1/disputes``, ``GET /v1/disputes/{id}``.
"""

from __future__ import annotations

from localstripe.resources import Charge, StripeObject

from . import balance, core, events

REASONS = (
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "noncompliant",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
)
OPEN = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
EVIDENCE_FIELDS = (
    "access_activity_log",
    "appeal",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)


class Dispute(StripeObject):
    object = "dispute"
    _id_prefix = "du_"

    def __init__(self, charge, amount: int, reason: str):
        super().__init__(id=core.new_id("du_"))
        self.amount = amount
        self.balance_transactions = []
        self.charge = charge.id
        self.currency = charge.currency
        self.enhanced_eligibility_types = []
        self.evidence = dict.fromkeys(EVIDENCE_FIELDS) | {"enhanced_evidence": {}}
        self.evidence_details = {
            "due_by": self.created + 7 * 86400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
            "submission_method": None,
        }
        self.is_charge_refundable = False
        self.metadata = {}
        self.network_reason_code = None
        self.payment_intent = charge.payment_intent
        details = getattr(charge, "payment_method_details", None) or {"type": "card", "card": {}}
        self.payment_method_details = {
            "card": {
                "brand": details.get("card", {}).get("brand"),
                "case_type": "chargeback",
                "network_reason_code": None,
            },
            "type": "card",
        }
        self.reason = reason
        self.status = "needs_response"


def open_dispute_for(charge_id: str):
    for dispute in core.objects_of(Dispute):
        if dispute.charge == charge_id and dispute.status in OPEN:
            return dispute
    return None


async def create(request):
    charge = core.get(Charge, request.match_info["id"], "charge")
    data = await core.read_params(request)
    reason = data.get("reason", "fraudulent")
    if reason not in REASONS:
        raise core.invalid("reason", f"reason must be one of {', '.join(REASONS)}")
    if charge.status != "succeeded":
        raise core.error(400, "Only succeeded charges can be disputed.")
    if open_dispute_for(charge.id):
        raise core.error(400, f"Charge {charge.id} already has an open dispute.")
    amount = core.to_int(data.get("amount", charge.amount - charge.amount_refunded), "amount", 1)
    with core.as_account(getattr(charge, "_account", None)):
        dispute = Dispute(charge, amount, reason)
        balance.dispute_opened(dispute)
        events.emit("charge.dispute.created", dispute)
    return core.respond(dispute)


def _close(dispute, status: str):
    if dispute.status not in OPEN:
        raise core.error(400, f"Dispute {dispute.id} is already closed ({dispute.status}).")
    with core.as_account(getattr(dispute, "_account", None)):
        previous = {"status": dispute.status}
        dispute.status = status
        dispute.is_charge_refundable = False
        balance.dispute_closed(dispute)
        events.emit("charge.dispute.closed", dispute, previous_attributes=previous)
    return dispute


async def close_control(request):
    dispute = core.get(Dispute, request.match_info["id"])
    data = await core.read_params(request)
    status = data.get("status", "won")
    if status not in ("won", "lost"):
        raise core.invalid("status", "status must be won or lost")
    return core.respond(_close(dispute, status))


async def close_api(request):  # https://docs.stripe.com/api/disputes/close
    dispute = core.get(Dispute, request.match_info["id"])
    data = await core.read_params(request)
    return core.respond(_close(dispute, "lost"), data.get("expand"))


async def retrieve(request):
    data = await core.read_params(request)
    return core.respond(core.get(Dispute, request.match_info["id"]), data.get("expand"))


async def list_all(request):
    data = await core.read_params(request)
    filters = []
    for key in ("charge", "payment_intent"):
        if key in data:
            value = data.pop(key)
            filters.append(lambda d, k=key, v=value: getattr(d, k) == v)
    core.check_known(data, ("created", "ending_before", "limit", "starting_after"))
    return core.respond(core.list_response("/v1/disputes", core.objects_of(Dispute), data, filters))


def routes(app) -> None:
    app.router.add_post("/_standin/charges/{id}/dispute", create)
    app.router.add_post("/_standin/disputes/{id}/close", close_control)
    app.router.add_get("/v1/disputes", list_all)
    app.router.add_get("/v1/disputes/{id}", retrieve)
    app.router.add_post("/v1/disputes/{id}/close", close_api)
