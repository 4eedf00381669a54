"""A Stripe payout and the balance transactions it paid out.

https://docs.stripe.com/api/payouts/object, https://docs.stripe.com/api/balance_transactions/object
Amounts are integer cents as Stripe gives them: a line's `amount` is signed (a refund is
negative), `fee` is what Stripe kept, `net` = amount − fee."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import Donation, IssuingEntity, Network
from crm.models.entities import EntityScopedQuerySet
from crm.money import format_amount


class Payout(models.Model):
    wagtail_reference_index_ignore = True  # a log of Stripe's, not a use of the network

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_TRANSIT = "in_transit", _("In transit")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Cancelled")

    # The platform account's payouts mix the networks without an account of their own: such a
    # payout has a network only when all its gifts are of one (else superusers see it alone).
    network = models.ForeignKey(
        Network,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
        verbose_name=_("network"),
    )
    # The entity whose Stripe account paid it out: a partner's own account, or the network's
    # (its lead entity's). An entity's treasurers see the payouts of its account only.
    entity = models.ForeignKey(
        IssuingEntity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
        verbose_name=_("entity"),
    )
    account = models.CharField(_("Stripe account"), max_length=64, blank=True)
    stripe_payout_id = models.CharField(_("Stripe payout"), max_length=255, unique=True)
    amount_cents = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    arrival_date = models.DateField(_("arrival date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    statement_descriptor = models.CharField(_("bank statement text"), max_length=255, blank=True)
    trace_id = models.CharField(_("bank reference"), max_length=255, blank=True)
    # Stripe's code (`account_closed`) is what the screens translate (`failure_text`); its
    # English message is kept for Stripe's support only.
    failure_code = models.CharField(_("failure code"), max_length=64, blank=True)
    failure_message = models.CharField(_("Stripe's failure message"), max_length=500, blank=True)
    reconciliation_status = models.CharField(max_length=20, blank=True)
    lines_fetched_at = models.DateTimeField(_("lines fetched at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EntityScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-arrival_date", "-id"]
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        indexes = [models.Index(fields=["network", "arrival_date"])]

    def __str__(self):
        day = f"{self.arrival_date:%d/%m/%Y}" if self.arrival_date else "—"
        return f"{format_amount(self.amount_cents)} · {day}"

    @property
    def failure_text(self):
        """Why the bank did not receive it, in the reader's language (never Stripe's English)."""
        if not (self.failure_code or self.failure_message or self.status == self.Status.FAILED):
            return ""
        return str(FAILURES.get(self.failure_code, FAILURE_OTHER))

    failure_text.fget.short_description = _("Failure")  # type: ignore[attr-defined]


# https://docs.stripe.com/api/payouts/failures
FAILURES = {
    "account_closed": _("The bank account has been closed."),
    "account_frozen": _("The bank account is frozen."),
    "bank_account_restricted": _("The bank account does not accept this kind of payment."),
    "bank_ownership_changed": _("The bank account has changed owner."),
    "could_not_process": _("The bank could not process the payout."),
    "debit_not_authorized": _("The bank did not authorise the transfer."),
    "declined": _("The bank declined the payout."),
    "incorrect_account_holder_name": _("The account holder's name does not match."),
    "insufficient_funds": _("The Stripe balance was not enough for the payout."),
    "invalid_account_number": _("The IBAN is not valid."),
    "invalid_currency": _("The bank account does not accept euros."),
    "no_account": _("The bank account does not exist."),
}
FAILURE_OTHER = _("The payout did not reach the bank: see the payout in Stripe's dashboard.")


class PayoutLine(models.Model):
    """One balance transaction of a payout, linked to our gift where it is one of ours."""

    class Kind(models.TextChoices):
        GIFT = "gift", _("Gift")
        REFUND = "refund", _("Refund")
        DISPUTE = "dispute", _("Dispute")
        FEE = "fee", _("Stripe fee")
        ADJUSTMENT = "adjustment", _("Adjustment")
        PAYOUT = "payout", _("Payout")

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="lines")
    balance_transaction_id = models.CharField(max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    type = models.CharField(_("Stripe type"), max_length=50, blank=True)
    amount_cents = models.BigIntegerField(_("amount"))
    fee_cents = models.BigIntegerField(_("fee"), default=0)
    net_cents = models.BigIntegerField(_("net"))
    currency = models.CharField(max_length=3, default="EUR")
    created = models.DateTimeField(_("date"), null=True, blank=True)
    available_on = models.DateField(_("available on"), null=True, blank=True)
    source_id = models.CharField(_("Stripe object"), max_length=255, blank=True)
    charge_id = models.CharField(_("Stripe charge"), max_length=255, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    donation = models.ForeignKey(
        Donation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payout_lines",
        verbose_name=_("gift"),
    )

    class Meta:
        ordering = ["created", "id"]
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        constraints = [
            models.UniqueConstraint(
                fields=["payout", "balance_transaction_id"], name="payout_line_once"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {format_amount(self.amount_cents)}"
