from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Network
from .tenancy import provision_network


@receiver(post_save, sender=Network, dispatch_uid="crm.provision_network")
def network_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        provision_network(instance)
