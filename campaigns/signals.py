"""Keep cached campaign progress true: any change to a donation of a campaign drops the
campaign's cached totals once the change is committed (once per campaign and transaction,
however many times the donation is saved)."""

import functools

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from crm.models import Donation

from .models import invalidate_progress


@receiver(post_save, sender=Donation, dispatch_uid="campaigns.donation_saved")
@receiver(post_delete, sender=Donation, dispatch_uid="campaigns.donation_deleted")
def donation_changed(sender, instance, raw=False, using=None, **kwargs):
    if instance.campaign_id and not raw:
        invalidate_after_commit(instance.campaign_id, using=using)


def invalidate_after_commit(campaign_id, using=None):
    connection = transaction.get_connection(using)
    # Callbacks of rolled-back savepoints are already dropped from this list, so a match here
    # is a deletion that will really run.
    for _savepoints, callback, _robust in connection.run_on_commit:
        if getattr(callback, "campaign_id", None) == campaign_id:
            return
    # Now (readers in this transaction see the change) and again after commit (a reader in
    # between may have cached the totals from before it).
    invalidate_progress(campaign_id)
    callback = functools.partial(invalidate_progress, campaign_id)
    callback.campaign_id = campaign_id
    transaction.on_commit(callback, using=using)
