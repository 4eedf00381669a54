from django.db.models.signals import post_save
from django.dispatch import receiver

from crm.tenancy import grant_page_subtree

from .models import NetworkPage


@receiver(post_save, sender=NetworkPage, dispatch_uid="cms.grant_network_page")
def network_page_saved(sender, instance, raw=False, **kwargs):
    # Idempotent: re-grants if a page is moved to another network.
    if not raw:
        grant_page_subtree(instance.network, instance)
