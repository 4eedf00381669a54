"""Recurring plans: monthly, quarterly or yearly giving backed by a Stripe subscription.
Money is integer euro cents (`*_cents`; see `crm.money`)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..money import format_amount
from .donors import Donor
from .entities import entity_of, receiving_entity
from .network import Network, NetworkScopedQuerySet


class RecurringPlan(models.Model):
    """Monthly or yearly giving backed by a Stripe subscription."""

    wagtail_reference_index_ignore = True  # see Donation (crm.models.giving)

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

    @property
    def receiving_entity(self):
        """Who receives the plan's gifts, as its emails and receipts name it: its first gift's
        entity (a subscription never moves), else the one its campaign names, else the
        network's lead entity."""
        first = self.donations.select_related("entity", "network").order_by("pk").first()
        if first is not None:
            return entity_of(first)
        return receiving_entity(self.network, self.campaign)

    @property
    def stripe_account(self):
        """The Stripe account the plan's subscription lives on ('' the platform): the one
        Stripe made it on (its first gift's, its entity's then: a subscription never moves, so
        its renewals keep coming from there whatever the entity connects later), else, for a
        plan from before that was recorded, its network's."""
        if self.stripe_account_id is not None:
            return self.stripe_account_id
        return self.network.stripe_account_id or ""

    # Statuses in which Stripe charges on the next date (a failing plan is still retried).
    CHARGING = (Status.ACTIVE, Status.PAST_DUE)

    @property
    def upcoming_charge(self):
        """When the donor will next be charged, or None: never while paused, stopped or to
        check, whatever date Stripe's current period has."""
        return self.next_charge_at if self.status in self.CHARGING else None
