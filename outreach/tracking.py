"""What mail providers report about messages to donors (anymail's normalised `tracking`
signal, from the webhooks under /crm/anymail/): delivered, opened, clicked, bounced, marked as
spam, unsubscribed. `crm.mail_tracking` listens to the same signal for the gift emails; each
ignores the other's events (ours carry the delivery's token in their metadata).

Events arrive in any order: each stamps its own time once, and the status only moves forward
(a late "sent" never hides "delivered"; a bounce or complaint after delivery is news and wins).
A bounce or a complaint also suppresses the address for the network (`crm.mail_policy`'s one list,
which a bounced gift email feeds too), so no later message goes to it; an unsubscribe from the
provider's own link turns the newsletter consent off."""

from anymail.signals import EventType, tracking
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from crm.mail_policy import SUPPRESSING, TRACKING_STATUS, status_rank, suppress_address
from crm.models import SuppressedAddress
from crm.portal import set_newsletter

from .models import Delivery

_STAMP = {
    EventType.DELIVERED: "delivered_at",
    EventType.OPENED: "opened_at",
    EventType.CLICKED: "clicked_at",
    EventType.UNSUBSCRIBED: "unsubscribed_at",
}


def _delivery_of(event):
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    token = metadata.get("delivery")
    deliveries = Delivery.objects.select_for_update(of=("self",)).select_related("message", "donor")
    if token:
        # A token we never made is not ours (nor is the event, whatever its message id).
        if not Delivery.is_token(token):
            return None
        return deliveries.filter(token=token).first()
    if event.message_id:
        return deliveries.filter(provider_message_id=str(event.message_id)).first()
    return None


def record_event(event):
    """Apply one provider event to its delivery. Returns the delivery, or None (not ours)."""
    with transaction.atomic():
        delivery = _delivery_of(event)
        if delivery is None:
            return None
        when = event.timestamp or timezone.now()
        changed = []
        stamp = _STAMP.get(event.event_type)
        if stamp and getattr(delivery, stamp) is None:
            setattr(delivery, stamp, when)
            changed.append(stamp)
        if event.event_type == EventType.CLICKED and delivery.opened_at is None:
            delivery.opened_at = when  # a click is an open the pixel missed
            changed.append("opened_at")
        status = TRACKING_STATUS.get(event.event_type)
        if status is not None and status_rank(status) > status_rank(delivery.status):
            delivery.status = status
            changed.append("status")
            if status in SUPPRESSING:
                delivery.last_error = (event.description or event.mta_response or "")[:2000]
                changed.append("last_error")
        if changed:
            delivery.save(update_fields=changed)
        if status in SUPPRESSING:
            suppress_address(
                delivery.message.network_id,
                delivery.to,
                SUPPRESSING[status],
                detail=delivery.last_error,
                source=SuppressedAddress.Source.MESSAGE,
            )
    if event.event_type == EventType.UNSUBSCRIBED:
        set_newsletter(delivery.donor, False)
    return delivery


@receiver(tracking, dispatch_uid="outreach.tracking")
def record_tracking_event(sender, event, esp_name, **kwargs):
    record_event(event)
