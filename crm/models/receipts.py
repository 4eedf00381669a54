"""Receipts for tax purposes, their per-entity yearly counters, and the emails sent to donors."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..storage import private_storage, receipt_pdf_name
from .donors import Donor
from .entities import EntityScopedQuerySet, IssuingEntity
from .giving import Donation
from .network import Network
from .plans import RecurringPlan


class ReceiptCounter(models.Model):
    """The last receipt sequence used by an issuing entity in a fiscal year. Issuing takes a
    row lock on it (its UPDATE, `crm.receipts._next_sequence`) in the transaction that writes
    the receipt: gapless numbers, one series per entity."""

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    entity = models.ForeignKey(
        IssuingEntity, on_delete=models.PROTECT, related_name="+", verbose_name=_("entity")
    )
    year = models.PositiveIntegerField(verbose_name=_("year"))
    last_sequence = models.PositiveIntegerField(default=0, verbose_name=_("last number"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "year"], name="one_counter_per_entity_year")
        ]

    def __str__(self):
        return f"{self.entity_id}/{self.year}: {self.last_sequence}"


class Receipt(models.Model):
    """A receipt for tax purposes (ricevuta per erogazione liberale, art. 83 D.Lgs. 117/2017).

    Immutable once issued: a correction voids it (keeping its number) and issues a new one.
    """

    # Not in Wagtail's reference index: no page references a receipt, and a network's "usage"
    # is not its receipts; indexing each one queued a worker task per gift.
    wagtail_reference_index_ignore = True

    class Kind(models.TextChoices):
        SINGLE = "single", _("Single gift")
        ANNUAL = "annual", _("Yearly statement")
        # Goods given (crm.in_kind): its amount is the goods' value, never money.
        IN_KIND = "in_kind", _("Gift in kind")

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        VOID = "void", _("Void")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("network")
    )
    # The entity that issued it, in whose series it is numbered (its data: `entity_snapshot`).
    entity = models.ForeignKey(
        IssuingEntity,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("issuing entity"),
    )
    year = models.PositiveIntegerField(_("fiscal year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("number"), max_length=30)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.SINGLE)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.ISSUED)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("issued by"),
    )
    donor = models.ForeignKey(
        Donor, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("donor")
    )
    donations = models.ManyToManyField(
        Donation, related_name="receipts", verbose_name=_("donations")
    )
    amount_cents = models.PositiveIntegerField(_("amount"))
    # An in-kind receipt's goods (kind IN_KIND), and what they were as issued (description,
    # value, valuation): the PDF reads the snapshot, like the donor's and the entity's.
    in_kind_gift = models.ForeignKey(
        "InKindGift",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("gift in kind"),
    )
    goods_snapshot = models.JSONField(_("goods at issue"), default=dict, blank=True)
    donor_snapshot = models.JSONField(_("donor details at issue"), default=dict)
    entity_snapshot = models.JSONField(_("issuing entity details at issue"), default=dict)
    language = models.CharField(max_length=5, default="it", verbose_name=_("language"))
    # On the private storage under a random name; served only by checked views (crm.storage).
    pdf = models.FileField(
        _("PDF"), upload_to=receipt_pdf_name, storage=private_storage, blank=True
    )
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    pdf_error = models.TextField(
        _("PDF rendering error"), blank=True, help_text=_("Last rendering failure, if any.")
    )
    # When the sweep last put its rendering back on the queue (None: only at issue): the sweep
    # enqueues it again only once TASKS_LOST_AFTER has passed since (crm.sweep).
    pdf_enqueued_at = models.DateTimeField(
        _("PDF rendering queued again at"), null=True, blank=True, editable=False
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("voided by"),
    )
    void_reason = models.CharField(_("reason for voiding"), max_length=255, blank=True)
    replaces = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        verbose_name=_("replaces"),
    )

    objects = EntityScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-sequence"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "year", "sequence"], name="receipt_number_unique_per_entity"
            ),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        # A receipt written without naming its entity (fixtures, tools) is the lead entity's;
        # `crm.receipts` always names it.
        if self.entity_id is None and self.network_id is not None:
            self.entity = self.network.lead_entity
        super().save(*args, **kwargs)


class DonorEmail(models.Model):
    """One email to a donor: the thank-you with a receipt attached, the notice that a monthly
    payment failed, or the newsletter's confirmation link (double opt-in). Tracks attempts,
    retries and the delivery status reported by the mail provider's tracking webhooks, so
    nothing sent is lost and treasurers see what arrived."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        PAYMENT_FAILED = "payment_failed", _("Monthly payment failed")
        NEWSLETTER_CONFIRM = "newsletter_confirm", _("Newsletter confirmation")
        REFUND = "refund", _("Refund")
        PLAN_STOPPED = "plan_stopped", _("Plan stopped")
        PLAN_LINK = "plan_link", _("Plan manage link")
        # A change of amount, frequency, pause or resume, whoever made it (`details`).
        PLAN_CHANGED = "plan_changed", _("Plan changed")
        # One per succeeded gift (crm.thanks): amount, date, campaign, method, the receipt
        # attached when one is issued with it; a plan's first gift gets the welcome instead.
        GIFT = "gift", _("Gift confirmation")
        PLAN_WELCOME = "plan_welcome", _("Welcome to a recurring plan")
        DONOR_PORTAL = "donor_portal", _("Link to the donor's page")
        # To the family named with a gift in memory or in honour of someone (`to` is theirs).
        TRIBUTE = "tribute", _("Notice to the family of a tribute gift")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        FAILED = "failed", _("Failed, will retry")
        GAVE_UP = "gave_up", _("Failed, gave up")
        SKIPPED = "skipped", _("Not sent: the address is suppressed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.RECEIPT)
    receipt = models.ForeignKey(
        Receipt,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emails",
        verbose_name=_("receipt"),
    )
    recurring_plan = models.ForeignKey(
        RecurringPlan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emails",
        verbose_name=_("recurring plan"),
    )
    # The donor asked to confirm the newsletter (NEWSLETTER_CONFIRM).
    donor = models.ForeignKey(
        Donor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emails",
        verbose_name=_("donor"),
    )
    # The gift refunded (REFUND, with how much this refund gave back), or confirmed (GIFT,
    # PLAN_WELCOME: at most one each, see the constraint).
    donation = models.ForeignKey(
        Donation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emails",
        verbose_name=_("donation"),
    )
    amount_cents = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("amount"))
    # PLAN_CHANGED: the change as it was made (`crm.plans.PlanChange`), so the email says that
    # change even if another one follows before it is sent.
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    to = models.EmailField(verbose_name=_("recipient"))
    status = models.CharField(
        max_length=12, choices=Status, default=Status.QUEUED, verbose_name=_("status")
    )
    message_id = models.CharField(
        max_length=255, blank=True, db_index=True, verbose_name=_("message id")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    # The claim of the worker sending it (crm.mail.deliver_email): taken by compare-and-set,
    # committed before the mail backend is called, cleared when the outcome is recorded. A
    # claim older than CLAIM_STALE_AFTER lost its worker (crm.sweep).
    claimed_by = models.CharField(max_length=100, blank=True, editable=False)
    in_flight_since = models.DateTimeField(null=True, blank=True, editable=False)
    # When a send task was last put on the queue for it by the sweep or a deferred retry
    # (None: once, after it was created).
    enqueued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # 0: the receipt's own email; n: the n-th one a treasurer asked for again ("resend").
    resend = models.PositiveSmallIntegerField(default=0, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("email to donor")
        verbose_name_plural = _("emails to donors")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="receipt") & Q(receipt__isnull=False))
                | (Q(kind="payment_failed") & Q(recurring_plan__isnull=False))
                | (
                    Q(kind__in=("plan_stopped", "plan_link", "plan_changed"))
                    & Q(recurring_plan__isnull=False)
                )
                | (Q(kind="newsletter_confirm") & Q(donor__isnull=False))
                | (Q(kind="refund") & Q(donation__isnull=False))
                | (Q(kind__in=["gift", "plan_welcome", "tribute"]) & Q(donation__isnull=False))
                | (Q(kind="donor_portal") & Q(donor__isnull=False)),
                name="email_has_its_subject",
            ),
            models.UniqueConstraint(
                fields=["donation"],
                condition=Q(kind__in=["gift", "plan_welcome"]),
                name="one_confirmation_per_gift",
            ),
            models.UniqueConstraint(
                fields=["donation"], condition=Q(kind="tribute"), name="one_tribute_notice_per_gift"
            ),
            # A statement (or any receipt) is emailed once, then once per resend asked for: two
            # workers, or a run taken over while it still ran, cannot queue it twice.
            models.UniqueConstraint(
                fields=["receipt", "resend"],
                condition=Q(kind="receipt"),
                name="one_email_per_receipt_send",
            ),
        ]

    def __str__(self):
        return f"{self.to} ({self.get_status_display()})"


class SuppressedAddress(models.Model):
    """An address of a network that no newsletter or message goes to any more: the mail provider
    reported that an email of ours to it bounced, or that its owner marked one as spam,
    whichever email it was (a gift's confirmation, a receipt, a message). One list for every
    email to donors (`crm.mail_policy.suppress_address`). Who it stops is `crm.sending.Purpose`:
    a complaint stops messages only; a bounce also stops the emails a donor is owed for a gift or
    a plan (the address takes no mail), never one the donor just asked for."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")

    class Source(models.TextChoices):
        GIFT_EMAIL = "gift_email", _("an email about a gift or plan")
        MESSAGE = "message", _("a message to donors")

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="+", verbose_name=_("network")
    )
    # Kept lower-case: one row per address whatever the case it was typed in.
    email = models.EmailField(_("email"))
    reason = models.CharField(_("reason"), max_length=12, choices=Reason)
    detail = models.TextField(_("what the provider said"), blank=True)
    source = models.CharField(_("caused by"), max_length=12, choices=Source, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        constraints = [
            models.UniqueConstraint(fields=["network", "email"], name="one_suppressed_address")
        ]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)
