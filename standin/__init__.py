"""Local Stripe stand-in for Trama: localstripe plus what our app uses and localstripe lacks.

Shapes follow Stripe API version 2026-10-28.endive (the one stripe-python 16 pins).

Starting it
-----------
Shell (logs to stdout; first line ``standin listening on http://127.0.0.1:8420``)::

    .venv/bin/python -m standin --port 8420 [--host 127.0.0.1] [--state PATH]

Python::

    from standin.server import run_in_thread, start_subprocess
    base_url, stop = run_in_thread(port=0)       # background thread, own asyncio loop
    base_url, stop = start_subprocess(port=0)    # `python -m standin` child process
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": base_url})

localstripe's store and app are module globals: one stand-in per process (use
``start_subprocess`` to run several). Any ``sk_test_...`` key is accepted. State lives in
memory (localstripe's pickle-to-/tmp on every write is disabled) unless a state file is given:
``--state var/standin-state.pickle`` (or ``STANDIN_STATE_FILE``; ``bin/demo`` does) keeps it
across restarts, saved atomically at most every ``STANDIN_SAVE_INTERVAL`` s (default 1) and at
SIGTERM/SIGINT (see persist.py).

Environment: ``STANDIN_WEBHOOK_DELAY`` (s before first delivery, default 0.1),
``STANDIN_WEBHOOK_RETRIES`` (back-off list, default ``1,2,4,8,16``),
``STANDIN_WEBHOOK_CONCURRENCY`` (deliveries in flight per endpoint, default 1: in order; more:
concurrent and unordered, like Stripe), ``STANDIN_SEPA_DELAY``
(s before SEPA debits settle, default 2), ``STANDIN_API_LATENCY`` (s each ``/v1`` request
waits before its answer, default 0: a slow Stripe for benches), ``STANDIN_PUBLIC_URL`` (base
of Checkout ``url``; default: the request's Host). Tests can also change ``standin.core.settings``.

API (Stripe-shaped, ``/v1``)
----------------------------
- Everything localstripe has (customers, payment intents/methods, plans, products, ...),
  with exports reshaped to the current API (see shapes.py).
- ``POST/GET /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}``,
  ``POST /v1/checkout/sessions/{id}/expire``, ``GET /v1/checkout/sessions/{id}/line_items``
  (modes ``payment`` and ``subscription``, hosted UI). ``payment_method_types`` is rejected
  as in 2026-09-30.endive: use ``allowed_payment_method_types`` (``card``, ``sepa_debit``,
  ``paypal``, ``satispay``; the last three in euro, Satispay not in ``subscription`` mode).
- ``POST/GET /v1/prices``, ``GET/POST /v1/prices/{id}``.
- ``GET /v1/invoices`` (``created``, ``customer``, ``subscription``, ``status``), invoices
  carry ``parent.subscription_details`` (no top-level ``subscription``/``charge``/
  ``payment_intent`` since 2025-03-31.basil); ``GET /v1/invoice_payments[/{id}]`` and
  ``expand[]=payments`` link an invoice to its PaymentIntent.
- ``POST /v1/refunds`` (``charge`` or ``payment_intent``, optional partial ``amount``) ->
  ``charge.refunded``, ``refund.created``; ``GET /v1/refunds`` (``created``, ``charge``, ...).
- ``POST /v1/subscriptions/{id}`` (``cancel_at_period_end``, ``cancel_at``, ``metadata``,
  ``description``, ``cancellation_details``, ``default_payment_method``, ``items[0]`` with
  ``price`` or ``price_data`` and ``proration_behavior=none``, ``pause_collection``
  (``void``/``keep_as_draft``, ``resumes_at``; ``""`` unsets it), ``trial_end``) ->
  ``customer.subscription.updated`` with ``previous_attributes``; an unknown id answers
  404 ``resource_missing`` "No such subscription: 'sub_...'" like Stripe;
  ``DELETE /v1/subscriptions/{id}`` -> ``customer.subscription.deleted``.
- ``POST /v1/billing_portal/sessions`` (``flow_data[type]=payment_method_update``): hosted
  page at ``{base}/billing/portal/{id}`` (``#card-number``, ``#save``, ``#error``); see portal.py.
- ``GET /v1/disputes[/{id}]``, ``POST /v1/disputes/{id}/close``.
- Balance transactions with Stripe's Italian fees (cards 1,5% + € 0,25, SEPA € 0,35, disputes
  € 20), ``GET /v1/balance_transactions[/{id}]`` (``payout``, ``source``, ``type``),
  ``GET /v1/payouts[/{id}]``, ``GET /v1/subscriptions`` (``status=all``): see balance.py.
- Lists: newest first, ``limit``, ``starting_after``, ``ending_before``, ``created[gt|gte|lt|lte]``.
- ``Stripe-Account: acct_...``: objects are created for that account, events carry
  ``account``, our lists only show that account's objects.
- ``Idempotency-Key`` replays the first response; while the first is in flight, 409.

Hosted page
-----------
``Checkout session.url`` = ``{base}/checkout/pay/{session_id}``: HTML form (ids ``#card-number``
prefilled 4242..., ``#method-card``/``#method-sepa``, ``#email``, ``#name``, ``#iban``, ``#pay``,
``#cancel``, ``#error``). POST pays and answers 303 to ``success_url`` (with
``{CHECKOUT_SESSION_ID}`` replaced); a decline (4000 0000 0000 0002 and Stripe's other decline
cards) re-renders with 402 and ``#error``. SEPA is offered for EUR sessions; IBAN
DE89370400440532013000 settles, DE62370400440532013001 fails. Event sequences: fulfil.py.

Test controls (no auth)
-----------------------
- ``POST /_standin/subscriptions/{sub_id}/renew``: next period; ``customer.subscription.updated``,
  ``invoice.created``, ``invoice.finalized``, ``payment_intent.succeeded``, ``charge.succeeded``,
  ``invoice.paid``, ``invoice.payment_succeeded`` (``billing_reason: subscription_cycle``). If the
  subscription was set to cancel at period end: ``customer.subscription.deleted`` instead; a
  trial (``trial_end``) ends and the price's interval starts; with ``pause_collection`` the
  invoice is ``invoice.created`` then ``invoice.voided`` (never charged); a canceled
  subscription answers 400 (nothing charged).
- ``POST /_standin/subscriptions/{sub_id}/fail``: the same renewal but the charge fails:
  ..., ``payment_intent.payment_failed``, ``charge.failed``, ``invoice.payment_failed``,
  ``customer.subscription.updated`` (status ``past_due``).
- ``POST /_standin/charges/{ch_id}/dispute`` [``reason``, ``amount``] -> ``charge.dispute.created``.
- ``POST /_standin/disputes/{du_id}/close?status=won|lost`` -> ``charge.dispute.closed``.
- ``POST /_standin/payouts`` [``account``, ``status=paid|failed``]: pays out the balance
  (every transaction not yet paid out) -> ``payout.paid``, ``payout.reconciliation_completed``.
- ``POST /_standin/refunds/{re_id}/fail`` [``failure_reason``] -> ``refund.updated``,
  ``refund.failed``, ``charge.refund.updated``; the charge's ``amount_refunded`` goes down.
- ``POST /_standin/webhooks/flush[?timeout=10]``: returns once every event emitted so far
  was delivered (or tried once); handy before asserting on received webhooks.
- localstripe's: ``POST /_config/webhooks/{id}`` (``url``, ``secret``, optional ``events[]``)
  registers an endpoint (``DELETE /_config/webhooks/{id}``, ours, removes it);
  ``DELETE /_config/data`` resets all data (webhook endpoints stay).

Webhooks: every event (localstripe's and ours) is delivered to every registered endpoint,
in emission order per endpoint (each endpoint has its own queue), signed like Stripe (verify
with ``stripe.Webhook.construct_event``), retried with back-off while the receiver is down or
answers non-2xx.
"""

import warnings as _warnings

with _warnings.catch_warnings():
    # localstripe registers plain functions as aiohttp handlers, which aiohttp 3.x deprecates
    # with one warning per route at import; they are harmless.
    _warnings.filterwarnings("ignore", "Bare functions are deprecated", DeprecationWarning)
    import localstripe.server  # noqa: F401
