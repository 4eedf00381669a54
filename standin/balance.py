"""Balance transactions and payouts with Stripe's shapes (localstripe has neither in full).

- Charges settle with Stripe's Italian standard pricing (payments._settle): standard EEA cards
  1,5% + € 0,25, SEPA Direct Debit € 0,35 (https://stripe.com/it/pricing); refunds keep no
  fee back; a dispute withdraws its amount plus the € 20 dispute fee in one ``adjustment``
  (reporting category ``dispute``), given back with a ``dispute_reversal`` if won.
- ``GET /v1/balance_transactions`` (``payout``, ``source``, ``type``, ``currency``,
  ``created``; ``expand[]=data.source``) and ``GET /v1/balance_transactions/{id}``.
- ``GET /v1/payouts`` (``created``, ``status``, ``arrival_date``), ``GET /v1/payouts/{id}``.
- ``POST /_standin/payouts`` [``account``, ``statement_descriptor``, ``status=paid|failed``]
  (or the ``Stripe-Account`` header): pays out every balance transaction of the account not
  yet paid out, as if all pending balance had become available: creates an automatic payout
  for their net total with its own ``payout`` balance transaction, and sends
  ``payout.created``, ``payout.paid`` (or ``payout.failed``) and
  ``payout.reconciliation_completed``. ``BalanceTransaction.list(payout=...)`` then lists
  them, the payout's own transaction included, as Stripe does.
"""

from __future__ import annotations

from localstripe.resources import BalanceTransaction, Payout, StripeObject, Subscription

from . import core, events
from .shapes import shaper

DISPUTE_FEE = 2000  # € 20 (https://stripe.com/it/pricing, "Contestazioni")
DAY = 86400


def new_transaction(*, amount, currency, type_, category, source, fee=0, description=None):
    """A balance transaction of any type (localstripe's constructor only knows charge and
    refund), tagged with the current account."""
    txn = BalanceTransaction.__new__(BalanceTransaction)
    StripeObject.__init__(txn)
    txn.amount = amount
    txn.currency = currency
    txn.description = description
    txn.exchange_rate = None
    txn.fee = fee
    txn.fee_details = (
        [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": description or "Stripe fee",
                "type": "stripe_fee",
            }
        ]
        if fee
        else []
    )
    txn.reporting_category = category
    txn.source = source
    txn.status = "available"
    txn.available_on = txn.created
    txn.type = type_
    txn._payout = None
    return txn


def dispute_opened(dispute) -> None:
    """The disputed amount and the dispute fee leave the balance."""
    txn = new_transaction(
        amount=-dispute.amount,
        currency=dispute.currency,
        type_="adjustment",
        category="dispute",
        source=dispute.id,
        fee=DISPUTE_FEE,
        description=f"Chargeback withdrawal for {dispute.charge}",
    )
    dispute.balance_transactions.append(txn._export())


def dispute_closed(dispute) -> None:
    if dispute.status != "won":
        return
    txn = new_transaction(
        amount=dispute.amount,
        currency=dispute.currency,
        type_="adjustment",
        category="dispute_reversal",
        source=dispute.id,
        fee=-DISPUTE_FEE,
        description=f"Chargeback reversal for {dispute.charge}",
    )
    dispute.balance_transactions.append(txn._export())


@shaper(Payout)
def _payout(self, o, inc):  # https://docs.stripe.com/api/payouts/object
    return {
        "id": o["id"],
        "object": "payout",
        "amount": o["amount"],
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": o["arrival_date"],
        "automatic": o["automatic"],
        "balance_transaction": o["balance_transaction"],
        "created": o["created"],
        "currency": o["currency"],
        "description": o["description"] or "STRIPE PAYOUT",
        "destination": o["destination"],
        "failure_balance_transaction": o["failure_balance_transaction"],
        "failure_code": o["failure_code"],
        "failure_message": o["failure_message"],
        "livemode": False,
        "metadata": o["metadata"],
        "method": o["method"],
        "original_payout": None,
        "payout_method": None,
        "reconciliation_status": getattr(self, "reconciliation_status", "not_applicable"),
        "reversed_by": None,
        "source_type": o["source_type"],
        "statement_descriptor": o["statement_descriptor"] or None,
        "status": o["status"],
        "trace_id": getattr(self, "trace_id", None) or {"status": "pending", "value": None},
        "type": "bank_account",
    }


