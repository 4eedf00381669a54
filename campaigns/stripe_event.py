"""The log of Stripe events: each received once, applied once (`campaigns.webhooks`)."""

import datetime

from django.db import connection, models
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


# The columns of an acknowledgement's row, in the order of `store_once`'s values.
INSERTED = (
    "event_id",
    "type",
    "account",
    "network",
    "payload",
    "created",
    "received_at",
    "processed_at",
    "outcome",
    "error",
    "attempts",
    "queued_at",
)


def store_once(event, network_id, outcome, now, *, processed_at=None, queued_at=None):
    """Store the event unless its id is stored already: True if this call stored it. One
    statement, `INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING` (PostgreSQL and SQLite
    3.35+): a repeated delivery neither raises nor rolls back, and a concurrent one waits for
    the first's commit, then finds the id taken. Written out rather than `objects.create()`,
    whose model and compiler cost more CPU than the rest of the acknowledgement (issue 21);
    each value is prepared by its model field, as `create()` would."""
    created = event.get("created")
    values = (
        event["id"],
        event["type"],
        event.get("account") or "",
        network_id,
        event,
        datetime.datetime.fromtimestamp(int(created), tz=datetime.UTC) if created else None,
        now,
        processed_at,
        outcome,
        "",
        0,
        queued_at,
    )
    fields = [StripeEvent._meta.get_field(name) for name in INSERTED]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    sql = (
        f"INSERT INTO {quote(StripeEvent._meta.db_table)} ({columns}) "  # noqa: S608 (the model's names; values bound)
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote('event_id')}) DO NOTHING RETURNING {quote('id')}"
    )
    params = [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None
