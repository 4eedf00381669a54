"""Keep cached campaign progress true: any change to a donation of a campaign drops the
campaign's cached totals once the change is committed."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from crm.models import Donation

from .models import invalidate_progress


@receiver(post_save, sender=Donation, dispatch_uid="campaigns.donation_saved")
@receiver(post_delete, sender=Donation, dispatch_uid="campaigns.donation_deleted")
def donation_changed(sender, instance, raw=False, **kwargs):
    if instance.campaign_id and not raw:
        campaign_id = instance.campaign_id
        # Now, and again after commit: a reader between the two may cache pre-commit totals.
        invalidate_progress(campaign_id)
        transaction.on_commit(lambda: invalidate_progress(campaign_id))
