"""The issuing entities of a network (enti emittenti): the legal bodies that receive its gifts
and sign their receipts. Every network has one lead entity (ente capofila), whose data are the
network's own legal fields (kept in step both ways, `Network.sync_lead_entity` and
`IssuingEntity.save`); partners that receive the money of a project (a cooperative, an
association) are entities of their own, each with its receipt series, declared income and
Agenzia Entrate data, and optionally its own treasurers."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..money import CentsField
from ..validators import (
    normalise_code,
    validate_codice_fiscale,
    validate_partita_iva,
    validate_stripe_account_id,
)
from .network import LEGAL_FIELDS, Network, NetworkScopedQuerySet


class IssuingEntityQuerySet(models.QuerySet):
    def for_user(self, user):
        """Entities the user manages: every entity of the networks they are a treasurer of."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(network__in=Network.objects.for_user(user))

    def reached_by(self, user):
        """Entities whose gifts the user may reach: those of the networks they are a treasurer
        of, and the entities they are a treasurer of."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(
            Q(network__in=Network.objects.for_user(user))
            | Q(treasurers_group__in=user.groups.all())
        )

    def with_account(self, account):
        """The entity whose Stripe account `account` is: a partner's own, or the lead entity of
        the network whose account it is. Empty for the platform ('') and for accounts we do not
        know. One at most: the constraint "one_entity_per_stripe_account" keeps an account to one
        entity, `IssuingEntity.clean` and `Network.clean` apart from the networks' own."""
        if not account:
            return self.none()
        return self.filter(
            Q(stripe_account_id=account, is_lead=False)
            | Q(is_lead=True, network__stripe_account_id=account)
        )

    def of_entity_treasurer(self, user):
        """The entities the user is a treasurer of without being their network's treasurer."""
        if not user.is_authenticated or not user.is_active or user.is_superuser:
            return self.none()
        return self.filter(treasurers_group__in=user.groups.all()).exclude(
            network__in=Network.objects.for_user(user)
        )


