from django.db.models.signals import post_save
from django.dispatch import receiver

from crm.tenancy import sync_page_grants

from .models import NetworkPage


@receiver(post_save, sender=NetworkPage, dispatch_uid="cms.grant_network_page")
def network_page_saved(sender, instance, raw=False, **kwargs):
    """Communicators' rights follow the network the page has in the database: saving a
    revision saves the page object it was edited on (whose `network` may be a draft's), so
    the stored value, not the in-memory one, decides."""
    if raw:
        return
    stored = NetworkPage.objects.filter(pk=instance.pk).select_related("network").first()
    if stored is not None:
        sync_page_grants(stored.network, stored)
