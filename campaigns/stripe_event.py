"""The log of Stripe events: each received once, applied once (`campaigns.webhooks`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import Network, NetworkScopedQuerySet


class StripeEvent(models.Model):
    """Every Stripe event received, once: the idempotency key and the replay log
    (`campaigns.webhooks`). Superusers apply a stored event again from its admin page."""

    # Not in Wagtail's reference index: an event is a log line, not a use of the network.
    wagtail_reference_index_ignore = True

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Not applied yet")
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Acknowledged, nothing to do")
        FAILED = "failed", _("Failed")
        # Came before what it refers to (an invoice or a subscription change before the
        # checkout that makes the plan, a refund before its payment): kept, acknowledged, and
        # applied when that arrives (campaigns.webhooks.apply_waiting) or by the sweep.
        WAITING = "waiting", _("Waiting for its plan or payment")
        # Waited longer than Stripe retries what it waits for (campaigns.stripe_waiting): no
        # longer retried, kept and shown; applied if what it waited for comes after all.
        GIVEN_UP = "given_up", _("Given up: what it waited for never came")

    event_id = models.CharField(max_length=255, unique=True, verbose_name=_("Stripe event id"))
    type = models.CharField(max_length=100, db_index=True, verbose_name=_("type"))
    account = models.CharField(max_length=64, blank=True, verbose_name=_("Stripe account"))
    network = models.ForeignKey(
        Network,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stripe_events",
        verbose_name=_("network"),
    )
    payload = models.JSONField(verbose_name=_("payload"))
    created = models.DateTimeField(_("created at Stripe"), null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    outcome = models.CharField(
        max_length=10, choices=Outcome, default=Outcome.PENDING, verbose_name=_("outcome")
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    # When its apply task was last queued (at the acknowledgement, then by the sweep, which
    # queues again an event still not applied TASKS_LOST_AFTER later: campaigns.webhooks).
    queued_at = models.DateTimeField(null=True, blank=True, verbose_name=_("queued at"))

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # The sweep's: the few events not applied yet, among months of applied ones.
            models.Index(
                fields=["queued_at"],
                name="stripe_event_open",
                condition=models.Q(outcome__in=["pending", "failed", "waiting"]),
            ),
        ]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self):
        return f"{self.type} {self.event_id}"
