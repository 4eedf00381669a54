"""Stripe's lists that the reconciliation walks (`campaigns.reconcile`), account by account:
what Stripe holds since a date, read page by page with the same client and timeouts as every
other call (`campaigns.stripe_api`)."""

from .stripe_api import stripe_client


def _since(created_gte, limit=100):
    return {"created": {"gte": int(created_gte)}, "limit": limit}


def list_checkout_sessions(network, created_gte):
    client = stripe_client(network)
    page = client.v1.checkout.sessions.list(params=_since(created_gte))
    return [s.to_dict() for s in page.auto_paging_iter()]


def list_paid_invoices(network, created_gte):
    client = stripe_client(network)
    page = client.v1.invoices.list(params={**_since(created_gte), "status": "paid"})
    return [i.to_dict() for i in page.auto_paging_iter()]


def list_refunded_charges(network, created_gte):
    """Charges with a refund created since then (a refund is newer than its charge)."""
    client = stripe_client(network)
    page = client.v1.refunds.list(params=_since(created_gte))
    charge_ids = {r.charge for r in page.auto_paging_iter() if r.charge}
    return [client.v1.charges.retrieve(charge_id).to_dict() for charge_id in sorted(charge_ids)]


def list_payouts(network, created_gte):
    page = stripe_client(network).v1.payouts.list(params=_since(created_gte))
    return [p.to_dict() for p in page.auto_paging_iter()]


def list_disputes(network, created_gte):
    page = stripe_client(network).v1.disputes.list(params=_since(created_gte))
    return [d.to_dict() for d in page.auto_paging_iter()]


def list_subscriptions(network):
    """Every subscription of the account, whatever its status (cancelled ones too)."""
    page = stripe_client(network).v1.subscriptions.list(params={"status": "all", "limit": 100})
    return (s.to_dict() for s in page.auto_paging_iter())


def list_charge_transactions(network, created_gte):
    """Balance transactions of payments since then, with their charges."""
    page = stripe_client(network).v1.balance_transactions.list(
        params={**_since(created_gte), "type": "charge", "expand": ["data.source"]}
    )
    return (t.to_dict() for t in page.auto_paging_iter())
