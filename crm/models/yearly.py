"""The treasurer's year: refunds as dated events (the Agenzia Entrate data reports refunds made
in a year with the year of the refunded gift) and the runs of yearly statements started from
the admin (crm.annual_statements, crm.admin.yearly)."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .entities import EntityScopedQuerySet, IssuingEntity
from .giving import Donation
from .network import Network, NetworkScopedQuerySet


class Refund(models.Model):
    """Money given back on a gift, on a day (`crm.gifts.record_refunded_total` writes one per
    increase of the gift's `refunded_cents`, a lost dispute included)."""

    wagtail_reference_index_ignore = True

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="+")
    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField(_("amount"))
    refunded_on = models.DateField(_("refunded on"), default=timezone.localdate)
    reason = models.CharField(_("reason"), max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-refunded_on", "-id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        indexes = [models.Index(fields=["network", "refunded_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive")
        ]

    def __str__(self):
        return f"{self.donation_id}: {self.amount_cents}"


class StatementRun(models.Model):
    """One run of the yearly statements of an issuing entity of a network, started from the
    admin and carried out by the background worker (`crm.tasks.run_yearly_statements`). The
    page polls it for progress; a run stopped half-way is started again on the same row and
    skips what is done. A run without an entity was started before runs were per entity: it
    covers every entity of its network, as it did then."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Stopped by an error")

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="statement_runs")
    # The entity whose gifts it covers and whose series and data its statements carry.
    entity = models.ForeignKey(
        IssuingEntity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statement_runs",
        verbose_name=_("issuing entity"),
    )
    year = models.PositiveIntegerField(_("fiscal year"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    send_email = models.BooleanField(_("email the statements"), default=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The worker carrying it out (crm.statement_runs.carry_out) claims it by compare-and-set
    # and writes `heartbeat_at` while it works; a run whose heartbeat is older than
    # CLAIM_STALE_AFTER lost its worker and is taken over (never while it still beats).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True, editable=False)
    attempts = models.PositiveIntegerField(default=0, editable=False)
    total = models.PositiveIntegerField(_("donors to do"), default=0)
    done = models.PositiveIntegerField(_("donors done"), default=0)
    rendered = models.PositiveIntegerField(_("PDFs rendered"), default=0)
    failed = models.PositiveIntegerField(_("PDFs failed"), default=0)
    emailed = models.PositiveIntegerField(_("emails queued"), default=0)
    error = models.TextField(_("error"), blank=True)
    receipts: "models.ManyToManyField[Any, Any]" = models.ManyToManyField(
        "Receipt", related_name="statement_runs", blank=True
    )

    # A network's treasurers reach every run of the network, an entity's treasurers their
    # entity's runs (never a run without an entity: it covers the other entities too).
    objects = EntityScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("yearly statement run")
        verbose_name_plural = _("yearly statement runs")

    def __str__(self):
        return f"{self.entity or self.network} {self.year} #{self.pk}"

    @property
    def finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)
