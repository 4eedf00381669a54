"""`POST /stripe/webhook/`: verify at the door, store the event once, apply it in a
transaction through the dispatch table (`campaigns.stripe_handlers.HANDLERS`), answer fast.

https://docs.stripe.com/webhooks#verify-events (signature and 5-minute tolerance),
https://docs.stripe.com/webhooks#handle-duplicate-events (one row per event id).
"""

import datetime
import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.models import Network, StripeEvent

from . import stripe_api
from .stripe_handlers import HANDLERS, NotOurs, NotYet

log = logging.getLogger(__name__)
DONE = (StripeEvent.Outcome.APPLIED, StripeEvent.Outcome.IGNORED)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = stripe_api.verify_event(request.body, request.headers.get("Stripe-Signature"))
    except (stripe_api.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        log.warning("rejected Stripe webhook: %s", exc)
        return HttpResponseBadRequest("invalid payload or signature")
    record = store_event(event)
    record = apply_event(record.pk)
    if record.outcome == StripeEvent.Outcome.FAILED:
        return HttpResponse("failed, retry later", status=500)  # Stripe retries with back-off
    return HttpResponse("ok")


def store_event(event):
    """The StripeEvent row for this event id, created on first delivery. Concurrent first
    deliveries race on the unique event id; the loser reads the winner's row."""
    existing = StripeEvent.objects.filter(event_id=event["id"]).first()
    if existing is not None:
        return existing
    account = event.get("account") or ""
    created = event.get("created")
    try:
        with transaction.atomic():
            return StripeEvent.objects.create(
                event_id=event["id"],
                type=event["type"],
                account=account,
                network=Network.objects.filter(stripe_account_id=account).first()
                if account
                else None,
                payload=event,
                created=datetime.datetime.fromtimestamp(int(created), tz=datetime.UTC)
                if created
                else None,
            )
    except IntegrityError:  # a concurrent first delivery stored it a moment ago
        return StripeEvent.objects.get(event_id=event["id"])


def apply_event(pk):
    """Apply a stored event at most once: the row lock on the StripeEvent serialises
    concurrent deliveries, and an applied or ignored event is never applied again."""
    try:
        with transaction.atomic():
            record = StripeEvent.objects.select_for_update().get(pk=pk)
            if record.outcome in DONE:
                return record
            handler = HANDLERS.get(record.type)
            record.attempts += 1
            record.error = ""
            if handler is None:
                record.outcome = StripeEvent.Outcome.IGNORED
            else:
                try:
                    with transaction.atomic():
                        obj = record.payload.get("data", {}).get("object") or {}
                        handler(obj, record.account)
                    record.outcome = StripeEvent.Outcome.APPLIED
                except NotOurs as exc:
                    record.outcome = StripeEvent.Outcome.IGNORED
                    record.error = str(exc)
            record.processed_at = timezone.now()
            record.save(update_fields=["outcome", "error", "attempts", "processed_at"])
            return record
    except NotYet as exc:
        log.info("Stripe event %s not applicable yet: %s", pk, exc)
        error = f"not yet: {exc}"
    except Exception as exc:
        log.exception("Stripe event %s failed", pk)
        error = f"{type(exc).__name__}: {exc}"
    return _record_failure(pk, error)


def _record_failure(pk, error):
    StripeEvent.objects.filter(pk=pk).update(
        outcome=StripeEvent.Outcome.FAILED, error=error[:2000], attempts=F("attempts") + 1
    )
    return StripeEvent.objects.get(pk=pk)
