"""What mail providers report about messages to donors (anymail's normalised `tracking`
signal, from the webhooks under /crm/anymail/): delivered, opened, clicked, bounced, marked as
spam, unsubscribed. `crm.mail` listens to the same signal for the gift emails; each ignores the
other's events (ours carry the delivery's token in their metadata).

Events arrive in any order: each stamps its own time once, and the status only moves forward
(a late "sent" never hides "delivered"; a bounce or complaint after delivery is news and wins).
A bounce or a complaint also suppresses the address for the network, so no later message goes
to it; an unsubscribe from the provider's own link turns the newsletter consent off."""

from anymail.signals import EventType, tracking
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from crm.portal import set_newsletter

from .models import Delivery, Suppression

_RANK = {
    Delivery.Status.PENDING: 0,
    Delivery.Status.FAILED: 0,
    Delivery.Status.GAVE_UP: 0,
    Delivery.Status.SKIPPED: 0,
    Delivery.Status.SENT: 1,
    Delivery.Status.DELIVERED: 2,
    Delivery.Status.BOUNCED: 3,
    Delivery.Status.COMPLAINED: 3,
}
_STATUS = {
    EventType.DELIVERED: Delivery.Status.DELIVERED,
    EventType.BOUNCED: Delivery.Status.BOUNCED,
    EventType.REJECTED: Delivery.Status.BOUNCED,
    EventType.COMPLAINED: Delivery.Status.COMPLAINED,
}
_STAMP = {
    EventType.DELIVERED: "delivered_at",
    EventType.OPENED: "opened_at",
    EventType.CLICKED: "clicked_at",
    EventType.UNSUBSCRIBED: "unsubscribed_at",
}
_SUPPRESS = {
    Delivery.Status.BOUNCED: Suppression.Reason.BOUNCED,
    Delivery.Status.COMPLAINED: Suppression.Reason.COMPLAINED,
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
        status = _STATUS.get(event.event_type)
        if status is not None and _RANK[status] > _RANK[delivery.status]:
            delivery.status = status
            changed.append("status")
            if status in _SUPPRESS:
                delivery.last_error = (event.description or event.mta_response or "")[:2000]
                changed.append("last_error")
        if changed:
            delivery.save(update_fields=changed)
        if status in _SUPPRESS:
            suppress(delivery, _SUPPRESS[status], delivery.last_error)
    if event.event_type == EventType.UNSUBSCRIBED:
        set_newsletter(delivery.donor, False)
    return delivery


def suppress(delivery, reason, detail=""):
    """No later message of the network goes to this address."""
    try:
        with transaction.atomic():
            Suppression.objects.get_or_create(
                network_id=delivery.message.network_id,
                email=delivery.to.lower(),
                defaults={"reason": reason, "detail": detail, "delivery": delivery},
            )
    except IntegrityError:  # the same address suppressed by a concurrent event
        pass


@receiver(tracking, dispatch_uid="outreach.tracking")
def record_tracking_event(sender, event, esp_name, **kwargs):
    record_event(event)
