"""Refunds that fail after they were created, which localstripe lacks.

A refund can fail later (the card was closed: ``failure_reason`` ``expired_or_canceled_card``);
the money comes back to the balance, the charge's ``amount_refunded`` goes down, and Stripe
sends ``refund.updated``, ``refund.failed`` and ``charge.refund.updated``
(https://docs.stripe.com/refunds#failed-refunds,
https://docs.stripe.com/api/refunds/object#refund_object-failure_reason,
https://docs.stripe.com/changelog/acacia/2024-10-28/refund-webhook-update).

- ``POST /_standin/refunds/{re_id}/fail`` [``failure_reason``] (test control).
"""

from localstripe.resources import Charge, Refund

from . import core, events

FAILURE_REASONS = ("lost_or_stolen_card", "expired_or_canceled_card", "unknown")
COUNTED_REFUNDS = ("pending", "requires_action", "succeeded")


def _amount_refunded(charge) -> int:
    return sum(r.amount for r in charge.refunds._list if r.status in COUNTED_REFUNDS)


async def fail_refund(request):
    refund = core.get(Refund, request.match_info["id"])
    data = await core.read_params(request)
    reason = data.get("failure_reason", "expired_or_canceled_card")
    if reason not in FAILURE_REASONS:
        raise core.invalid("failure_reason", f"Invalid failure_reason: {reason}")
    if refund.status not in COUNTED_REFUNDS:
        raise core.error(400, f"Refund {refund.id} has already {refund.status}.")
    charge = core.get(Charge, refund.charge, "charge")
    with core.as_account(getattr(charge, "_account", None) or core.ACCOUNT.get()):
        previous = {"status": refund.status, "failure_reason": None}
        refund.status = "failed"
        refund.failure_reason = reason
        events.emit("refund.updated", refund, previous_attributes=previous)
        events.emit("refund.failed", refund)
        events.emit("charge.refund.updated", refund, previous_attributes=previous)
    return core.respond(refund)


def install() -> None:
    """A failed or cancelled refund gives its amount back to the charge, as at Stripe."""
    Charge.amount_refunded = property(_amount_refunded)


def routes(app) -> None:
    app.router.add_post("/_standin/refunds/{id}/fail", fail_refund)
