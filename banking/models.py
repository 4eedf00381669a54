"""Bank transfers: the network's bank details, the pledges donors make when they choose to give
by "bonifico", the bank statements a treasurer uploads and their lines, and the saved CSV
column mappings of each bank. A pledge is expected money: never a gift, never in a figure."""

import datetime
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cms import pagecache
from crm.models import Donation, Donor, Network, NetworkScopedQuerySet
from crm.storage import private_storage

from .validators import validate_bic, validate_iban


class BankDetails(models.Model):
    """Where a donor sends a bank transfer to the network's issuing entity."""

    network = models.OneToOneField(
        Network, on_delete=models.CASCADE, related_name="bank_details", verbose_name=_("network")
    )
    beneficiary = models.CharField(_("beneficiary name"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=42, validators=[validate_iban])
    bic = models.CharField(_("BIC"), max_length=11, blank=True, validators=[validate_bic])
    # At least a day (0 lapses a pledge the day it is made), at most a year.
    pledge_days = models.PositiveSmallIntegerField(
        _("days a pledge waits for its transfer"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    payout_marker = models.CharField(
        _("text that marks a Stripe payout on the statement"),
        max_length=100,
        blank=True,
        default="STRIPE",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("bank details")
        verbose_name_plural = _("bank details")

    def __str__(self) -> str:
        return f"{self.beneficiary} · {self.iban}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.iban = "".join(self.iban.split()).upper()
        self.bic = "".join(self.bic.split()).upper()
        super().save(*args, **kwargs)
        # The campaign pages show the transfer button or not: cached copies are stale.
        pagecache.bump_content_version()


class Pledge(models.Model):
    """A donor said they will send a bank transfer: expected money with its RF reference."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the transfer")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    class EmailStatus(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent")

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="pledges")
    campaign = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reference = models.CharField(_("reference"), max_length=35, unique=True)
    amount_cents = models.BigIntegerField(_("amount"))
    donor_details = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=8, default="it")
    wants_receipt = models.BooleanField(default=False)
    # The dedication section of the form, as the gift will keep it (`Donation`'s fields of
    # the same names): the family is told when the transfer arrives, if the donor asked.
    dedication = models.CharField(max_length=255, blank=True)
    tribute = models.CharField(max_length=10, choices=Donation.Tribute, blank=True)
    tribute_name = models.CharField(max_length=150, blank=True)
    tribute_notify_email = models.EmailField(blank=True)
    tribute_show_amount = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    expires_on = models.DateField(_("expires on"))
    donation = models.OneToOneField(
        Donation, null=True, blank=True, on_delete=models.SET_NULL, related_name="pledge"
    )
    email_status = models.CharField(max_length=20, choices=EmailStatus, default=EmailStatus.QUEUED)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=2000, blank=True)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    # When the sweep may queue the email again (a failed send's backoff, a lost task's wait).
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")

    def __str__(self) -> str:
        return self.reference

    @property
    def email(self) -> str:
        return str(self.donor_details.get("email") or "")

    @property
    def name(self) -> str:
        details = self.donor_details
        if details.get("organisation_name"):
            return str(details["organisation_name"])
        return " ".join(str(details.get(k) or "") for k in ("first_name", "last_name")).strip()

    def state(self, today: datetime.date | None = None) -> str:
        """open, expired (open past its days: computed, nothing writes it), received, cancelled."""
        today = today or timezone.localdate()
        if self.status == self.Status.OPEN and self.expires_on < today:
            return "expired"
        return str(self.status)


def statement_file_name(statement: "Statement", filename: str) -> str:
    network = statement.network.slug or str(statement.network_id)
    return f"statements/{network}/{uuid.uuid4().hex}-{filename[-80:]}"


class Statement(models.Model):
    """An uploaded bank statement (camt.053 or a bank's CSV), kept privately."""

    class Kind(models.TextChoices):
        CAMT053 = "camt053", _("camt.053 (ISO 20022 XML)")
        CSV = "csv", _("Bank CSV")

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="statements")
    kind = models.CharField(_("format"), max_length=10, choices=Kind)
    version = models.CharField(_("version"), max_length=40, blank=True)
    file = models.FileField(storage=private_storage, upload_to=statement_file_name)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    statement_id = models.CharField(_("statement"), max_length=140, blank=True)
    account = models.CharField(_("account"), max_length=42, blank=True)
    lines_added = models.PositiveIntegerField(_("lines added"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        constraints = [
            models.UniqueConstraint(fields=["network", "sha256"], name="statement_once_by_hash"),
            models.UniqueConstraint(
                fields=["network", "account", "statement_id"],
                condition=~models.Q(statement_id=""),
                name="statement_once_by_id",
            ),
        ]

    def __str__(self) -> str:
        return self.statement_id or self.filename


class StatementLine(models.Model):
    """One movement of a statement. Only a credit may become a gift."""

    class Kind(models.TextChoices):
        CREDIT = "credit", _("Credit")
        DEBIT = "debit", _("Debit")
        REVERSAL = "reversal", _("Reversal")
        RETURN = "return", _("Returned transfer")
        PAYOUT = "payout", _("Stripe payout")

    class Status(models.TextChoices):
        MATCHED = "matched", _("Gift recorded")
        REVIEW = "review", _("To review")
        IGNORED = "ignored", _("Ignored")
        NOT_A_GIFT = "not_a_gift", _("Not a gift")
        PAYOUT = "payout", _("Stripe payout")

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="+")
    account = models.CharField(max_length=42, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=140)
    booked_on = models.DateField(_("booked on"))
    value_on = models.DateField(_("value date"), null=True, blank=True)
    amount_cents = models.BigIntegerField(_("amount"))
    currency = models.CharField(max_length=3, default="EUR")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    status = models.CharField(_("status"), max_length=12, choices=Status)
    remittance = models.CharField(_("remittance information"), max_length=500, blank=True)
    name = models.CharField(_("name"), max_length=140, blank=True)
    iban = models.CharField(_("IBAN"), max_length=42, blank=True)
    pledge = models.ForeignKey(
        Pledge, null=True, blank=True, on_delete=models.SET_NULL, related_name="lines"
    )
    proposed_donor = models.ForeignKey(
        Donor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    donation = models.ForeignKey(
        Donation, null=True, blank=True, on_delete=models.SET_NULL, related_name="bank_lines"
    )
    payout = models.ForeignKey(
        "campaigns.Payout", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["booked_on", "pk"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        constraints = [
            models.UniqueConstraint(
                fields=["network", "account", "bank_reference"], name="statement_line_once"
            ),
        ]

    def __str__(self) -> str:
        return self.bank_reference


class CsvMapping(models.Model):
    """How one bank writes its CSV export: which column holds what."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="csv_mappings")
    bank = models.CharField(_("bank"), max_length=100)
    delimiter = models.CharField(_("delimiter"), max_length=1, default=";")
    decimal_comma = models.BooleanField(_("amounts use a decimal comma"), default=True)
    date_format = models.CharField(_("date format"), max_length=20, default="%d/%m/%Y")
    skip_lines = models.PositiveSmallIntegerField(_("lines before the header"), default=0)
    date_column = models.CharField(_("booking date column"), max_length=100)
    value_date_column = models.CharField(_("value date column"), max_length=100, blank=True)
    amount_column = models.CharField(
        _("amount column (signed)"), max_length=100, blank=True, help_text=_("or credit/debit")
    )
    credit_column = models.CharField(_("credit column"), max_length=100, blank=True)
    debit_column = models.CharField(_("debit column"), max_length=100, blank=True)
    description_column = models.CharField(_("description column"), max_length=100)
    name_column = models.CharField(_("payer name column"), max_length=100, blank=True)
    iban_column = models.CharField(_("payer IBAN column"), max_length=100, blank=True)
    reference_column = models.CharField(_("bank reference column"), max_length=100, blank=True)

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["bank"]
        verbose_name = _("CSV mapping")
        verbose_name_plural = _("CSV mappings")
        constraints = [
            models.UniqueConstraint(fields=["network", "bank"], name="one_mapping_per_bank")
        ]

    def __str__(self) -> str:
        return self.bank