class IssuingEntity(models.Model):
    """A legal body of a network that receives gifts and issues their receipts."""

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="entities", verbose_name=_("network")
    )
    is_lead = models.BooleanField(
        _("lead entity"),
        default=False,
        editable=False,
        help_text=_(
            "The network's ente capofila: its data are the network's own, and gifts go to it "
            "unless a campaign names another entity."
        ),
    )
    legal_name = models.CharField(
        _("legal name"),
        max_length=255,
        help_text=_("As printed on receipts, e.g. 'Cooperativa sociale Il Ponte'."),
    )
    codice_fiscale = models.CharField(
        _("codice fiscale"), max_length=16, validators=[validate_codice_fiscale]
    )
    partita_iva = models.CharField(
        _("partita IVA"), max_length=13, blank=True, validators=[validate_partita_iva]
    )
    entity_kind = models.CharField(_("kind of entity"), max_length=20, choices=Network.EntityKind)
    runts_number = models.CharField(
        _("RUNTS registration"),
        max_length=50,
        blank=True,
        help_text=_("Number in the Registro unico nazionale del Terzo settore, if registered."),
    )
    tax_regime = models.CharField(
        _("tax regime of donations"),
        max_length=20,
        choices=Network.TaxRegime,
        default=Network.TaxRegime.DETRACTION_30,
        help_text=_("What the receipts of this entity's gifts tell donors about tax benefits."),
    )
    street_address = models.CharField(_("registered address"), max_length=255)
    postal_code = models.CharField(_("postal code"), max_length=10)
    city = models.CharField(_("city"), max_length=100)
    province = models.CharField(_("province"), max_length=2, blank=True)
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    signer_name = models.CharField(_("signer's name"), max_length=200)
    signer_role = models.CharField(
        _("signer's role"), max_length=200, default="Legale rappresentante"
    )
    logo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("logo"),
    )
    receipt_series = models.CharField(
        _("receipt series prefix"),
        max_length=10,
        blank=True,
        help_text=_(
            "Printed before this entity's receipt numbers, e.g. 'CP' gives CP-2026/00001. Each "
            "entity numbers its receipts on its own from 1 every year, so every entity but the "
            "lead one needs a prefix of its own."
        ),
    )
    declared_income_cents = CentsField(
        _("yearly income in the last approved accounts"),
        null=True,
        blank=True,
        help_text=_(
            "Total income (ricavi, rendite, proventi, entrate) of this entity: above € 220.000 "
            "its yearly donations data to the Agenzia delle Entrate is mandatory."
        ),
    )
    # Direct charges on a connected account (https://docs.stripe.com/connect/direct-charges):
    # the card money of this entity's campaigns lands in its own Stripe balance and bank.
    stripe_account_id = models.CharField(
        _("Stripe Connect account id"),
        max_length=64,
        blank=True,
        validators=[validate_stripe_account_id],
        help_text=_(
            "acct_… of this entity's own Stripe account, connected to the platform: card, "
            "PayPal and Satispay gifts to its campaigns are paid into it, and its payouts "
            "reach its bank. Empty: the network's account (the lead entity's is always the "
            "network's, set in Settings → Networks)."
        ),
    )
    treasurers_group = models.OneToOneField(
        "auth.Group",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="treasurer_of_entity",
        verbose_name=_("treasurers' group"),
        help_text=_(
            "People of this entity only: they see its gifts, receipts and Agenzia data, "
            "nothing else of the network."
        ),
    )

    objects = IssuingEntityQuerySet.as_manager()

    class Meta:
        ordering = ["network", "-is_lead", "legal_name"]
        verbose_name = _("issuing entity")
        verbose_name_plural = _("issuing entities")
        constraints = [
            models.UniqueConstraint(
                fields=["network"], condition=Q(is_lead=True), name="one_lead_entity_per_network"
            ),
            # Receipt numbers stay unique within a network: one series per entity.
            models.UniqueConstraint(
                fields=["network", "receipt_series"], name="one_receipt_series_per_entity"
            ),
            # Webhooks, refunds and payouts find the gift's entity by the event's account
            # (`with_account`): an account shared by two entities (of this network or another)
            # would route one's events, refunds and payouts to the other's gifts. Empty is the
            # network's account, shared by the lead and any partner without one. The code
            # "unique" puts the message on the field (`Model.validate_constraints`).
            models.UniqueConstraint(
                fields=["stripe_account_id"],
                condition=~Q(stripe_account_id=""),
                name="one_entity_per_stripe_account",
                violation_error_code="unique",
                violation_error_message=_(
                    "Another issuing entity already has this Stripe account: each account "
                    "takes the gifts of one entity only (leave it empty to use the network's "
                    "account)."
                ),
            ),
        ]

    def __str__(self):
        return self.legal_name

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            if self.is_lead:
                # The network's legal fields are the lead entity's: edited here, they follow.
                Network.objects.filter(pk=self.network_id).update(
                    **{name: getattr(self, name) for name in LEGAL_FIELDS}
                )

    def clean(self):
        self.codice_fiscale = normalise_code(self.codice_fiscale)
        self.partita_iva = normalise_code(self.partita_iva)
        self.province = self.province.upper()
        self.receipt_series = self.receipt_series.strip()
        if not self.is_lead and not self.receipt_series:
            raise ValidationError(
                {
                    "receipt_series": _(
                        "Give this entity a receipt prefix of its own (e.g. its initials): its "
                        "receipts are numbered apart from the lead entity's."
                    )
                }
            )
        self.stripe_account_id = self.stripe_account_id.strip()
        self._clean_stripe_account()

    def _clean_stripe_account(self):
        account = self.stripe_account_id
        if not account:
            return
        if self.is_lead:
            raise ValidationError(
                {
                    "stripe_account_id": _(
                        "The lead entity's Stripe account is the network's: set it in "
                        "Settings → Networks."
                    )
                }
            )
        # Another entity's account: the constraint "one_entity_per_stripe_account" says so.
        # A network's is its lead entity's, kept on the network: no constraint reaches it.
        if Network.objects.filter(stripe_account_id=account).exists():
            raise ValidationError(
                {
                    "stripe_account_id": _(
                        "This Stripe account is a network's own (its lead entity's): each "
                        "account takes the gifts of one entity only (leave it empty to use the "
                        "network's account)."
                    )
                }
            )

    @property
    def stripe_account(self):
        """The Stripe account this entity's gifts are paid into ('' the platform): its own,
        else its network's; always the network's for the lead entity."""
        if self.is_lead or not self.stripe_account_id:
            return self.network.stripe_account_id or ""
        return self.stripe_account_id

    @property
    def has_own_stripe_account(self):
        return bool(self.stripe_account_id) and not self.is_lead

    @property
    def full_address(self):
        province = f" ({self.province})" if self.province else ""
        return f"{self.street_address}, {self.postal_code} {self.city}{province}"


class EntityScopedQuerySet(NetworkScopedQuerySet):
    """Rows of an issuing entity (gifts, receipts): a network's treasurers reach every row of
    their networks, an entity's treasurers the rows of their entity only."""

    def for_user(self, user):
        rows = super().for_user(user)
        if not user.is_authenticated or not user.is_active or user.is_superuser:
            return rows
        own = IssuingEntity.objects.of_entity_treasurer(user)
        return self.filter(
            Q(network__in=Network.objects.for_user(user)) | Q(entity__in=own.values("pk"))
        )

    def of_entity(self, entity):
        """The rows of `entity` (a gift recorded before entities existed belongs to the lead)."""
        if entity.is_lead:
            return self.filter(
                Q(entity=entity) | Q(entity__isnull=True, network_id=entity.network_id)
            )
        return self.filter(entity=entity)


def receiving_entity(network, campaign=None):
    """The entity that receives a gift to `campaign` of `network`: the one the campaign (or
    event) names if it is the network's, else the network's lead entity."""
    if campaign is not None:
        named = getattr(campaign.specific, "issuing_entity", None)
        if named is not None and named.network_id == network.pk:
            return named
    return network.lead_entity


def entity_of(donation):
    """The entity that received `donation`: its own, else (a gift recorded before entities
    existed) the network's lead entity."""
    return donation.entity or donation.network.lead_entity
