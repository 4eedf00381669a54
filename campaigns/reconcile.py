"""Apply what webhooks missed: list recent Checkout Sessions, paid invoices and refunds from
Stripe and run them through the same handlers as the webhook (they are idempotent, so what
was already applied changes nothing). The handlers' checks hold here too: a session or a
subscription bound to another gift is skipped, a payment whose amount or currency is not the
gift's is held for review (and the report says so). Used by `manage.py stripe_reconcile`."""

import logging

from django.db import transaction

from crm.models import Donation, Network

from . import stripe_api
from .stripe_handlers import NotOurs, NotYet, charge_refunded, checkout_completed, invoice_paid

log = logging.getLogger(__name__)


def _accounts():
    """One network per Stripe account: the platform ('') and each connected account."""
    seen = {}
    for network in Network.objects.order_by("pk"):
        seen.setdefault(network.stripe_account_id or "", network)
    return seen


HELD = "held for review: the amount or currency paid is not the gift's"


def _apply(handler, obj, account, label, report, gifts=None):
    """Run one handler; `gifts` are the donations the object is bound to, to tell a payment
    held for review from one applied."""
    try:
        with transaction.atomic():
            changed = handler(obj, account)
    except (NotOurs, NotYet) as exc:
        report.append(("skipped", label, str(exc)))
        return
    if changed:
        held = gifts is not None and gifts.filter(status=Donation.Status.NEEDS_REVIEW).exists()
        report.append(("changed", label, HELD if held else ""))


def reconcile_since(created_gte):
    """Returns a list of (what, object, note): `changed` for each fix applied, `skipped` for
    objects that are not ours or cannot be placed."""
    report = []
    for account, network in _accounts().items():
        for session in stripe_api.list_checkout_sessions(network, created_gte):
            if session.get("status") == "complete":
                label = f"checkout session {session['id']}"
                bound = Donation.objects.filter(stripe_checkout_session_id=session["id"])
                _apply(checkout_completed, session, account, label, report, bound)
        for invoice in stripe_api.list_paid_invoices(network, created_gte):
            if (invoice.get("parent") or {}).get("subscription_details"):
                label = f"invoice {invoice['id']}"
                bound = Donation.objects.filter(stripe_invoice_id=invoice["id"])
                _apply(invoice_paid, invoice, account, label, report, bound)
        for charge in stripe_api.list_refunded_charges(network, created_gte):
            _apply(charge_refunded, charge, account, f"refunds of charge {charge['id']}", report)
    return report
