"""What a message achieved: its deliveries' fates, and the gifts made through its links.

A gift is the message's when it carries the attribution marker of one of its deliveries (the
donor came through that email's button, `Donation.message_token`), counts
(`Donation.COUNTED_STATUSES`), and was made within 30 days after that email was sent. Amounts
are net of refunds."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, DateTimeField, F, OuterRef, Q, Subquery, Sum

from crm.models import KEPT, Donation

from .models import Delivery, KeptLink

ATTRIBUTION_WINDOW = timedelta(days=30)

SENT_STATUSES = (
    Delivery.Status.SENT,
    Delivery.Status.DELIVERED,
    Delivery.Status.BOUNCED,
    Delivery.Status.COMPLAINED,
)


def attributed_gifts(message):
    """The counted gifts made through the message's links within 30 days of its sending."""
    deliveries = Delivery.objects.filter(message=message)
    sent_at = Subquery(
        deliveries.filter(attribution=OuterRef("message_token")).values("sent_at")[:1],
        output_field=DateTimeField(),
    )
    return (
        Donation.objects.filter(
            network=message.network,
            status__in=Donation.COUNTED_STATUSES,
            message_token__in=deliveries.exclude(sent_at=None).values("attribution"),
        )
        .exclude(message_token="")
        .annotate(delivery_sent_at=sent_at)
        .filter(
            created_at__gte=F("delivery_sent_at"),
            created_at__lte=F("delivery_sent_at") + ATTRIBUTION_WINDOW,
        )
    )


def message_results(message):
    """Every figure of the message's results page, as whole numbers (amounts in cents); once
    its deliveries are pruned, the figures frozen at pruning."""
    if message.frozen_results is not None:
        return dict(message.frozen_results)
    figures = Delivery.objects.filter(message=message).aggregate(
        sent=Count("pk", filter=Q(status__in=SENT_STATUSES) | ~Q(sent_at=None)),
        delivered=Count("pk", filter=Q(status=Delivery.Status.DELIVERED) | ~Q(delivered_at=None)),
        opened=Count("pk", filter=~Q(opened_at=None)),
        clicked=Count("pk", filter=~Q(clicked_at=None)),
        unsubscribed=Count("pk", filter=~Q(unsubscribed_at=None)),
        bounced=Count("pk", filter=Q(status=Delivery.Status.BOUNCED)),
        complained=Count("pk", filter=Q(status=Delivery.Status.COMPLAINED)),
        not_sent=Count(
            "pk", filter=Q(status__in=[Delivery.Status.GAVE_UP, Delivery.Status.SKIPPED])
        ),
    )
    gifts = attributed_gifts(message).aggregate(count=Count("pk"), net=Sum(KEPT))
    figures["gifts"] = gifts["count"]
    figures["gifts_cents"] = gifts["net"] or 0
    return figures


def prune_deliveries(message):
    """Keep the message's figures on the message, then delete its per-donor deliveries (who
    opened, clicked, bounced). Only for a message sent (or cancelled) longer ago than the
    attribution window: no gift can be attributed to it any more. Returns how many went.
    The unsubscribe and preferences links of the emails sent keep working: their key, donor
    and message stay (`KeptLink`)."""
    with transaction.atomic():
        locked = type(message).objects.select_for_update().get(pk=message.pk)
        if locked.frozen_results is None:
            locked.frozen_results = message_results(locked)
            locked.save(update_fields=["frozen_results"])
        sent = Delivery.objects.filter(message=locked, sent_at__isnull=False)
        KeptLink.objects.bulk_create(
            (
                KeptLink(token=token, message_id=locked.pk, donor_id=donor_id)
                for token, donor_id in sent.values_list("token", "donor_id").iterator()
            ),
            batch_size=1000,
            ignore_conflicts=True,
        )
        deleted, _ = Delivery.objects.filter(message=locked).delete()
    return deleted
