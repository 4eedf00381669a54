"""Gifts in kind (erogazioni liberali in natura): goods a donor gives, recorded by a treasurer.

Not money, so not a `Donation`: every money figure (`DonationQuerySet`: raised, net, payouts,
the Agenzia data of money gifts) reads `Donation` alone and can never count goods. Their value
is the one the rules set (art. 3 of the decree of the Minister of Labour of 28 November 2019,
GU n. 24 of 30 January 2020) and shows only where goods are named as goods: the donor's record,
the in-kind list and its exports, the in-kind receipt."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..money import format_amount
from ..storage import in_kind_document_name, private_storage
from .donors import Donor
from .entities import EntityScopedQuerySet, IssuingEntity, receiving_entity
from .network import Network

# Above this value (EUR 30,000) the normal value of goods needs a sworn appraisal (perizia
# giurata) dated no more than 90 days before the transfer (DM 28/11/2019, art. 3 c.4).
APPRAISAL_ABOVE_CENTS = 3_000_000
APPRAISAL_MAX_AGE_DAYS = 90


class InKindGift(models.Model):
    """Goods given to a network (food, computers, a van), with the value the rules set and how
    it was set. Treasurers record it (CRM → Gifts in kind); its documents are private files."""

    wagtail_reference_index_ignore = True  # see Donation (crm.models.giving)

    class Valuation(models.TextChoices):
        # DM 28/11/2019 art. 3 c.1: the normal value (art. 9 TUIR): price lists, tariffs.
        NORMAL_VALUE = "normal_value", _("Normal value (price lists, market prices)")
        # The same normal value, read from the donor's purchase invoice or receipt.
        INVOICE = "invoice", _("Normal value from the donor's invoice")
        # art. 3 c.2: a business's capital goods: their residual tax value.
        RESIDUAL_VALUE = "residual_value", _("Residual tax value (a business's capital goods)")
        # art. 3 c.3: a business's stock (art. 85 c.1 a, b TUIR): the lower of the normal
        # value and the inventory value (art. 92 TUIR).
        INVENTORY_VALUE = "inventory_value", _("Lower of normal and inventory value (stock)")
        # art. 3 c.4: above EUR 30,000, or when no objective criterion gives the value.
        SWORN_APPRAISAL = "sworn_appraisal", _("Sworn appraisal (perizia giurata)")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="in_kind_gifts", verbose_name=_("network")
    )
    # The entity of the network that received the goods and receipts them: the one the
    # treasurer chose, else the campaign's, else the lead entity (as an offline gift).
    entity = models.ForeignKey(
        IssuingEntity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="in_kind_gifts",
        verbose_name=_("receiving entity"),
    )
    donor = models.ForeignKey(
        Donor, on_delete=models.PROTECT, related_name="in_kind_gifts", verbose_name=_("donor")
    )
    campaign = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="in_kind_gifts",
        verbose_name=_("campaign"),
    )
    description = models.TextField(
        _("goods given"),
        help_text=_("What was given, item by item, with quantities (as the donor declared it)."),
    )
    value_cents = models.PositiveIntegerField(_("value"))
    valuation = models.CharField(
        _("how the value was set"), max_length=20, choices=Valuation, default=Valuation.NORMAL_VALUE
    )
    valuation_note = models.CharField(
        _("valuation source"),
        max_length=255,
        blank=True,
        help_text=_("The price list, invoice number or appraiser the value comes from."),
    )
    appraisal_date = models.DateField(_("date of the sworn appraisal"), null=True, blank=True)
    received_on = models.DateField(_("received on"), default=timezone.localdate)
    wants_receipt = models.BooleanField(_("receipt requested"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    # Goods belong to the entity that received them: its own treasurers reach them too.
    objects = EntityScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("gift in kind")
        verbose_name_plural = _("gifts in kind")
        constraints = [
            models.CheckConstraint(condition=Q(value_cents__gt=0), name="in_kind_value_positive"),
        ]

    def __str__(self):
        return f"{self.description[:60]} · {format_amount(self.value_cents)}"

    def save(self, *args, **kwargs):
        if self.entity_id is None and self.network_id is not None:
            self.entity = receiving_entity(self.network, self.campaign)
        super().save(*args, **kwargs)

    def snapshot(self):
        """What an in-kind receipt states of the goods, frozen at issue."""
        return {
            "description": self.description,
            "value_cents": self.value_cents,
            "valuation": self.valuation,
            "valuation_note": self.valuation_note,
            "appraisal_date": self.appraisal_date.isoformat() if self.appraisal_date else "",
            "received_on": self.received_on.isoformat(),
        }


class InKindDocument(models.Model):
    """A document of a gift in kind: the donor's declaration, an invoice, the sworn appraisal.
    On the private storage under a random name; served only by a checked admin view."""

    gift = models.ForeignKey(
        InKindGift, on_delete=models.CASCADE, related_name="documents", verbose_name=_("gift")
    )
    file = models.FileField(_("file"), upload_to=in_kind_document_name, storage=private_storage)
    name = models.CharField(_("file name"), max_length=255)
    uploaded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("uploaded at"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self):
        return self.name
