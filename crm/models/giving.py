"""The gifts: donations and the one truth of their money (`DonationQuerySet`, `KEPT`, `NET`).
Donors are in `donors`, recurring plans in `plans`.
Money is integer euro cents (`*_cents`; see `crm.money`)."""

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, F, Q, Sum, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..money import format_amount, gift_year_bounds
from .donors import Donor
from .entities import EntityScopedQuerySet, IssuingEntity, receiving_entity
from .network import Network


@dataclass(frozen=True)
class Money:
    """The money of a set of gifts, in cents (see `DonationQuerySet`)."""

    received: int = 0
    refunded: int = 0
    disputed: int = 0
    fees: int = 0
    gifts: int = 0

    @property
    def raised(self):
        """What counts: received, less what was given back and what is in open dispute."""
        return self.received - self.refunded - self.disputed

    @property
    def net(self):
        """What stays with the network after Stripe's fees."""
        return self.raised - self.fees


class DonationQuerySet(EntityScopedQuerySet):
    """One truth for the money: every screen, export and report sums gifts with these.

    - a **checkout attempt** (pending, failed, cancelled) is not a gift: no money arrived;
    - **received**: the gifts whose money arrived (succeeded, partially refunded, refunded,
      disputed), at their full amount; a gift held for review is not received until settled;
    - **refunded**: what was given back of them (a lost dispute included);
    - **disputed**: what is still kept of the gifts in open dispute;
    - **raised** (the "raccolto" of every screen): received − refunded − disputed, i.e. each
      counted gift's amount less its refunds (`KEPT`);
    - **fee**: Stripe's fees on received gifts; **net**: raised − fees;
    - a **gift of the year** is received on a day of that year in Italy
      (`crm.money.gift_year_bounds`; `received_on` is a day in Europe/Rome).
    """

    def paid_on(self, account):
        """Gifts paid on the Stripe account `account` ('' the platform): frozen on it, or
        recorded before accounts were per entity on a network whose account it is."""
        account = account or ""
        return self.filter(
            Q(stripe_account_id=account)
            | Q(stripe_account_id__isnull=True, network__stripe_account_id=account)
        )

    def checkout_attempts(self):
        """Checkouts started and not (yet) paid: kept for the treasurer, never a gift."""
        return self.filter(status__in=Donation.ATTEMPT_STATUSES)

    def gifts(self):
        """What the gifts list shows: everything but checkout attempts (a payment held for
        review is there, for the treasurer to settle)."""
        return self.exclude(status__in=Donation.ATTEMPT_STATUSES)

    def received(self):
        """Gifts whose money arrived, whatever happened after (refund, dispute)."""
        return self.filter(status__in=Donation.RECEIVED_STATUSES)

    def succeeded(self):
        """Gifts that count now: received and neither wholly refunded nor in open dispute."""
        return self.filter(status__in=Donation.COUNTED_STATUSES)

    counted = succeeded

    def of_year(self, year):
        """Gifts received in fiscal year `year` (Italy's calendar year)."""
        return self.filter(received_on__range=gift_year_bounds(year))

    def deductible(self):
        """Gifts that give a tax benefit: succeeded and paid by a traceable method (cash is not
        deductible, art. 83 c.1 D.Lgs. 117/2017)."""
        return self.succeeded().exclude(method=Donation.Method.CASH)

    def open_disputes(self):
        """Gifts whose payment the donor's bank disputes (chargeback) and that are not settled
        yet: they do not count, and their receipts are flagged until the dispute closes."""
        return self.filter(status=Donation.Status.DISPUTED)

    def with_money(self):
        """Each gift with `kept_amount_cents` (what counts of it) and `net_amount_cents`
        (that less Stripe's fee)."""
        return self.annotate(kept_amount_cents=KEPT, net_amount_cents=NET)

    def raised(self):
        """The cents raised by these gifts (see the class): one aggregate."""
        return self.aggregate(raised=Sum(KEPT))["raised"] or 0

    def money(self):
        """The `Money` of these gifts, one aggregate query."""
        received = Q(status__in=Donation.RECEIVED_STATUSES)
        disputed = Q(status=Donation.Status.DISPUTED)
        row = self.aggregate(
            received=Sum("amount_cents", filter=received),
            refunded=Sum("refunded_cents", filter=received),
            disputed=Sum(F("amount_cents") - F("refunded_cents"), filter=disputed),
            fees=Sum("fee_cents", filter=received),
            gifts=Count("pk", filter=Q(status__in=Donation.COUNTED_STATUSES)),
        )
        return Money(**{key: value or 0 for key, value in row.items()})


