"""`POST /stripe/webhook/`: verify at the door, store the event once with its task, answer;
a worker applies it through the dispatch table (`campaigns.stripe_handlers.HANDLERS`).

Stripe asks endpoints to return a 2xx "prior to any complex logic that could cause a timeout"
(https://docs.stripe.com/webhooks#acknowledge-events-immediately). A receipted gift takes its
network's receipt counter under a row lock (`crm.receipts`): applied in the request, the gifts
of one network passed one request at a time, and a giving day's senders waited seconds.

The money path, top to bottom, as plain calls ("go to definition" follows it):

1. `stripe_webhook` checks the signature (`stripe_api.verify_event`; a bad one is a 400 that
   stores nothing) and calls `receive_event`: one transaction inserts the `StripeEvent` (unique
   by id: the idempotency key; a repeated delivery finds it taken and adds nothing) and, on the
   database queue, the row of its `apply_event` task; then the 200. Nothing is applied, nothing
   asked of Stripe, no lock of ours taken. Under gunicorn a verified delivery is answered by
   the same `receive_event` before Django's middleware (`campaigns.webhook_exit`, in
   config/wsgi.py); anything else it leaves to this view.
2. The worker runs `apply_event` → `apply_stored`: what the event needs from Stripe
   (`stripe_reads.prepare`, outside any transaction: a refund's charge), then one transaction
   that row-locks the stored event (a second run, on this machine or another, waits there and
   finds it applied) and runs its handler; then what follows the commit
   (`stripe_reads.follow_up`: a paid payout's lines) and the events that waited for it. A
   payment's fee is read by a task queued with the record (`campaigns.tasks.read_payment_fee`).
3. The handler (`stripe_handlers.checkout_completed`, `invoice_paid`, `charge_refunded`, ...)
   finds and row-locks our donation, guards the Stripe account, and calls a crm verb:
   `crm.gifts.record_payment` / `record_payment_failure` / `record_refunded_total` /
   `record_dispute` / `record_dispute_closed`, or `crm.plans.record_plan_charge` /
   `record_plan_failure` / `update_plan` / `cancel_plan`.
   A refund made from Trama (`campaigns.refunds.refund_gift`, the gift's admin page) calls
   Stripe first and then `record_refunded_total` itself; its `charge.refunded` /
   `refund.created` events then find the same total recorded and change nothing.
4. `crm.gifts.record_payment` checks the amount and currency against what the gift expects
   (a mismatch is held for review: nothing else happens), matches or creates the donor and calls
   `crm.receipts.receipt_gift_if_due`, which numbers the receipt (`issue_receipt`, under the
   counter's row lock: held by workers, never by a web request) and queues the thank-you email
   (`crm.outbox.queue_receipt_email`); a refund calls `crm.receipts.follow_refund`; a failed
   monthly payment queues the donor's notice (`crm.outbox.queue_payment_failed_email`).
5. On commit, the worker runs `crm.tasks.send_donor_email` (→ `crm.mail.deliver_email`) and
   `campaigns.tasks.read_payment_fee`.

Until its event is applied a gift stays pending: the donor's return page says the payment is
being confirmed and reloads itself (`campaigns.views.thanks`). The sweep (`requeue_unapplied`,
`sweep_waiting`: settings.WORKER_SWEEPS) queues again an event whose task was lost (a killed
worker, a flushed Redis) or failed, and applies those that waited for another.

https://docs.stripe.com/webhooks#verify-events (signature and 5-minute tolerance),
https://docs.stripe.com/webhooks#handle-duplicate-events (one row per event id).
"""

import datetime
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.tasks import task
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm import tasks

from . import stripe_api, stripe_reads
from .event_networks import network_for_event
from .models import StripeEvent
from .stripe_event import store_once
from .stripe_handlers import HANDLERS
from .stripe_matching import NotOurs, NotYet, Unreachable

