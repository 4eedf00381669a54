"""Changes to a subscription that localstripe lacks: a new price on its item (amount or
interval, never prorated here), ``pause_collection`` and its voided invoices, ``trial_end``.
Used by billing.py (``POST /v1/subscriptions/{id}`` and renewals).

Docs: https://docs.stripe.com/api/subscriptions/update,
https://docs.stripe.com/billing/subscriptions/pause-payment.
"""

from __future__ import annotations

from . import core, events, prices

PRORATION = ("always_invoice", "create_prorations", "none")
PAUSE_BEHAVIORS = ("keep_as_draft", "mark_uncollectible", "void")
PAUSE_IMPLEMENTED = ("keep_as_draft", "void")


def update_items(sub, items, proration_behavior) -> None:
    """``items[0][id]`` with a new ``price`` or ``price_data``: the item keeps its id and
    takes the price (https://docs.stripe.com/api/subscriptions/update#update_subscription-items).
    The stand-in never prorates: only ``proration_behavior=none`` is taken, and the new price
    is charged from the next invoice (an interval change needs ``trial_end`` here: Stripe
    would reset the period and charge now)."""
    if proration_behavior not in PRORATION:
        raise core.invalid(
            "proration_behavior",
            "standin: pass proration_behavior=none when changing items (prorations are not "
            "implemented).",
        )
    if proration_behavior != "none":
        raise core.error(400, "standin: only proration_behavior=none is implemented.")
    if isinstance(items, dict):  # form-encoded lists arrive as {"0": {...}}
        items = [items[k] for k in sorted(items, key=int)]
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise core.error(400, "standin: update exactly one subscription item.")
    change = items[0]
    current = sub.items._list[0]
    if change.get("id") and change["id"] != current.id:
        raise core.invalid("items[0][id]", f"No such subscription item: '{change['id']}'")
    if "price_data" in change:
        data = change["price_data"]
        core.check_known(
            data,
            (
                "currency",
                "product",
                "recurring",
                "tax_behavior",
                "unit_amount",
                "unit_amount_decimal",
            ),
            "items[0][price_data]",
        )
        if not data.get("product"):
            raise core.missing("items[0][price_data][product]")
        if not isinstance(data.get("recurring"), dict):
            raise core.missing("items[0][price_data][recurring]")
        price = prices.parse(data, "items[0][price_data]", list(data), inline=True)
    elif change.get("price"):
        price = core.get(prices.Price, change["price"], "items[0][price]")
    else:
        return
    if price.currency != sub.plan.currency:
        raise core.invalid(
            "items[0][price_data][currency]",
            "The price's currency must match the subscription's currency.",
        )
    current.plan = prices.plan_for(price)


def pause_collection(value):
    if value in ("", None):
        return None
    if not isinstance(value, dict) or value.get("behavior") not in PAUSE_BEHAVIORS:
        raise core.invalid(
            "pause_collection[behavior]",
            "Invalid pause_collection[behavior]: must be one of " + ", ".join(PAUSE_BEHAVIORS),
        )
    core.check_known(value, ("behavior", "resumes_at"), "pause_collection")
    if value["behavior"] not in PAUSE_IMPLEMENTED:
        raise core.error(
            400, "standin: pause_collection[behavior]=mark_uncollectible is not implemented."
        )
    resumes_at = value.get("resumes_at")
    return {
        "behavior": value["behavior"],
        "resumes_at": core.to_int(resumes_at, "pause_collection[resumes_at]")
        if resumes_at
        else None,
    }


def start_trial(sub, trial_end, now) -> None:
    """``trial_end``: nothing is charged until then; the next period starts at that moment."""
    end = now if trial_end == "now" else core.to_int(trial_end, "trial_end")
    if end < now:
        raise core.invalid(
            "trial_end", "Invalid timestamp: must be an integer Unix timestamp in the future."
        )
    sub._trial_start, sub._trial_end = now, end
    sub._period = (now, end)
    sub.billing_cycle_anchor = end
    sub.status = "trialing"


def void_paused(invoice, pause) -> None:
    """Paused collection: the period's invoice is created then voided (``void``) or left as a
    draft (``keep_as_draft``); never charged."""
    events.emit("invoice.created", invoice)
    if pause.get("behavior") == "keep_as_draft":
        return
    invoice._finalize()
    invoice._voided = True
    invoice.status_transitions["voided_at"] = core.now()
    events.emit("invoice.voided", invoice)