def _transactions():
    return core.objects_of(BalanceTransaction)


@core.override("GET", "/v1/balance_transactions")
async def list_transactions(request):
    data = await core.read_params(request)
    filters = []
    if "payout" in data:
        payout = data.pop("payout")
        filters.append(lambda t: getattr(t, "_payout", None) == payout)
    for key in ("source", "type", "currency"):
        if key in data:
            value = data.pop(key)
            filters.append(lambda t, k=key, v=value: getattr(t, k) == v)
    core.check_known(data, ("created", "ending_before", "limit", "starting_after"))
    return core.respond(
        core.list_response("/v1/balance_transactions", _transactions(), data, filters)
    )


@core.override("GET", "/v1/balance_transactions/[^/]+")
async def retrieve_transaction(request):
    data = await core.read_params(request)
    txn = core.get(BalanceTransaction, request.path.rsplit("/", 1)[-1])
    return core.respond(txn, data.get("expand"))


@core.override("GET", "/v1/payouts")
async def list_payouts(request):
    data = await core.read_params(request)
    filters = []
    if "status" in data:
        status = data.pop("status")
        filters.append(lambda p: p.status == status)
    data.pop("arrival_date", None)
    core.check_known(data, ("created", "ending_before", "limit", "starting_after"))
    return core.respond(core.list_response("/v1/payouts", core.objects_of(Payout), data, filters))


@core.override("GET", r"/v1/subscriptions")
async def list_subscriptions(request):
    """Subscriptions of the account, ``status=all`` included (localstripe's list knows
    neither accounts nor ``all``)."""
    data = await core.read_params(request)
    filters = []
    status = data.pop("status", None)
    if status and status != "all":
        filters.append(lambda s: s.status == status)
    elif not status:
        filters.append(lambda s: s.status != "canceled")
    if "customer" in data:
        customer = data.pop("customer")
        filters.append(lambda s: s.customer == customer)
    core.check_known(data, ("created", "ending_before", "limit", "starting_after"))
    objects = core.objects_of(Subscription)
    return core.respond(core.list_response("/v1/subscriptions", objects, data, filters))


async def pay_out(request):
    data = await core.read_params(request)
    account = data.get("account") or core.ACCOUNT.get()
    status = data.get("status", "paid")
    if status not in ("paid", "failed"):
        raise core.invalid("status", "status must be paid or failed")
    with core.as_account(account):
        waiting = [
            t
            for t in _transactions()
            if getattr(t, "_account", None) == account
            and getattr(t, "_payout", None) is None
            and t.type != "payout"
        ]
        amount = sum(t.amount - t.fee for t in waiting)
        if amount <= 0:
            raise core.error(
                400, "There is no available balance to pay out.", "balance_insufficient"
            )
        payout = Payout(
            amount=amount,
            currency=waiting[0].currency,
            statement_descriptor=data.get("statement_descriptor") or None,
        )
        txn = new_transaction(
            amount=-amount,
            currency=payout.currency,
            type_="payout",
            category="payout",
            source=payout.id,
            description="STRIPE PAYOUT",
        )
        for t in [*waiting, txn]:
            t._payout = payout.id
            t.status = "available"
        payout.automatic = True
        payout.balance_transaction = txn.id
        payout.arrival_date = (core.now() // DAY + 1) * DAY  # midnight UTC, next day
        payout.trace_id = {"status": "supported", "value": core.new_id("TRACE", 10).upper()}
        payout.status = status
        if status == "failed":
            payout.failure_code = "account_closed"
            payout.failure_message = "The bank account has been closed."
        events.emit(f"payout.{status}", payout)
        if status == "paid":
            payout.reconciliation_status = "completed"
            events.emit("payout.reconciliation_completed", payout)
    return core.respond(payout)


def routes(app) -> None:
    app.router.add_post("/_standin/payouts", pay_out)
