"""Provisioning of a network's people: its two Wagtail groups, its media collection, and the
page permissions communicators get on the network's own page subtree (and nowhere else)."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.log_actions import log
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission

from . import extensions
from .models import Network

# The history entry of `move_page_to_network` (registered in crm.wagtail_hooks).
MOVE_PAGE = "crm.page.move_network"

# Communicators write and publish the story pages of their network's subtree.
COMMUNICATOR_PAGE_PERMISSIONS = (
    "add_page",
    "change_page",
    "publish_page",
    "lock_page",
    "unlock_page",
)
COMMUNICATOR_COLLECTION_PERMISSIONS = (
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
)
# Treasurers reach the CRM models; which rows they see is scoped by network membership
# (`Network.objects.for_user`), never by these model permissions alone.
TREASURER_MODEL_PERMISSIONS = {
    "donor": ("view", "add", "change"),
    "donation": ("view", "add", "change", "refund"),
    "recurringplan": ("view", "change"),
    "receipt": ("view", "add", "change"),
    "donoremail": ("view",),
    "importbatch": ("view", "add"),
}


def _perm(app_label, codename):
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@transaction.atomic
def provision_network(network):
    """Create (idempotently) the network's groups and media collection."""
    changed = False
    if network.communicators_group_id is None:
        network.communicators_group, _ = Group.objects.get_or_create(
            name=f"{network.name} · comunicazione"
        )
        changed = True
    if network.treasurers_group_id is None:
        network.treasurers_group, _ = Group.objects.get_or_create(
            name=f"{network.name} · tesoreria"
        )
        changed = True
    if network.collection_id is None:
        network.collection = Collection.get_first_root_node().add_child(name=network.name)
        changed = True
    if changed:
        network.save(update_fields=["communicators_group", "treasurers_group", "collection"])

    access_admin = _perm("wagtailadmin", "access_admin")
    network.communicators_group.permissions.add(access_admin)
    network.treasurers_group.permissions.add(access_admin)
    for model, actions in TREASURER_MODEL_PERMISSIONS.items():
        for action in actions:
            network.treasurers_group.permissions.add(_perm("crm", f"{action}_{model}"))
    # What the outer apps add (the giving app: its Stripe event log).
    for app_label, codename in extensions.treasurer_permissions():
        network.treasurers_group.permissions.add(_perm(app_label, codename))
    # What the outer apps add for communicators (outreach: messages to donors).
    for app_label, codename in extensions.communicator_permissions():
        network.communicators_group.permissions.add(_perm(app_label, codename))
    for app_label, codename in COMMUNICATOR_COLLECTION_PERMISSIONS:
        GroupCollectionPermission.objects.get_or_create(
            group=network.communicators_group,
            collection=network.collection,
            permission=_perm(app_label, codename),
        )


def grant_page_subtree(network, page):
    """Give the network's communicators edit rights on `page` and everything below it."""
    if network.communicators_group_id is None:
        provision_network(network)
    for codename in COMMUNICATOR_PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=network.communicators_group, page=page, permission=_perm("wagtailcore", codename)
        )


@transaction.atomic
def sync_page_grants(network, page):
    """Make `network`'s communicators the only networks' communicators with rights on `page`
    (and so below it): theirs granted, any other network's removed, so no grant outlives a
    change of network. Groups that are no network's communicators are left alone."""
    others = Network.objects.exclude(pk=network.pk).exclude(communicators_group=None)
    GroupPagePermission.objects.filter(
        page=page, group__in=others.values("communicators_group")
    ).delete()
    grant_page_subtree(network, page)


@transaction.atomic
def move_page_to_network(page, network, *, user=None):
    """Assign a network's story page, and so everything under it, to `network`: campaigns find
    their network through that page, so their next gifts and donors belong to `network`
    (recorded gifts stay where they were). The old network's communicators lose their rights
    on the subtree and the new one's get them. Superusers only (`cms.forms` refuses others)."""
    model = type(page)
    previous = model.objects.filter(pk=page.pk).values_list("network_id", flat=True).get()
    model.objects.filter(pk=page.pk).update(network=network)
    page.network = network
    sync_page_grants(network, page)
    if previous != network.pk:
        log(page, MOVE_PAGE, user=user, data={"from": previous, "to": network.pk})
    return page
