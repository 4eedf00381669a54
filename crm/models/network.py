"""The tenant: a network, its issuing entity's legal data and its partners, and the queryset
that scopes every other record to the networks a user may reach."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable

from ..money import CentsField
from ..validators import (
    normalise_code,
    validate_codice_fiscale,
    validate_partita_iva,
    validate_stripe_account_id,
)

# The legal fields the lead issuing entity shares with its network (the network's Settings form
# edits them; the entity's own form too): one list, so the two never drift apart.
LEGAL_FIELDS = (
    "legal_name",
    "codice_fiscale",
    "partita_iva",
    "entity_kind",
    "runts_number",
    "tax_regime",
    "street_address",
    "postal_code",
    "city",
    "province",
    "email",
    "phone",
    "signer_name",
    "signer_role",
    "logo_id",
    "receipt_series",
    "declared_income_cents",
)


class NetworkQuerySet(models.QuerySet):
    def for_user(self, user):
        """Networks whose CRM the user may reach: all for superusers, else those whose
        treasurers' group they belong to."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(treasurers_group__in=user.groups.all())

    def edited_by(self, user):
        """Networks whose pages the user edits as a communicator."""
        if user.is_superuser:
            return self
        return self.filter(communicators_group__in=user.groups.all())

    def with_account(self, account):
        """The networks whose gifts a Stripe account takes: for a connected account, the one
        network whose account it is or whose partner entity's it is (`Network.clean` and
        `IssuingEntity.clean` keep an account to one network); for the platform (''), the
        networks without an account of their own."""
        if not account:
            return self.filter(stripe_account_id="")
        return self.filter(
            Q(stripe_account_id=account)
            | Q(entities__stripe_account_id=account, entities__is_lead=False)
        ).distinct()


