"""Keep cached campaign progress true: any change to a donation of a campaign drops the
campaign's cached totals once the change is committed (once per campaign and transaction,
however many times the donation is saved). Two saves change no figure and drop nothing: a
pending gift created by the donation form (only succeeded gifts count), and a save of its
Checkout Session's id alone (a giving day's every start did both: four cache deletions)."""

import functools

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from crm.models import Donation

from .models import invalidate_progress


@receiver(post_save, sender=Donation, dispatch_uid="campaigns.donation_saved")
@receiver(post_delete, sender=Donation, dispatch_uid="campaigns.donation_deleted")
def donation_changed(sender, instance, raw=False, using=None, **kwargs):
    if instance.campaign_id and not raw and not _changes_no_figure(instance, **kwargs):
        invalidate_after_commit(instance.campaign_id, using=using)


# Fields no figure of a campaign reads (`CampaignPage._compute_progress`: succeeded gifts, their
# kept amount, donors and wall).
NO_FIGURE_FIELDS = frozenset({"stripe_checkout_session_id", "updated_at"})


def _changes_no_figure(instance, created=False, update_fields=None, **kwargs):
    if created:
        return instance.status == Donation.Status.PENDING
    return update_fields is not None and set(update_fields) <= NO_FIGURE_FIELDS


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
