"""The plan verbs that ask Stripe first: stop, change the amount or the interval, pause and
resume collection, and open Stripe's page where the donor gives a new card. The treasurer's
plan page (through `crm.extensions.PLAN_CHANGES`) and the donor's signed plan page call them.

Each verb calls Stripe on the account the plan's subscription was made on (`RecurringPlan.
stripe_account`: an entity's own or the network's), then applies the subscription Stripe
answered with through `crm.plans.update_plan`, which records each change once in the plan's
history and confirms it to the donor (the webhook that follows finds nothing new).
A plan is stopped only when Stripe answers with a `canceled` subscription. "No such
subscription" (`resource_missing`) is as likely a test key in live, another account or a
stand-in that forgot as a subscription gone: the plan is marked to check with what was
compared (`why_missing`), `PlanToCheck` is raised, and no donor is told anything.

Shapes: https://docs.stripe.com/api/subscriptions/update (`items[][price_data]` needs a
product id; `proration_behavior=none`: no credit nor extra charge for the part of the
period already paid; `pause_collection`), https://docs.stripe.com/billing/subscriptions/pause-payment.
"""

import hashlib
import json
import logging
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from crm import plans
from crm.models import RecurringPlan

from . import stripe_api
from .models import StripeEvent

log = logging.getLogger(__name__)
# Subscription metadata key of our change counter (`RecurringPlan.stripe_revision`).
REVISION_KEY = "trama_revision"


def _update(plan, params):
    """Update the subscription, stamped with the plan's next revision. The idempotency key is
    the plan, its revision and the change: a double click or a retry of the same change is
    one update at Stripe."""
    revision = plan.stripe_revision + 1
    params = {**params, "metadata": {REVISION_KEY: str(revision)}}
    change = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    key = f"plan-{plan.pk}-{plan.stripe_subscription_id}-r{revision}-{change}"
    return stripe_api.update_subscription(
        plan, plan.stripe_subscription_id, params, idempotency_key=key
    )


def _locked(plan):
    return (
        RecurringPlan.objects.select_for_update(of=("self",))
        .select_related("donor", "network")
        .get(pk=plan.pk)
    )


def when(ts):
    return datetime.fromtimestamp(int(ts), tz=UTC) if ts else None


def state_of(subscription):
    """What `crm.plans.update_plan` takes from a Stripe subscription (a plain dict)."""
    items = (subscription.get("items") or {}).get("data") or []
    state = {"stripe_status": subscription.get("status")}
    if items:
        item = items[0]
        price = item.get("price") or item.get("plan") or {}
        state["amount_cents"] = price.get("unit_amount") or price.get("amount")
        state["currency"] = price.get("currency")
        recurring = price.get("recurring") or {}
        interval = recurring.get("interval") or price.get("interval")
        count = recurring.get("interval_count") or price.get("interval_count") or 1
        state["interval"] = plans.interval_from_stripe(interval, count)
        state["next_charge_at"] = when(item.get("current_period_end"))
    pause = subscription.get("pause_collection")
    state["paused"] = bool(pause)
    metadata = subscription.get("metadata") or {}
    revision = str(metadata.get(REVISION_KEY) or "0")
    state["revision"] = int(revision) if revision.isdigit() else 0
    state["resumes_at"] = when((pause or {}).get("resumes_at"))
    return state


def where_made(plan):
    """(livemode, account) Stripe made the plan's subscription with: recorded on the plan, or
    else read from the first stored event of its subscription (plans started before they
    were recorded); None where unknown."""
    livemode, account = plan.livemode, plan.stripe_account_id
    if livemode is None or account is None:
        sub_id = plan.stripe_subscription_id
        first = (
            StripeEvent.objects.filter(
                Q(payload__data__object__subscription=sub_id) | Q(payload__data__object__id=sub_id)
            )
            .order_by("received_at", "pk")
            .first()
        )
        if first is not None:
            if livemode is None and isinstance(first.payload.get("livemode"), bool):
                livemode = first.payload["livemode"]
            if account is None:
                account = first.account
    return livemode, account


