"""Delivery status of the gift emails: anymail's normalised `tracking` signal (webhook URLs
under /crm/anymail/, `crm.mail_webhooks`) → the DonorEmail's status, by provider message id; a
bounce or a complaint also suppresses the address for the network (`crm.mail_policy`).
Connected when imported: `crm.apps.CrmConfig.ready` imports this module.
"""

from anymail.signals import tracking
from django.db import transaction
from django.dispatch import receiver

from .mail_policy import SUPPRESSING, TRACKING_STATUS, _network_of, status_rank, suppress_address
from .models import DonorEmail, SuppressedAddress


@receiver(tracking, dispatch_uid="crm.mail.tracking")
def record_tracking_event(sender, event, esp_name, **kwargs):
    """anymail tracking webhook → the DonorEmail's delivery status (by provider message id)."""
    status = TRACKING_STATUS.get(event.event_type)
    if status is None or not event.message_id:
        return
    with transaction.atomic():
        for email in DonorEmail.objects.select_for_update().filter(
            message_id=str(event.message_id)
        ):
            if status_rank(status) > status_rank(email.status):
                email.status = status
                if status in SUPPRESSING:
                    email.last_error = (event.description or event.mta_response or "")[:2000]
                email.save(update_fields=["status", "last_error", "updated_at"])
            if status in SUPPRESSING and (network := _network_of(email)) is not None:
                suppress_address(
                    network.pk,
                    email.to,
                    SUPPRESSING[status],
                    detail=event.description or event.mta_response or "",
                    source=SuppressedAddress.Source.GIFT_EMAIL,
                )
