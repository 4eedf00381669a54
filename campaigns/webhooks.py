"""`POST /stripe/webhook/`: verify at the door, store the event once, apply it in a
transaction through the dispatch table (`campaigns.stripe_handlers.HANDLERS`), answer fast.

The money path, top to bottom, as plain calls ("go to definition" follows it):

1. `stripe_webhook` checks the signature (`stripe_api.verify_event`; a bad one is a 400 that
   stores nothing) and calls `receive_event`, which asks Stripe what the event needs
   (`stripe_reads.prepare`, outside any transaction: a refund's charge), then stores the
   `StripeEvent` (unique by id: the idempotency key) and runs its handler in one transaction,
   then does what follows the commit (`stripe_reads.follow_up`: a paid payout's lines). A
   payment's fee is read by a task queued with the record (`campaigns.tasks.read_payment_fee`):
   the answer to Stripe never waits on Stripe.
2. The handler (`stripe_handlers.checkout_completed`, `invoice_paid`, `charge_refunded`, ...)
   finds and row-locks our donation, guards the Stripe account, and calls a crm verb:
   `crm.gifts.record_payment` / `record_payment_failure` / `record_refunded_total` /
   `record_dispute` / `record_dispute_closed`, or `crm.plans.record_plan_charge` /
   `record_plan_failure` / `update_plan` / `cancel_plan`.
   A refund made from Trama (`campaigns.refunds.refund_gift`, the gift's admin page) calls
   Stripe first and then `record_refunded_total` itself; its `charge.refunded` /
   `refund.created` events then find the same total recorded and change nothing.
3. `crm.gifts.record_payment` checks the amount and currency against what the gift expects
   (a mismatch is held for review: nothing else happens), matches or creates the donor and calls
   `crm.receipts.receipt_gift_if_due`, which numbers the receipt (`issue_receipt`, under the
   counter's row lock) and queues the thank-you email (`crm.outbox.queue_receipt_email`); a
   refund calls `crm.receipts.follow_refund` (void, or void and reissue for what remains); a
   failed monthly payment queues the donor's notice (`crm.outbox.queue_payment_failed_email`).
4. On commit, the worker runs `crm.tasks.send_donor_email` (→ `crm.mail.deliver_email`: the
   receipt's PDF rendered first, `crm.receipt_files`, `crm.pdf`; retried with backoff; a
   receipt no email carries has its own `crm.tasks.render_receipt_pdf`) and
   `campaigns.tasks.read_payment_fee`. The worker's sweep (`crm.sweep`) picks up whatever a
   crash left behind.

https://docs.stripe.com/webhooks#verify-events (signature and 5-minute tolerance),
https://docs.stripe.com/webhooks#handle-duplicate-events (one row per event id).
"""

import datetime
import logging

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import stripe_api, stripe_reads
from .event_networks import network_for_event
from .models import StripeEvent
from .stripe_handlers import HANDLERS
from .stripe_matching import NotOurs, NotYet, Unreachable