def why_missing(plan):
    """What the treasurer reads about a subscription Stripe says it does not know: the key's
    mode against the one the plan was made in, the network's account against the one it was
    made on, or, when both agree, where to look."""
    key_live = stripe_api.key_is_live()
    account = plan.stripe_account  # where it was made, else (not recorded) the network's
    made_live, made_on = where_made(plan)
    with translation.override(settings.LANGUAGE_CODE):
        modes = {True: _("live"), False: _("test")}
        lines = [
            _("Stripe answered “No such subscription” for %(id)s.")
            % {"id": plan.stripe_subscription_id}
        ]
        if made_live is not None and made_live != key_live:
            lines.append(
                _(
                    "The secret key in use is a %(key)s key, but this subscription was made in "
                    "%(plan)s mode: check the key (STRIPE_SECRET_KEY) before anything else."
                )
                % {"key": modes[key_live], "plan": modes[made_live]}
            )
        if made_on is not None and made_on != account:
            lines.append(
                _(
                    "The network's Stripe account is now %(now)s, but this subscription was "
                    "made on %(then)s: check the network's Stripe account."
                )
                % {
                    "now": account or _("the platform account"),
                    "then": made_on or _("the platform account"),
                }
            )
        if len(lines) == 1:
            lines.append(
                _(
                    "The %(key)s key and the account (%(account)s) are those the plan was made "
                    "with. Look for the subscription in Stripe's dashboard: if it was deleted "
                    "there, stop the plan; if the payment service was reset (the demo's "
                    "stand-in), nothing changed at Stripe. No donor was told anything."
                )
                % {"key": modes[key_live], "account": account or _("the platform account")}
            )
        return " ".join(str(line) for line in lines)


def _stripe(plan, call, *, user, by):
    """Run `call()` against Stripe. "No such subscription": the plan is marked to check and
    PlanToCheck raised; any other Stripe failure: PlanServiceDown, nothing changed."""
    try:
        return call()
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing" and (exc.param in (None, "", "id")):
            log.warning("Stripe does not know the subscription of plan %s: %s", plan.pk, exc)
            with transaction.atomic():
                locked = _locked(plan)
                plans.mark_plan_to_check(locked, why_missing(locked), user=user, by=by)
            raise plans.PlanToCheck(
                _(
                    "The payment service does not find this gift right now: nothing was "
                    "changed. The association has been told and will check it."
                )
            ) from exc
        log.warning("Stripe refused a change to plan %s: %s", plan.pk, exc)
        raise plans.PlanServiceDown(
            _("The payment service refused the change: nothing was changed.")
        ) from exc
    except stripe.StripeError as exc:
        log.warning("Stripe unreachable for plan %s: %s", plan.pk, exc)
        raise plans.PlanServiceDown(
            _("The payment service is not answering: nothing was changed. Please try again.")
        ) from exc


def _apply(plan, subscription, *, user, by):
    with transaction.atomic():
        locked = _locked(plan)
        plans.update_plan(locked, **state_of(subscription), user=user, by=by)
    return locked


def _require_live(plan):
    if plan.status == RecurringPlan.Status.CANCELLED:
        raise plans.PlanGone(_("This gift was already stopped."))
    if not plan.stripe_subscription_id:
        raise plans.PlanServiceDown(_("This plan is not managed through Stripe."))


def cancel(plan, *, user=None, by=""):
    """Stop now (https://docs.stripe.com/api/subscriptions/cancel). True if stopped now: only
    when Stripe answers that the subscription is `canceled`."""
    _require_live(plan)
    sub = _stripe(
        plan,
        lambda: stripe_api.cancel_subscription(plan, plan.stripe_subscription_id),
        user=user,
        by=by,
    )
    if sub.get("status") != "canceled":
        _apply(plan, sub, user=user, by=by)
        raise plans.PlanServiceDown(
            _("The payment service did not stop the gift: nothing was changed.")
        )
    with transaction.atomic():
        return plans.cancel_plan(_locked(plan), user=user, by=by)


def _new_price(plan, subscription, *, amount_cents, interval):
    item = subscription["items"]["data"][0]
    price = item.get("price") or {}
    product = price.get("product")
    stripe_interval, count = plans.STRIPE_INTERVALS[interval]
    return item["id"], {
        "currency": (price.get("currency") or plan.currency).lower(),
        "product": product if isinstance(product, str) else product["id"],
        "unit_amount": amount_cents,
        "recurring": {"interval": stripe_interval, "interval_count": count},
    }


