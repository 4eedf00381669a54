"""Receipts react to giving: a succeeded gift gets its receipt (if the donor asked for one or
the network always issues them), a refund voids it. Connected from `CrmConfig.ready()`; also
imports `crm.mail` so anymail's tracking receiver is connected."""

import logging

from django.db import transaction
from django.dispatch import receiver

from . import (
    mail,  # noqa: F401  (connects the anymail tracking receiver)
    receipt_log_actions,  # noqa: F401  (registers the receipt history actions)
)
from .events import donation_refunded, donation_succeeded, recurring_payment_failed
from .receipts import handle_refund, issue_receipt, send_receipt_email, should_issue_automatically

logger = logging.getLogger(__name__)


@receiver(donation_succeeded, dispatch_uid="crm.receipts.issue_on_success")
def issue_on_success(sender, donation, **kwargs):
    if not should_issue_automatically(donation):
        return
    try:
        # A savepoint: a receipt problem must not undo the gift being recorded; the gift stays
        # uncovered and the yearly statement (or the admin) receipts it later.
        with transaction.atomic():
            receipt = issue_receipt([donation])
            if receipt.donor.email:
                send_receipt_email(receipt)
    except Exception:
        logger.exception("could not issue a receipt for donation %s", donation.pk)


@receiver(donation_refunded, dispatch_uid="crm.receipts.void_on_refund")
def void_on_refund(sender, donation, reason="", **kwargs):
    handle_refund(donation, reason or "refund")


@receiver(recurring_payment_failed, dispatch_uid="crm.mail.tell_donor_payment_failed")
def tell_donor_payment_failed(sender, plan, **kwargs):
    mail.queue_payment_failed_email(plan)