log = logging.getLogger(__name__)
Outcome = StripeEvent.Outcome
DONE = (Outcome.APPLIED, Outcome.IGNORED)
# Outcomes that an event may still leave: one applied later or again.
OPEN = (Outcome.FAILED, Outcome.WAITING, Outcome.GIVEN_UP)
# Stripe retries a delivery for up to three days
# (https://docs.stripe.com/webhooks#automatic-retries); the sweep retries a failed event as
# long, then leaves it to a person ("Apply again" on its admin page).
RETRY_FAILED_FOR = datetime.timedelta(days=3)
# Where the queue orders by priority (the database queue), gifts are confirmed before the
# emails and PDFs that follow them are sent.
APPLY_PRIORITY = 10
# The backend that runs a task as it is queued (tests, a machine without a worker): the event
# is applied right after the acknowledgement's transaction, in the request.
IMMEDIATE_BACKEND = "django.tasks.backends.immediate.ImmediateBackend"


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = stripe_api.verify_event(request.body, request.headers.get("Stripe-Signature"))
    except (stripe_api.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        log.warning("rejected Stripe webhook: %s", exc)
        return HttpResponseBadRequest("invalid payload or signature")
    receive_event(event)
    return acknowledged()


def acknowledged():
    """The answer to a verified delivery, stored (the view's and the WSGI exit's,
    `campaigns.webhook_exit`): ours to apply from now on (the task, then the sweep), never
    Stripe's to resend."""
    return HttpResponse("ok")


def receive_event(event):
    """Acknowledge a verified event: store it once and queue its application, in one commit;
    returns the stored outcome (pending; ignored for a type we do not handle, which is only
    kept). A repeated delivery finds the event id taken (a concurrent one waits on the first's
    insert, then finds it) and adds nothing: the first one's task applies it. A failed or
    waiting event delivered again (Stripe's own retry, a "Resend" from its dashboard) is queued
    again, as the sweep would later."""
    handler = HANDLERS.get(event["type"])
    apply_task = _apply_task()
    in_transaction = handler is not None and tasks.queues_in_transaction(apply_task.get_backend())
    now = timezone.now()
    with transaction.atomic():
        if handler is None:
            stored = store_once(
                event, network_for_event(event), Outcome.IGNORED, now, processed_at=now
            )
        else:
            stored = store_once(
                event, network_for_event(event), Outcome.PENDING, now, queued_at=now
            )
            if stored and in_transaction:
                apply_task.enqueue(event["id"])  # its row commits with the event's
    if stored:
        outcome = Outcome.IGNORED if handler is None else Outcome.PENDING
        queue = handler is not None and not in_transaction
    else:  # a repeated delivery
        found = StripeEvent.objects.filter(event_id=event["id"])
        outcome = found.values_list("outcome", flat=True).first()
        queue = outcome in OPEN
    if queue:
        _hand_over(apply_task, event["id"])
    return outcome


def _apply_task():
    backend = apply_event.get_backend()
    return apply_event.using(priority=APPLY_PRIORITY) if backend.supports_priority else apply_event


def _hand_over(apply_task, event_id):
    """Queue an event's task outside the acknowledgement's transaction: on RQ once the event is
    committed (its worker must find it), at once if no transaction is open; the database
    queue and the immediate backend at once. A backend that fails to take it (Redis down)
    leaves the event to the sweep."""
    backend = apply_task.get_backend()
    at_once = tasks.queues_in_transaction(backend) or any(
        f"{c.__module__}.{c.__qualname__}" == IMMEDIATE_BACKEND for c in type(backend).__mro__
    )
    if connection.in_atomic_block and not at_once:
        transaction.on_commit(lambda: _enqueue(apply_task, event_id))
    else:
        _enqueue(apply_task, event_id)


def _enqueue(apply_task, event_id):
    try:
        apply_task.enqueue(event_id)
    except Exception:
        log.exception("Stripe event %s stored, not queued: the sweep will", event_id)


@task()
def apply_event(event_id):
    """The worker's half of a delivery: apply the stored event, once. Safe to run twice, at
    once on two machines: `apply_stored` applies it under the event's row lock and the second
    run finds it done. An event pruned meanwhile (or never committed) is nothing to do."""
    row = StripeEvent.objects.filter(event_id=event_id).values_list("payload", "outcome").first()
    if row is None:
        return None
    payload, outcome = row
    return outcome if outcome in DONE else _apply_open(payload)


def requeue_unapplied(now=None):
    """The worker's sweep (`WORKER_SWEEPS`): an event stored but not applied whose task was
    queued TASKS_LOST_AFTER ago (the task was lost with its worker or its Redis, or the worker
    was down), or that failed (Stripe did not answer; retried for RETRY_FAILED_FOR), is queued
    again, by the one sweep whose compare-and-set on `queued_at` goes through. Waiting events
    are `sweep_waiting`'s. Returns {"stripe_events_queued": n}."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.TASKS_LOST_AFTER)
    lost = Q(outcome=Outcome.PENDING) | Q(
        outcome=Outcome.FAILED, received_at__gte=now - RETRY_FAILED_FOR
    )
    stale = (
        StripeEvent.objects.filter(lost)
        .filter(Q(queued_at__lte=cutoff) | Q(queued_at=None, received_at__lte=cutoff))
        .order_by("received_at", "pk")
        .values_list("pk", "event_id", "queued_at")
    )
    queued = 0
    apply_task = _apply_task()
    for pk, event_id, queued_at in list(stale):
        if StripeEvent.objects.filter(pk=pk, queued_at=queued_at).update(queued_at=now):
            _hand_over(apply_task, event_id)
            queued += 1
    return {"stripe_events_queued": queued}


def apply_stored(event):
    """Apply a stored event not done yet (its task, a retry, "Apply again", an event that waited
    for another): nothing to do if it is done, else apply it under the event's row lock, which
    serialises concurrent runs. Returns the stored outcome."""
    if (current := _done(event)) is not None:
        return current
    return _apply_open(event)


def _apply_open(event):
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


def _finish(record, outcome):
    record.outcome = outcome
    record.error = ""
    record.attempts += 1
    record.processed_at = timezone.now()
    record.save(update_fields=["outcome", "error", "attempts", "processed_at"])


def _record(event, outcome, error):
    """Store the outcome of an attempt whose work was rolled back. Never overwrites a done
    event: a concurrent run may have applied it meanwhile."""
    processed_at = timezone.now() if outcome == Outcome.IGNORED else None
    StripeEvent.objects.filter(event_id=event["id"]).exclude(outcome__in=DONE).update(
        outcome=outcome, error=error[:2000], attempts=F("attempts") + 1, processed_at=processed_at
    )
    return StripeEvent.objects.filter(event_id=event["id"]).values_list("outcome", flat=True)[0]