log = logging.getLogger(__name__)
Outcome = StripeEvent.Outcome
DONE = (Outcome.APPLIED, Outcome.IGNORED)
# Outcomes that an event may still leave: one applied later or again.
OPEN = (Outcome.FAILED, Outcome.WAITING, Outcome.GIVEN_UP)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = stripe_api.verify_event(request.body, request.headers.get("Stripe-Signature"))
    except (stripe_api.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        log.warning("rejected Stripe webhook: %s", exc)
        return HttpResponseBadRequest("invalid payload or signature")
    outcome = receive_event(event)
    if outcome == Outcome.FAILED:
        return HttpResponse("failed, retry later", status=500)  # Stripe retries with back-off
    # Waiting (it came before its plan or payment): kept, and applied when that arrives.
    return HttpResponse("ok")


def receive_event(event):
    """Store a verified event and apply it exactly once; returns the stored outcome.

    First, what the event needs from Stripe is asked (no transaction open). Then the first
    delivery (the usual case) is one transaction: insert the StripeEvent row, already marked
    done, and run the handler. Until it commits, the new row's unique event id makes a
    concurrent delivery of the same event wait on its own insert, then fail it and find the
    event done. Any error rolls both back; the event is then stored as ignored, waiting or
    failed. After the commit: the Stripe work that follows (a payout's lines), and the events
    that were waiting for this one."""
    obj = (event.get("data") or {}).get("object") or {}
    if stripe_reads.asks_stripe(event["type"], obj) and _done(event):
        # A repeated delivery of a done event: no need to ask Stripe anything. (Other events
        # go straight to the insert: the unique event id finds a repeated delivery there.)
        return apply_stored(event)
    handler = HANDLERS.get(event["type"])
    outcome = Outcome.APPLIED if handler else Outcome.IGNORED  # unknown types: kept, acked
    stored = False
    try:
        fetched = _prepare(handler, event)
        with transaction.atomic():
            record = _insert(event, outcome, processed_at=timezone.now())
            stored = True
            if handler:
                _apply(handler, event, fetched)
                _attribute(record, event)
    except IntegrityError as exc:
        if not stored:  # a repeated delivery: the event id is taken
            return apply_stored(event)
        return _after_failure(event, exc)
    except Exception as exc:
        return _after_failure(event, exc)
    return _after_commit(event, outcome)


def apply_stored(event):
    """A repeated delivery: nothing to do if the event is done, else (it failed or waited
    before) apply it under the event's row lock, which serialises concurrent retries."""
    if (current := _done(event)) is not None:
        return current
    handler = HANDLERS.get(event["type"])
    try:
        fetched = _prepare(handler, event)
        with transaction.atomic():
            record = StripeEvent.objects.select_for_update().get(event_id=event["id"])
            if record.outcome in DONE:
                return record.outcome
            if handler:
                _apply(handler, event, fetched)
                _attribute(record, event)
            _finish(record, Outcome.APPLIED if handler else Outcome.IGNORED)
    except Exception as exc:
        return _after_failure(event, exc)
    return _after_commit(event, record.outcome)


def _done(event):
    """The stored outcome of an event already done, else None."""
    stored = StripeEvent.objects.filter(event_id=event["id"]).values_list("outcome", flat=True)
    current = stored.first()
    return current if current in DONE else None


def _prepare(handler, event):
    if handler is None:
        return None
    obj = (event.get("data") or {}).get("object") or {}
    return stripe_reads.prepare(event["type"], obj, event.get("account") or "")


def _apply(handler, event, fetched=None):
    obj = (event.get("data") or {}).get("object") or {}
    stripe_reads.apply(event["type"], handler, obj, event.get("account") or "", fetched)


def _after_commit(event, outcome):
    """The event is applied and committed: what follows it (outside any transaction), then the
    events that waited for it. A follow-up Stripe did not answer marks the event failed, so
    that Stripe delivers it again (applying it again changes nothing; the follow-up runs)."""
    obj = (event.get("data") or {}).get("object") or {}
    try:
        if stripe_reads.follow_up(event["type"], obj, event.get("account") or ""):
            # A platform payout becomes a network's once its lines name that network's gifts.
            unattributed = StripeEvent.objects.filter(event_id=event["id"], network=None)
            if unattributed.exists() and (network_id := network_for_event(event)):
                unattributed.update(network_id=network_id)
    except Unreachable as exc:
        log.warning("Stripe event %s: follow-up left for a redelivery: %s", event["id"], exc)
        StripeEvent.objects.filter(event_id=event["id"]).update(
            outcome=Outcome.FAILED, error=str(exc)[:2000], processed_at=None
        )
        return Outcome.FAILED
    apply_waiting(event)
    return outcome


def _attribute(record, event):
    """A platform event whose object became ours while applying it (a payout's gifts) gets
    its network now."""
    if record.network_id is None and (network_id := network_for_event(event)):
        record.network_id = network_id
        record.save(update_fields=["network"])


# What an applied event can unblock: the events that waited for the plan its checkout made (by
# subscription, or by the gift named in their metadata) or for its payment (by payment intent).
UNBLOCKING = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "invoice.paid",
)