class Donation(models.Model):
    """One gift, online (Stripe) or offline (recorded by a treasurer)."""

    # Not in Wagtail's reference index: a campaign page's "usage" is not its gifts, and
    # indexing every webhook save halves the events applied per second.
    wagtail_reference_index_ignore = True

    class Method(models.TextChoices):
        CARD = "card", _("Card")
        SEPA_DEBIT = "sepa_debit", _("SEPA direct debit")
        PAYPAL = "paypal", _("PayPal")
        SATISPAY = "satispay", _("Satispay")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")
        OTHER = "other", _("Other")

    class Tribute(models.TextChoices):
        MEMORY = "memory", _("In memory of")
        HONOUR = "honour", _("In honour of")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        OFFLINE = "offline", _("Offline")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        # An open dispute (chargeback); won, the gift counts again; lost, it is refunded.
        DISPUTED = "disputed", _("Disputed")
        NEEDS_REVIEW = "needs_review", _("Held for review: amount or currency differs")

    # Statuses whose money counts towards totals (net of refunds).
    COUNTED_STATUSES = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED)
    # The money arrived (a refund or a dispute may have taken some or all of it back since).
    RECEIVED_STATUSES = (*COUNTED_STATUSES, Status.REFUNDED, Status.DISPUTED)
    # A checkout started on the giving form and not paid: not a gift (crm_checkout_attempt).
    ATTEMPT_STATUSES = (Status.PENDING, Status.FAILED, Status.CANCELLED)

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="donations", verbose_name=_("network")
    )
    # The entity of the network that receives the gift and receipts it: the campaign's, else
    # the network's lead entity (set when the gift is recorded, `Donation.save`).
    entity = models.ForeignKey(
        IssuingEntity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="donations",
        verbose_name=_("receiving entity"),
    )
    donor = models.ForeignKey(
        Donor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="donations",
        help_text=_("Empty while an online gift is pending: the donor is matched on success."),
        verbose_name=_("donor"),
    )
    campaign = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="donations",
        verbose_name=_("campaign"),
    )
    recurring_plan = models.ForeignKey(
        "RecurringPlan",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="donations",
        verbose_name=_("recurring plan"),
    )
    amount_cents = models.PositiveIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    received_on = models.DateField(_("received on"), default=timezone.localdate)
    method = models.CharField(_("method"), max_length=20, choices=Method, default=Method.CARD)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel, default=Channel.ONLINE)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    reference = models.CharField(
        _("reference"),
        max_length=255,
        blank=True,
        help_text=_("Bank transfer reference (CRO/TRN), cheque number…"),
    )
    wants_receipt = models.BooleanField(_("receipt requested"), default=False)
    donor_details = models.JSONField(
        _("details given with the gift"),
        default=dict,
        blank=True,
        help_text=_("What the donor typed in the form, used to match or create the donor."),
    )
    dedication = models.CharField(_("dedication"), max_length=255, blank=True)
    # A gift in memory or in honour of someone (the donor's claim, never a donor's identity);
    # the family is told by email only if the donor gave its address and agreed
    # (`crm.outbox.queue_tribute_email`), with the amount only if the donor said so.
    tribute = models.CharField(
        _("in memory or in honour"), max_length=10, choices=Tribute, blank=True
    )
    tribute_name = models.CharField(_("in memory or in honour of"), max_length=150, blank=True)
    tribute_notify_email = models.EmailField(_("family to tell (email)"), blank=True)
    tribute_show_amount = models.BooleanField(_("family may see the amount"), default=False)
    anonymous = models.BooleanField(
        _("anonymous on public pages"),
        default=True,
        help_text=_(
            "Untick only if the donor agreed, with this gift, to be named on the donor wall."
        ),
    )
    # The token of the message (an email to donors) whose link the donor followed to give: a
    # claim of where the gift came from, never who gave. Only the string: crm knows no messages.
    message_token = models.CharField(
        _("came through the email"), max_length=32, blank=True, db_index=True
    )
    fee_cents = models.PositiveIntegerField(_("Stripe fee"), default=0)
    refunded_cents = models.PositiveIntegerField(_("refunded"), default=0)
    # What Stripe said was paid when it differed from the gift (status NEEDS_REVIEW).
    reported_amount_cents = models.PositiveIntegerField(
        _("amount reported by Stripe"), null=True, blank=True
    )
    reported_currency = models.CharField(_("currency reported by Stripe"), max_length=3, blank=True)
    stripe_checkout_session_id = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        verbose_name=_("Stripe Checkout session"),
    )
    stripe_payment_intent_id = models.CharField(
        max_length=255, null=True, blank=True, unique=True, verbose_name=_("Stripe payment intent")
    )
    stripe_charge_id = models.CharField(
        max_length=255, blank=True, db_index=True, verbose_name=_("Stripe charge")
    )
    stripe_invoice_id = models.CharField(
        max_length=255, null=True, blank=True, unique=True, verbose_name=_("Stripe invoice")
    )
    stripe_subscription_id = models.CharField(
        max_length=255, blank=True, db_index=True, verbose_name=_("Stripe subscription")
    )
    stripe_balance_transaction_id = models.CharField(
        max_length=255, blank=True, verbose_name=_("Stripe balance transaction")
    )
    # From the payment's balance transaction: when Stripe makes the money available, and the
    # payout that brought it to the bank (`campaigns.payouts`).
    available_on = models.DateField(_("available on"), null=True, blank=True)
    stripe_payout_id = models.CharField(_("Stripe payout"), max_length=255, blank=True)
    # The Stripe account an online gift is paid on ('' the platform), frozen when the gift is
    # created from its entity's (`IssuingEntity.stripe_account`): its events, refund and payout
    # are of that account even if the entity connects another later. None: a gift recorded
    # before accounts were per entity (its entity's account is read instead).
    stripe_account_id = models.CharField(
        _("Stripe account"), max_length=64, null=True, blank=True, editable=False
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = DonationQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        # Treasurers of the gift's network (crm.tenancy) give money back through Stripe.
        permissions = [("refund_donation", _("Can refund donations"))]
        indexes = [
            models.Index(fields=["network", "status", "received_on"]),
            models.Index(fields=["campaign", "status"]),
            # The fundraising report groups a network's counted gifts by donor (first gift,
            # years given): read from this index alone, in donor order.
            models.Index(
                fields=["network", "donor", "received_on"],
                condition=Q(status__in=("succeeded", "partially_refunded")),  # COUNTED_STATUSES
                name="donation_counted_by_donor",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="donation_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("amount_cents")),
                name="donation_refund_not_above_amount",
            ),
        ]

    def __str__(self):
        return f"{format_amount(self.amount_cents)} · {self.received_on:%d/%m/%Y}"

    def save(self, *args, **kwargs):
        if self.entity_id is None and self.network_id is not None:
            self.entity = receiving_entity(self.network, self.campaign)
        if (
            self._state.adding
            and self.stripe_account_id is None
            and self.channel == self.Channel.ONLINE
            and self.network_id is not None
        ):
            # Frozen: its events, refund and payout stay on this account whatever changes.
            entity = self.entity
            own = entity is not None and entity.has_own_stripe_account
            self.stripe_account_id = (
                entity.stripe_account_id if own else (self.network.stripe_account_id or "")
            )
        super().save(*args, **kwargs)

    @property
    def stripe_account(self):
        """The Stripe account this gift is (or will be) paid on ('' the platform): the one
        frozen when it was created (its entity's), else, for a gift recorded before accounts
        were per entity, its network's (every gift was paid there then)."""
        if self.stripe_account_id is not None:
            return self.stripe_account_id
        return self.network.stripe_account_id or ""

    @property
    def kept_cents(self):
        """What counts of this gift (`KEPT`): its amount less refunds, nothing while in open
        dispute, nothing for a checkout that never paid."""
        if self.status not in self.COUNTED_STATUSES:
            return 0
        return self.amount_cents - self.refunded_cents

    @property
    def net_cents(self):
        """What stays with the network (`NET`): kept less Stripe's fee on a received gift."""
        fee = self.fee_cents if self.status in self.RECEIVED_STATUSES else 0
        return self.kept_cents - fee

    @property
    def is_checkout_attempt(self):
        return self.status in self.ATTEMPT_STATUSES

    @property
    def in_dispute(self):
        """The donor's bank disputes this payment and the dispute is still open."""
        return self.status == self.Status.DISPUTED

    @property
    def is_deductible(self):
        return self.status in self.COUNTED_STATUSES and self.method != self.Method.CASH


# The two per-gift figures as database expressions (see DonationQuerySet), for sums and
# annotations: what counts of a gift, and that less Stripe's fee.
KEPT = Case(
    When(
        status__in=Donation.COUNTED_STATUSES,
        then=F("amount_cents") - F("refunded_cents"),
    ),
    default=0,
    output_field=models.IntegerField(),
)
NET = KEPT - Case(
    When(status__in=Donation.RECEIVED_STATUSES, then=F("fee_cents")),
    default=0,
    output_field=models.IntegerField(),
)
