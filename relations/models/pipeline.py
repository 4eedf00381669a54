"""Asks in progress (opportunities), the year's target, and what was promised (pledges and
grants) with its instalments. None of it is money: money is a gift in the CRM, linked to its
instalment by a treasurer when it arrives."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Donation, Donor, Network
from crm.money import CentsField

from ..access import MembersQuerySet
from .orgs import Organisation


class Opportunity(models.Model):
    """An ask to an organisation or a major donor, from idea to received (or lost)."""

    class Stage(models.TextChoices):
        IDEA = "idea", _("Idea")
        CONTACTED = "contacted", _("Contacted")
        ASKED = "asked", _("Asked")
        PLEDGED = "pledged", _("Pledged")
        RECEIVED = "received", _("Received")
        REPORTED = "reported", _("Reported")
        LOST = "lost", _("Lost")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    title = models.CharField(_("title"), max_length=255)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name=_("organisation"),
    )
    donor = models.ForeignKey(
        Donor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name=_("major donor"),
    )
    call = models.ForeignKey(
        "relations.Call",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
        verbose_name=_("call"),
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage, default=Stage.IDEA)
    amount_cents = CentsField(_("amount"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=10, validators=[MaxValueValidator(100)]
    )
    expected_on = models.DateField(_("expected date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="relations_opportunities",
        verbose_name=_("owner"),
    )
    campaign = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("campaign"),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = MembersQuerySet.as_manager()

    class Meta:
        ordering = ["expected_on", "id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="relations_probability_at_most_100"
            )
        ]

    def __str__(self):
        return self.title


class YearTarget(models.Model):
    """What a network means to raise through its relationships in a year."""

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    amount_cents = CentsField(_("target"))

    objects = MembersQuerySet.as_manager()

    class Meta:
        ordering = ["-year"]
        verbose_name = _("year's target")
        verbose_name_plural = _("year's targets")
        constraints = [
            models.UniqueConstraint(fields=["network", "year"], name="relations_one_target")
        ]

    def __str__(self):
        return f"{self.network} {self.year}"


class Pledge(models.Model):
    """What an organisation or a donor promised (a pledge, or a grant after a call), to be
    paid in instalments. Never money: only the gifts linked to its instalments are."""

    class Kind(models.TextChoices):
        PLEDGE = "pledge", _("Pledge")
        GRANT = "grant", _("Grant")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    opportunity = models.OneToOneField(
        Opportunity, on_delete=models.PROTECT, related_name="pledge", verbose_name=_("opportunity")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.PLEDGE)
    amount_cents = CentsField(_("amount promised"))
    pledged_on = models.DateField(_("promised on"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = MembersQuerySet.as_manager()

    class Meta:
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")

    def __str__(self):
        return str(self.opportunity)


class Instalment(models.Model):
    """One payment of a pledge, due on a day; paid when a treasurer links the gift that paid
    it (one gift pays at most one instalment)."""

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    pledge = models.ForeignKey(
        Pledge, on_delete=models.CASCADE, related_name="instalments", verbose_name=_("pledge")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    due_on = models.DateField(_("due on"))
    amount_cents = CentsField(_("amount"))
    donation = models.OneToOneField(
        Donation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="instalment",
        verbose_name=_("gift that paid it"),
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("linked by"),
    )
    linked_at = models.DateTimeField(_("linked at"), null=True, blank=True)

    objects = MembersQuerySet.as_manager()

    class Meta:
        ordering = ["pledge", "number"]
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        permissions = [("link_instalment", "Can link a gift to an instalment")]
        constraints = [
            models.UniqueConstraint(fields=["pledge", "number"], name="relations_instalment_no")
        ]

    def __str__(self):
        return f"{self.pledge} · {self.number}"

    @property
    def paid(self):
        return self.donation_id is not None