class Network(ClusterableModel):
    """A territorial welfare network (rete territoriale): the tenant.

    Holds the legal data of its lead issuing entity (ente capofila), kept in step with the
    lead `IssuingEntity` (crm.models.entities): receipts print their own entity's data, which
    may be a partner entity of the network.
    Edited by superusers in Settings → Networks. Creating one creates its communicators' and
    treasurers' groups (see `crm.signals`).
    """

    class EntityKind(models.TextChoices):
        ODV = "odv", _("Organizzazione di volontariato (ODV)")
        APS = "aps", _("Associazione di promozione sociale (APS)")
        SOCIAL_ENTERPRISE = "impresa_sociale", _("Impresa sociale / cooperativa sociale")
        FOUNDATION = "fondazione", _("Fondazione")
        OTHER_ETS = "ets", _("Altro ente del Terzo settore (ETS)")
        ONLUS = "onlus", _("ONLUS")
        PUBLIC_BODY = "ente_pubblico", _("Ente pubblico")

    class TaxRegime(models.TextChoices):
        # art. 83 D.Lgs. 117/2017: c.1 detraction 30% (35% for ODV), c.2 deduction up to 10%.
        DETRACTION_30 = "detraction_30", _("Detraction 30% (art. 83 c.1 D.Lgs. 117/2017)")
        DETRACTION_35 = "detraction_35", _("Detraction 35% for ODV (art. 83 c.1 D.Lgs. 117/2017)")
        DEDUCTION_10 = (
            "deduction_10",
            _("Deduction up to 10% of income (art. 83 c.2 D.Lgs. 117/2017)"),
        )
        NONE = "none", _("No tax benefit")

    name = models.CharField(_("network name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    legal_name = models.CharField(
        _("issuing entity legal name"),
        max_length=255,
        help_text=_("The ente capofila that receives the money and signs receipts."),
    )
    codice_fiscale = models.CharField(
        _("codice fiscale"), max_length=16, validators=[validate_codice_fiscale]
    )
    partita_iva = models.CharField(
        _("partita IVA"), max_length=13, blank=True, validators=[validate_partita_iva]
    )
    entity_kind = models.CharField(_("kind of entity"), max_length=20, choices=EntityKind)
    runts_number = models.CharField(
        _("RUNTS registration"),
        max_length=50,
        blank=True,
        help_text=_("Number in the Registro unico nazionale del Terzo settore, if registered."),
    )
    tax_regime = models.CharField(
        _("tax regime of donations"),
        max_length=20,
        choices=TaxRegime,
        default=TaxRegime.DETRACTION_30,
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
            "Optional prefix printed before receipt numbers, e.g. 'RV' gives RV-2026/00001."
        ),
    )
    always_issue_receipts = models.BooleanField(
        _("issue a receipt for every gift"),
        default=False,
        help_text=_("If off, receipts are issued only when the donor asks for one."),
    )
    annual_statement_for_all = models.BooleanField(
        _("yearly statement for every donor"),
        default=False,
        help_text=_(
            "If off, the yearly statement goes only to donors who asked for a receipt for at "
            "least one gift of the year."
        ),
    )
    declared_income_cents = CentsField(
        _("yearly income in the last approved accounts"),
        null=True,
        blank=True,
        help_text=_(
            "Total income (ricavi, rendite, proventi, entrate) of the issuing entity: above "
            "€ 220.000 the yearly donations data to the Agenzia delle Entrate is mandatory."
        ),
    )
    stripe_account_id = models.CharField(
        _("Stripe Connect account id"),
        max_length=64,
        blank=True,
        validators=[validate_stripe_account_id],
        help_text=_(
            "acct_… for direct charges on the network's own account (its lead entity's, and "
            "that of every partner entity without an account of its own); empty to use the "
            "platform account (installs hosting a single network)."
        ),
    )
    # Extra ways to pay in Stripe Checkout, where Stripe offers them for the network's account
    # (https://docs.stripe.com/payments/paypal, https://docs.stripe.com/payments/satispay):
    # one-off gifts in euro only; monthly gifts stay card/SEPA (`campaigns.stripe_api`).
    offer_paypal = models.BooleanField(
        _("offer PayPal"),
        default=False,
        help_text=_(
            "One-off gifts in euro can be paid with PayPal in Stripe Checkout. Turn it on only "
            "once PayPal is active in the network's Stripe account."
        ),
    )
    offer_satispay = models.BooleanField(
        _("offer Satispay"),
        default=False,
        help_text=_(
            "One-off gifts in euro can be paid with Satispay in Stripe Checkout (Italian "
            "businesses; not for monthly gifts). Turn it on only once Satispay is active in "
            "the network's Stripe account."
        ),
    )
    min_amount_cents = CentsField(_("minimum gift"), default=500)
    max_amount_cents = CentsField(_("maximum gift"), default=1_000_000)
    communicators_group = models.OneToOneField(
        "auth.Group",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="communicator_of",
        verbose_name=_("communicators' group"),
    )
    treasurers_group = models.OneToOneField(
        "auth.Group",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="treasurer_of",
        verbose_name=_("treasurers' group"),
    )
    collection = models.OneToOneField(
        "wagtailcore.Collection",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="network",
        help_text=_("Images and documents of this network."),
        verbose_name=_("collection"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = NetworkQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("network")
        verbose_name_plural = _("networks")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_amount_cents__gt=0)
                & Q(max_amount_cents__gte=models.F("min_amount_cents")),
                name="network_amount_bounds",
            ),
            # A connected account's events, refunds and payouts are routed to the network whose
            # account it is (`Network.objects.with_account`): two networks on one account would
            # reach each other's gifts. The form refused it (`clean`); this holds it for a write
            # past the form or two saves at once. Empty is the platform's, shared by many.
            models.UniqueConstraint(
                fields=["stripe_account_id"],
                condition=~Q(stripe_account_id=""),
                name="one_network_per_stripe_account",
                violation_error_code="unique",
                violation_error_message=_(
                    "Another network already has this Stripe account: each account takes the "
                    "gifts of one entity only (leave it empty to use the platform account)."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.codice_fiscale = normalise_code(self.codice_fiscale)
        self.partita_iva = normalise_code(self.partita_iva)
        self.province = self.province.upper()
        self.stripe_account_id = self.stripe_account_id.strip()
        account = self.stripe_account_id
        # A connected account's events are routed to the network (and gift) whose account it
        # is: shared, one network's events would reach another's gifts and payouts.
        if account and (
            Network.objects.filter(stripe_account_id=account).exclude(pk=self.pk).exists()
            or self._meta.get_field("entities")
            .related_model.objects.filter(stripe_account_id=account)
            .exists()
        ):
            raise ValidationError(
                {
                    "stripe_account_id": _(
                        "This Stripe account is already another network's or an issuing "
                        "entity's: each account takes the gifts of one entity only."
                    )
                }
            )

    @property
    def stripe_account(self):
        """The Stripe account the network's calls go to ('' the platform): its lead entity's."""
        return self.stripe_account_id or ""

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            fields = kwargs.get("update_fields")
            legal = {name.removesuffix("_id") for name in LEGAL_FIELDS}
            if fields is None or legal & set(fields):
                self.sync_lead_entity()

    def sync_lead_entity(self):
        """Create or update the network's lead entity (crm.models.entities) from the
        network's legal fields."""
        values = {name: getattr(self, name) for name in LEGAL_FIELDS}
        if not self.entities.filter(is_lead=True).update(**values):
            self.entities.create(is_lead=True, **values)

    @property
    def lead_entity(self):
        """The network's lead issuing entity (created from its legal fields if missing)."""
        entity = self.entities.filter(is_lead=True).first()
        if entity is None:
            self.sync_lead_entity()
            entity = self.entities.get(is_lead=True)
        return entity

    @property
    def full_address(self):
        province = f" ({self.province})" if self.province else ""
        return f"{self.street_address}, {self.postal_code} {self.city}{province}"


class Partner(Orderable):
    """A partner of a network (public body, cooperative, association), shown on its pages."""

    network = ParentalKey(
        Network, on_delete=models.CASCADE, related_name="partners", verbose_name=_("network")
    )
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role in the network"), max_length=200, blank=True)
    website = models.URLField(_("website"), blank=True)
    logo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("logo"),
    )

    class Meta(Orderable.Meta):
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self):
        return self.name


class NetworkScopedQuerySet(models.QuerySet):
    """Rows scoped to the networks a user may reach as treasurer."""

    def for_user(self, user):
        if user.is_authenticated and user.is_active and user.is_superuser:
            return self  # rows of no network too (e.g. Stripe events of the platform account)
        return self.filter(network__in=Network.objects.for_user(user))