def _waiting_for(event):
    """The waiting (or earlier failed) events that `event`, now applied, may unblock."""
    if event["type"] not in UNBLOCKING:
        return StripeEvent.objects.none()
    obj = (event.get("data") or {}).get("object") or {}
    if event["type"] == "invoice.paid":
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        sub_id, intent, donation_id = details.get("subscription"), None, None
    else:
        sub_id, intent = obj.get("subscription"), obj.get("payment_intent")
        donation_id = (obj.get("metadata") or {}).get("donation_id") or obj.get(
            "client_reference_id"
        )
    sub_id = sub_id.get("id") if isinstance(sub_id, dict) else sub_id
    intent = intent.get("id") if isinstance(intent, dict) else intent
    on = Q()
    if sub_id:
        on |= Q(payload__data__object__id=sub_id)  # customer.subscription.*
        on |= Q(payload__data__object__parent__subscription_details__subscription=sub_id)
    if intent:
        on |= Q(payload__data__object__payment_intent=intent)  # charges, refunds, disputes
    if donation_id:
        on |= Q(payload__data__object__metadata__donation_id=str(donation_id))
        on |= Q(
            payload__data__object__parent__subscription_details__metadata__donation_id=str(
                donation_id
            )
        )
    if not on:
        return StripeEvent.objects.none()
    return StripeEvent.objects.filter(on, outcome__in=OPEN).exclude(event_id=event["id"])


def apply_waiting(event):
    """Apply the events that waited for `event` (now applied), oldest first; each one applied
    may unblock more (a waiting invoice, then the subscription change that followed it)."""
    for stored in _waiting_for(event).order_by("created", "pk"):
        apply_stored(stored.payload)


def sweep_waiting(now):
    """The worker's sweep (`WORKER_SWEEPS`): apply again every event still waiting, oldest
    first (what it waited for may have come through `stripe_reconcile`; one that turned out not
    to be ours is acknowledged as such). Returns {"stripe_events_applied": n}."""
    applied = 0
    waiting = StripeEvent.objects.filter(outcome=Outcome.WAITING).order_by("created", "pk")
    for payload in waiting.values_list("payload", flat=True).iterator():
        if apply_stored(payload) in DONE:
            applied += 1
    return {"stripe_events_applied": applied}


def _after_failure(event, exc):
    """Called from an `except` block once the attempt's transaction has rolled back."""
    if isinstance(exc, NotOurs):
        return _record(event, Outcome.IGNORED, str(exc))
    if isinstance(exc, NotYet):
        log.info("Stripe event %s waits: %s", event["id"], exc)
        return _record(event, Outcome.WAITING, f"waiting: {exc}")
    if isinstance(exc, Unreachable):
        log.warning("Stripe event %s left for a redelivery: %s", event["id"], exc)
        return _record(event, Outcome.FAILED, str(exc))
    log.exception("Stripe event %s failed", event["id"])
    return _record(event, Outcome.FAILED, f"{type(exc).__name__}: {exc}")


def _insert(event, outcome, *, error="", processed_at=None):
    account = event.get("account") or ""
    created = event.get("created")
    return StripeEvent.objects.create(
        event_id=event["id"],
        type=event["type"],
        account=account,
        network_id=network_for_event(event),
        payload=event,
        created=datetime.datetime.fromtimestamp(int(created), tz=datetime.UTC) if created else None,
        outcome=outcome,
        error=error[:2000],
        attempts=1,
        processed_at=processed_at,
    )


def _finish(record, outcome):
    record.outcome = outcome
    record.error = ""
    record.attempts += 1
    record.processed_at = timezone.now()
    record.save(update_fields=["outcome", "error", "attempts", "processed_at"])


def _record(event, outcome, error):
    """Store the outcome of an attempt whose work was rolled back. Never overwrites a done
    event: a concurrent delivery may have applied it meanwhile."""
    processed_at = timezone.now() if outcome == Outcome.IGNORED else None
    try:
        with transaction.atomic():
            _insert(event, outcome, error=error, processed_at=processed_at)
        return outcome
    except IntegrityError:
        pass
    StripeEvent.objects.filter(event_id=event["id"]).exclude(outcome__in=DONE).update(
        outcome=outcome, error=error[:2000], attempts=F("attempts") + 1, processed_at=processed_at
    )
    return StripeEvent.objects.filter(event_id=event["id"]).values_list("outcome", flat=True)[0]
