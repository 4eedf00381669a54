"""Background tasks of the giving side (Django's tasks API, run by `manage.py run_worker`)."""

import logging

from django.db import transaction
from django.tasks import task

from crm import gifts, tasks
from crm.models import Donation

from . import stripe_api
from .payouts import apply as money

log = logging.getLogger(__name__)


@task()
def read_payment_fee(donation_id):
    """A paid gift's fee, read from Stripe after the webhook committed (no transaction, and no
    row lock, waits on Stripe), then recorded in a short transaction of its own. Safe to run
    twice: a gift whose fee is known is left alone. Stripe unreachable: the fee is left for
    `stripe_reconcile` and the payout's lines, which fill it in later."""
    gift = Donation.objects.select_related("network").filter(pk=donation_id).first()
    if gift is None or not money.fee_wanted(gift):
        return False
    if gift.stripe_invoice_id:
        ask = {"invoice_id": gift.stripe_invoice_id}
    else:
        ask = {"payment_intent_id": gift.stripe_payment_intent_id}
    try:
        charge = money.ask_payment_charge(gift, **ask)  # on the account it was paid on
    except stripe_api.StripeError as exc:
        log.warning("fee of gift %s not read from Stripe, left for later: %s", gift.pk, exc)
        return False
    with transaction.atomic():
        locked = gifts.lock_donation(pk=donation_id)
        return locked is not None and money.record_payment_fee(locked, charge)


def read_fee_later(donation):
    """Queue `read_payment_fee` for a paid gift whose fee is not known, with the transaction
    that records its payment (`crm.tasks.enqueue_with_work`). True if queued."""
    if not money.fee_wanted(donation):
        return False
    tasks.enqueue_with_work(read_payment_fee, donation.pk)
    return True
