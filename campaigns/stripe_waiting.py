"""The end of waiting: a Stripe event that came before what it refers to waits
(`campaigns.webhooks`: applied when that arrives, or retried by `sweep_waiting`). What it waits
for is another Stripe event, and Stripe delivers an event, retrying with back-off, for up to 3
days in live mode (https://docs.stripe.com/webhooks#retries). An event still waiting
STRIPE_EVENTS_GIVE_UP_AFTER_DAYS after we received it will not be unblocked by a delivery: it
is marked given up, with its reason, so that the sweep stops retrying it and ops and
treasurers see it (the Stripe events log, filter "outcome"; `trama_stripe_events` on
/metrics). It is never deleted (pruning takes only applied and ignored events), and if what it
waited for comes after all (`stripe_reconcile`, "apply again") it is applied as before."""

import datetime
import logging

from django.conf import settings
from django.db.models import F, TextField, Value
from django.db.models.functions import Concat

from .models import StripeEvent

log = logging.getLogger(__name__)
Outcome = StripeEvent.Outcome


def give_up_waiting(now):
    """The worker's sweep (`WORKER_SWEEPS`, after `sweep_waiting`): give up the events waiting
    longer than STRIPE_EVENTS_GIVE_UP_AFTER_DAYS. One conditional UPDATE: an event applied
    meanwhile is no longer waiting and is left alone. Returns {"stripe_events_given_up": n}."""
    days = settings.STRIPE_EVENTS_GIVE_UP_AFTER_DAYS
    cutoff = now - datetime.timedelta(days=days)
    stale = StripeEvent.objects.filter(outcome=Outcome.WAITING, received_at__lt=cutoff)
    ids = list(stale.values_list("event_id", flat=True)[:1000])
    if not ids:
        return {"stripe_events_given_up": 0}
    reason = f"given up after {days} days: what it waited for never came ("
    given_up = StripeEvent.objects.filter(event_id__in=ids, outcome=Outcome.WAITING).update(
        outcome=Outcome.GIVEN_UP,
        error=Concat(Value(reason), F("error"), Value(")"), output_field=TextField()),
    )
    log.warning("Stripe events given up after %s days of waiting: %s", days, ", ".join(ids))
    return {"stripe_events_given_up": given_up}
