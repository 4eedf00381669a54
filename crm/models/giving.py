"""The giving record: donors, donations and recurring plans.
Money is integer euro cents (`*_cents`; see `crm.money`)."""

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, F, Q, Sum, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..money import format_amount, gift_year_bounds
from ..validators import normalise_code, validate_codice_fiscale, validate_partita_iva
from .network import Network, NetworkScopedQuerySet


class Donor(models.Model):
    """A person or organisation who gives to one network (each network is its own data
    controller: the same person giving to two networks is two donors)."""

    wagtail_reference_index_ignore = True  # see Donation

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANISATION = "organisation", _("Organisation")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="donors", verbose_name=_("network")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.PERSON)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    organisation_name = models.CharField(_("organisation name"), max_length=255, blank=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    codice_fiscale = models.CharField(
        _("codice fiscale"), max_length=16, blank=True, validators=[validate_codice_fiscale]
    )
    partita_iva = models.CharField(
        _("partita IVA"), max_length=13, blank=True, validators=[validate_partita_iva]
    )
    street_address = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    province = models.CharField(_("province"), max_length=2, blank=True)
    country = models.CharField(_("country"), max_length=2, default="IT")
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="it"
    )
    newsletter = models.BooleanField(_("newsletter consent"), default=False)
    public_mention = models.BooleanField(_("may be named publicly"), default=False)
    privacy_notice_version = models.CharField(
        _("privacy notice version"), max_length=20, blank=True
    )
    privacy_accepted_at = models.DateTimeField(
        _("privacy notice accepted at"), null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    tags = models.CharField(_("tags"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_donors",
        verbose_name=_("merged into"),
    )
    possible_duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="possible_duplicates",
        verbose_name=_("possible duplicate of"),
        help_text=_(
            "Set when a gift came with this donor's codice fiscale or email but other details: "
            "what a donor types is a claim, so a treasurer decides whether to merge."
        ),
    )
    newsletter_confirmed_at = models.DateTimeField(
        _("newsletter confirmed at"),
        null=True,
        blank=True,
        help_text=_("When the donor confirmed the newsletter from the link we emailed them."),
    )
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    # Who the donor is and how to reach them: merged, exported and erased together.
    NAME_FIELDS = ("first_name", "last_name", "organisation_name")
    CONTACT_FIELDS = (
        "email",
        "codice_fiscale",
        "partita_iva",
        "street_address",
        "postal_code",
        "city",
        "province",
        "phone",
    )
    PERSONAL_FIELDS = (*NAME_FIELDS, *CONTACT_FIELDS, "notes", "tags", "source")

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "organisation_name"]
        verbose_name = _("donor")
        verbose_name_plural = _("donors")
        indexes = [
            models.Index(fields=["network", "email"]),
            models.Index(fields=["network", "codice_fiscale"]),
            models.Index(fields=["network", "last_name", "first_name"]),
        ]

    def __str__(self):
        return str(self.display_name)

    @property
    def display_name(self):
        if self.kind == self.Kind.ORGANISATION and self.organisation_name:
            return self.organisation_name
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or _("Anonymous donor")

    display_name.fget.short_description = _("Name")  # type: ignore[attr-defined]  # a column heading

    def clean(self):
        self.codice_fiscale = normalise_code(self.codice_fiscale)
        self.partita_iva = normalise_code(self.partita_iva)
        self.email = (self.email or "").strip().lower()


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


class DonationQuerySet(NetworkScopedQuerySet):
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
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")
        OTHER = "other", _("Other")

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


class RecurringPlan(models.Model):
    """Monthly or yearly giving backed by a Stripe subscription."""

    wagtail_reference_index_ignore = True  # see Donation

    class Interval(models.TextChoices):
        MONTH = "month", _("Monthly")
        QUARTER = "quarter", _("Quarterly")
        YEAR = "year", _("Yearly")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment failing")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")
        # Stripe answered "No such subscription": a wrong key or account as likely as a gone
        # subscription, so nothing is concluded (no donor is told) until a treasurer looks.
        TO_CHECK = "to_check", _("To check")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="recurring_plans", verbose_name=_("network")
    )
    donor = models.ForeignKey(
        Donor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recurring_plans",
        verbose_name=_("donor"),
    )
    campaign = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("campaign"),
    )
    amount_cents = models.PositiveIntegerField(_("amount"))
    currency = models.CharField(max_length=3, default="EUR", verbose_name=_("currency"))
    interval = models.CharField(
        _("interval"), max_length=10, choices=Interval, default=Interval.MONTH
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    failures = models.PositiveIntegerField(_("failed payments"), default=0)
    stripe_subscription_id = models.CharField(
        max_length=255, null=True, blank=True, unique=True, verbose_name=_("Stripe subscription")
    )
    stripe_customer_id = models.CharField(
        max_length=255, blank=True, verbose_name=_("Stripe customer")
    )
    # The subscription's payment method as last seen: a new one is a card update.
    stripe_payment_method_id = models.CharField(
        max_length=255, blank=True, verbose_name=_("Stripe payment method")
    )
    # Each change we ask of Stripe stamps the subscription's metadata with the next revision:
    # a webhook carrying an older one describes a state already replaced, and is not applied.
    stripe_revision = models.PositiveIntegerField(default=0, verbose_name=_("Stripe revision"))
    # Signed into the donor's links to the plan's page (`crm.links`): raising it revokes every
    # link sent so far (the donor's or a treasurer's choice); the next email carries a new one.
    link_version = models.PositiveIntegerField(default=0, verbose_name=_("version of the links"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # When Stripe will next charge (the subscription item's current period end); shown only
    # while the plan charges (`upcoming_charge`).
    next_charge_at = models.DateTimeField(_("next charge"), null=True, blank=True)
    # Where the subscription was made, as Stripe said when the plan started (None: not
    # recorded): a later "No such subscription" is compared with the key and account in use.
    livemode = models.BooleanField(
        _("live mode"),
        null=True,
        blank=True,
        help_text=_("Whether Stripe made the subscription in live mode (not test mode)."),
    )
    stripe_account_id = models.CharField(
        _("Stripe account when started"),
        max_length=255,
        null=True,
        blank=True,
        help_text=_("The connected account the subscription was made on; empty: the platform."),
    )
    check_note = models.TextField(
        _("what to check"),
        blank=True,
        help_text=_("Why the plan is to check: what Stripe answered and what was compared."),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("recurring plan")
        verbose_name_plural = _("recurring plans")
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="plan_amount_positive"),
        ]

    def __str__(self):
        return f"{format_amount(self.amount_cents)} / {self.get_interval_display()}"

    # Statuses in which Stripe charges on the next date (a failing plan is still retried).
    CHARGING = (Status.ACTIVE, Status.PAST_DUE)

    @property
    def upcoming_charge(self):
        """When the donor will next be charged, or None: never while paused, stopped or to
        check, whatever date Stripe's current period has."""
        return self.next_charge_at if self.status in self.CHARGING else None