def _change_price(plan, *, amount_cents, interval, user, by):
    _require_live(plan)
    sub_id = plan.stripe_subscription_id

    def call():
        current = stripe_api.retrieve_subscription(plan, sub_id)
        item_id, price_data = _new_price(
            plan, current, amount_cents=amount_cents, interval=interval
        )
        params = {
            "items": [{"id": item_id, "price_data": price_data}],
            "proration_behavior": "none",
        }
        if interval != plan.interval:
            # A new interval would restart the period and charge now: the first charge at the
            # new interval is on the day the donor would have been charged anyway.
            params["trial_end"] = current["items"]["data"][0]["current_period_end"]
        return _update(plan, params)

    return _apply(plan, _stripe(plan, call, user=user, by=by), user=user, by=by)


def change_amount(plan, amount_cents, *, user=None, by=""):
    """From the next charge on, `amount_cents` each time; nothing charged now."""
    return _change_price(plan, amount_cents=amount_cents, interval=plan.interval, user=user, by=by)


def change_interval(plan, interval, *, user=None, by=""):
    """Monthly, quarterly or yearly from the next charge date on, same amount each time."""
    return _change_price(plan, amount_cents=plan.amount_cents, interval=interval, user=user, by=by)


def pause(plan, *, user=None, by="", resumes_at=None):
    """No charge until resumed (or `resumes_at`): Stripe voids the invoices meanwhile."""
    _require_live(plan)
    pause_collection = {"behavior": "void"}
    if resumes_at:
        pause_collection["resumes_at"] = int(resumes_at.timestamp())
    sub = _stripe(
        plan,
        lambda: _update(plan, {"pause_collection": pause_collection}),
        user=user,
        by=by,
    )
    return _apply(plan, sub, user=user, by=by)


def resume(plan, *, user=None, by=""):
    """Charges start again at the next charge date (an empty value unsets the pause)."""
    _require_live(plan)
    sub = _stripe(
        plan,
        lambda: _update(plan, {"pause_collection": ""}),
        user=user,
        by=by,
    )
    return _apply(plan, sub, user=user, by=by)


def check(plan, *, user=None, by=""):
    """Ask Stripe again about a plan to check: a subscription it knows brings the plan back to
    what Stripe says (stopped only if `canceled`); still unknown, it stays to check
    (`PlanToCheck`). Returns the plan."""
    if plan.status == RecurringPlan.Status.CANCELLED:
        raise plans.PlanGone(_("This gift was already stopped."))
    sub_id = plan.stripe_subscription_id  # on the plan's account
    sub = _stripe(plan, lambda: stripe_api.retrieve_subscription(plan, sub_id), user=user, by=by)
    if sub.get("status") == "canceled":
        with transaction.atomic():
            locked = _locked(plan)
            plans.cancel_plan(locked, user=user, by=by)
        return locked
    state = {**state_of(sub), "revision": None}  # what Stripe has now, whatever our counter
    with transaction.atomic():
        locked = _locked(plan)
        plans.update_plan(locked, **state, user=user, by=by)
    return locked


def card_update_url(plan, *, return_url, language, by=""):
    """Where the donor gives a new card: Stripe's hosted page, back to `return_url`. The card
    on record now is noted first, so the new one shows in the history when it comes."""
    _require_live(plan)
    sub = _stripe(
        plan,
        lambda: stripe_api.retrieve_subscription(plan, plan.stripe_subscription_id),
        user=None,
        by=by,
    )
    with transaction.atomic():
        plans.record_payment_method(_locked(plan), _id(sub.get("default_payment_method")))
    customer = plan.stripe_customer_id or _id(sub.get("customer"))
    session = _stripe(
        plan,
        lambda: stripe_api.create_card_update_session(
            plan, customer, return_url=return_url, locale=language
        ),
        user=None,
        by=by,
    )
    return session["url"]


def _id(value):
    return value.get("id") if isinstance(value, dict) else value
