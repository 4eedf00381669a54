"""The donors: the people and organisations who give to a network."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..validators import normalise_code, validate_codice_fiscale, validate_partita_iva
from .network import Network, NetworkScopedQuerySet


class Donor(models.Model):
    """A person or organisation who gives to one network (each network is its own data
    controller: the same person giving to two networks is two donors)."""

    wagtail_reference_index_ignore = True  # see Donation (crm.models.giving)

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
