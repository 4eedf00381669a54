"""The 5 per mille a network's entity receives, how it was spent, and the public page.

The State pays each legal entity the taxpayers chose (by its codice fiscale): a grant belongs to
one issuing entity of the network (`crm.IssuingEntity`, the lead one unless another is named),
one grant per entity and anno finanziario; `recipient()` is the one place naming it."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from crm.models import IssuingEntity, Network, NetworkScopedQuerySet
from crm.money import CentsField, format_amount

from .categories import ExpenseCategory
from .figures import grant_figures


class PerMilleGrant(models.Model):
    """The 5 per mille of one anno finanziario, as it reached the entity's bank account. The
    network's treasurers record it (CRM → 5 per mille); the published ones show on the
    network's `PerMillePage`. There is no donor here: the State pays the taxpayers' choices."""

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    entity = models.ForeignKey(
        IssuingEntity,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("receiving entity"),
        help_text=_(
            "The entity of the network the taxpayers chose (its codice fiscale). Left empty: "
            "the network's lead entity."
        ),
    )
    reference_year = models.PositiveSmallIntegerField(
        _("reference year (anno finanziario)"),
        help_text=_("The year of the taxpayers' choices the payment refers to."),
    )
    amount_cents = CentsField(_("amount received"))
    received_on = models.DateField(
        _("received on"),
        help_text=_("The day the money reached the account: the deadlines run from it."),
    )
    choices_count = models.PositiveIntegerField(
        _("number of choices"), null=True, blank=True, help_text=_("Optional.")
    )
    set_aside_cents = CentsField(
        _("amount set aside (accantonamento)"),
        default=0,
        help_text=_("Heading 6 of the rendiconto: kept for a later use, reported on Mod. B."),
    )
    report_note = models.TextField(
        _("explanatory report"),
        blank=True,
        help_text=_("The relazione illustrativa: what the money paid for, and why."),
    )
    report_done_on = models.DateField(_("rendiconto drawn up on"), null=True, blank=True)
    sent_on = models.DateField(_("sent to the Ministry on"), null=True, blank=True)
    published_on = models.DateField(_("published on the website on"), null=True, blank=True)
    published = models.BooleanField(
        _("show on the public page"),
        default=False,
        help_text=_("The network's 5 per mille page shows only the years ticked here."),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-reference_year", "id"]
        verbose_name = _("5 per mille received")
        verbose_name_plural = _("5 per mille received")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "reference_year"], name="permille_one_grant_per_entity_year"
            ),
        ]

    def __str__(self):
        return _("5 per mille %(year)s") % {"year": self.reference_year}

    def save(self, *args, **kwargs):
        if self.entity_id is None:  # the lead entity unless another is named
            self.entity = self.network.lead_entity
        super().save(*args, **kwargs)

    def recipient(self):
        """The legal entity that received the money: the grant's issuing entity."""
        return self.entity


class PerMilleExpense(models.Model):
    """One expense paid with a grant's money, under a heading of the Ministry's model. An
    expense paid from the amount set aside (`from_set_aside`) is its later use (Mod. B)."""

    grant = models.ForeignKey(
        PerMilleGrant, on_delete=models.CASCADE, related_name="expenses", verbose_name=_("grant")
    )
    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    category = models.CharField(_("heading"), max_length=30, choices=ExpenseCategory)
    amount_cents = CentsField(_("amount"))
    spent_on = models.DateField(_("paid on"))
    description = models.CharField(_("description"), max_length=255)
    from_set_aside = models.BooleanField(_("paid from the amount set aside"), default=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["spent_on", "id"]
        verbose_name = _("5 per mille expense")
        verbose_name_plural = _("5 per mille expenses")

    def __str__(self):
        return self.description

    @property
    def amount(self):
        """The amount as people write it (`€ 1.234,50`)."""
        return format_amount(self.amount_cents)


class PerMilleReminder(models.Model):
    """One reminder email to one treasurer about one deadline: the key (grant, deadline, its
    date, the step, the person) is unique and claimed before sending, so the periodic job sends
    it once however often and wherever it runs. `sent_at` empty: claimed, not sent yet."""

    key = models.CharField(max_length=200, unique=True)
    to = models.EmailField()
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("5 per mille reminder")
        verbose_name_plural = _("5 per mille reminders")

    def __str__(self):
        return self.key


class PerMillePage(Page):
    """The public page where the 5 per mille received and its use are published (D.Lgs.
    111/2017 art. 8 c. 2): generated from the treasurers' published records of the network
    above it, read at each visit. Amounts and headings only: never a person."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.NetworkPage"]
    subpage_types: list[str] = []
    # Not whole-page cached (cms.pagecache): a treasurer's correction shows at once.

    class Meta:
        verbose_name = _("5 per mille page")
        verbose_name_plural = _("5 per mille pages")

    def network(self):
        """The network of the nearest network page above this one."""
        ancestors = [self.path[:end] for end in range(self.steplen, len(self.path), self.steplen)]
        return Network.objects.filter(page__path__in=ancestors).order_by("-page__path").first()

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        network = self.network()
        context["network"] = network
        grants = PerMilleGrant.objects.filter(network=network, published=True)
        grants = grants.prefetch_related("expenses").order_by("-reference_year")
        context["years"] = [grant_figures(grant) for grant in grants] if network else []
        return context
