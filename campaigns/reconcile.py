"""Apply what webhooks missed: list recent Checkout Sessions, paid invoices and refunds from
Stripe and run them through the same handlers as the webhook (they are idempotent, so what
was already applied changes nothing). Used by `manage.py stripe_reconcile`."""

import logging

from django.db import transaction

from crm.models import Network

from . import stripe_api
from .stripe_handlers import NotOurs, NotYet, charge_refunded, checkout_completed, invoice_paid

log = logging.getLogger(__name__)


def _accounts():
    """One network per Stripe account: the platform ('') and each connected account."""
    seen = {}
    for network in Network.objects.order_by("pk"):
        seen.setdefault(network.stripe_account_id or "", network)
    return seen


def _apply(handler, obj, account, label, report):
    try:
        with transaction.atomic():
            changed = handler(obj, account)
    except (NotOurs, NotYet) as exc:
        report.append(("skipped", label, str(exc)))
        return
    if changed:
        report.append(("changed", label, ""))


def reconcile_since(created_gte):
    """Returns a list of (what, object, note): `changed` for each fix applied, `skipped` for
    objects that are not ours or cannot be placed."""
    report = []
    for account, network in _accounts().items():
        for session in stripe_api.list_checkout_sessions(network, created_gte):
            if session.get("status") == "complete":
                label = f"checkout session {session['id']}"
                _apply(checkout_completed, session, account, label, report)
        for invoice in stripe_api.list_paid_invoices(network, created_gte):
            if (invoice.get("parent") or {}).get("subscription_details"):
                _apply(invoice_paid, invoice, account, f"invoice {invoice['id']}", report)
        for charge in stripe_api.list_refunded_charges(network, created_gte):
            _apply(charge_refunded, charge, account, f"refunds of charge {charge['id']}", report)
    return report
