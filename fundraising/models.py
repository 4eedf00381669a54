"""A public-fundraising report and its expenses. The income is never stored here: it is read
from the gifts, tickets and matching pledges each time (`fundraising.figures`), so the report
always says what the money views say."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Network, NetworkScopedQuerySet
from crm.money import CentsField
from crm.storage import private_storage


class FundraisingReport(models.Model):
    """The report of one occasional public fundraising (a campaign or an event) over a period:
    art. 87 c. 6 D.Lgs. 117/2017 asks one per celebration, anniversary or awareness campaign."""

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    campaign = models.ForeignKey(
        "campaigns.CampaignPage",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("campaign"),
    )
    event = models.ForeignKey(
        "events.EventPage",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("event"),
    )
    title = models.CharField(_("title"), max_length=255)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    note = models.TextField(
        _("explanatory note"),
        blank=True,
        help_text=_(
            "The relazione illustrativa: what the fundraising was for, how, where and when it "
            "took place, and how the money raised was used."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-ends_on", "-pk"]
        verbose_name = _("public fundraising report")
        verbose_name_plural = _("public fundraising reports")
        constraints = [
            models.CheckConstraint(
                condition=Q(campaign__isnull=False, event__isnull=True)
                | Q(campaign__isnull=True, event__isnull=False),
                name="fundraising_report_one_source",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="fundraising_report_period_ordered",
            ),
        ]

    def __str__(self):
        return self.title


def expense_document_name(expense, filename):
    """`fundraising/<network>/<random>`: on the private storage, a name nobody can guess (the
    file's own name is kept on the row)."""
    network = expense.report.network
    return f"fundraising/{network.slug or network.pk}/{uuid.uuid4().hex}"


class Expense(models.Model):
    """An expense of the fundraising the treasurer records, with its document (an invoice, a
    receipt) kept on the private storage and served only through the checked admin view."""

    class Category(models.TextChoices):
        # Trama's own grouping: the guidelines (DM 9 June 2022) prescribe none (README).
        GOODS = "goods", _("Goods and materials")
        SERVICES = "services", _("Services")
        HIRE = "hire", _("Hire of venues and equipment")
        PROMOTION = "promotion", _("Promotion and printing")
        STAFF = "staff", _("Staff")
        OTHER = "other", _("Other")

    report = models.ForeignKey(
        FundraisingReport,
        on_delete=models.CASCADE,
        related_name="expenses",
        verbose_name=_("report"),
    )
    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    amount_cents = CentsField(_("amount"))
    spent_on = models.DateField(_("date"))
    supplier = models.CharField(_("supplier"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=Category)
    description = models.CharField(_("description"), max_length=255, blank=True)
    document = models.FileField(
        _("document"),
        upload_to=expense_document_name,
        storage=private_storage,
        blank=True,
        max_length=255,
    )
    document_name = models.CharField(_("document name"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["spent_on", "pk"]
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="fundraising_expense_positive"
            ),
        ]

    def __str__(self):
        return f"{self.supplier} · {self.spent_on}"


class FilingReminder(models.Model):
    """A reminder claimed before it is sent: one per report and filing year, so the periodic
    job may run twice (or on two machines) and the treasurers get one email."""

    report = models.ForeignKey(
        FundraisingReport, on_delete=models.CASCADE, related_name="+", verbose_name=_("report")
    )
    year = models.PositiveIntegerField(_("filing year"))
    claimed_at = models.DateTimeField(_("claimed at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("filing reminder")
        verbose_name_plural = _("filing reminders")
        constraints = [
            models.UniqueConstraint(fields=["report", "year"], name="fundraising_reminder_once"),
        ]

    def __str__(self):
        return f"{self.report} · {self.year}"
