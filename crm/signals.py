from django.contrib.auth.models import Permission
from django.db.models.signals import post_migrate, post_save
from django.dispatch import receiver

from .models import IssuingEntity, Network
from .tenancy import provision_entity, provision_network


@receiver(post_save, sender=Network, dispatch_uid="crm.provision_network")
def network_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        provision_network(instance)


@receiver(post_save, sender=IssuingEntity, dispatch_uid="crm.provision_entity")
def entity_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        provision_entity(instance)


@receiver(post_migrate, dispatch_uid="crm.reprovision_networks")
def networks_get_new_permissions(sender, using="default", **kwargs):
    """After an upgrade, existing networks' groups get the permissions of the screens added
    since they were provisioned (imports, payouts, refunds…), as a new network's would.
    `migrate` sends this once per app; until every app's permissions exist, it waits for
    the next one (provisioning is idempotent)."""
    try:
        for network in Network.objects.using(using).all():
            provision_network(network)
        for entity in IssuingEntity.objects.using(using).filter(is_lead=False):
            provision_entity(entity)
    except Permission.DoesNotExist:
        pass
