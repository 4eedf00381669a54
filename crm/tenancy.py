"""Tenancy: the provisioning of a network's people (its two Wagtail groups, its media
collection, the page permissions communicators get on the network's own page subtree and
nowhere else), and the one network permission policy every CRM admin screen asks."""

import functools
from dataclasses import dataclass

from django.contrib.admin.utils import unquote
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from wagtail.log_actions import log
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import policy_registry, register_permission_policy

from . import extensions
from .models import (
    Donation,
    Donor,
    EmailTemplate,
    ImportBatch,
    InKindGift,
    IssuingEntity,
    Network,
    Receipt,
    RecurringPlan,
    StatementRun,
)

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
    "issuingentity": ("view", "add", "change"),
}


def _new_group(name):
    """A new group under `name`, or "name (2)", "(3)"… if taken: a group is never shared with
    another network or entity of the same name, nor one an administrator made by hand (its
    members would get this one's rights)."""
    candidate, number = name[:150], 1
    while Group.objects.filter(name=candidate).exists():
        number += 1
        suffix = f" ({number})"
        candidate = name[: 150 - len(suffix)] + suffix
    return Group.objects.create(name=candidate)


def _perm(app_label, codename):
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _perms(*pairs):
    """The permissions named by (app_label, codename) pairs, in one query (a network's groups
    get some thirty: one query each made saving a network slow). Each must exist, once."""
    wanted = set(pairs)
    query = Q()
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query).select_related("content_type"))
    named = [(perm.content_type.app_label, perm.codename) for perm in found]
    if len(named) != len(wanted) or set(named) != wanted:
        raise ImproperlyConfigured(f"permissions missing or ambiguous: {sorted(wanted)} / {named}")
    return found


@transaction.atomic
def provision_network(network):
    """Create (idempotently) the network's groups and media collection."""
    changed = False
    if network.communicators_group_id is None:
        network.communicators_group = _new_group(f"{network.name} · comunicazione")
        changed = True
    if network.treasurers_group_id is None:
        network.treasurers_group = _new_group(f"{network.name} · tesoreria")
        changed = True
    if network.collection_id is None:
        network.collection = Collection.get_first_root_node().add_child(name=network.name)
        changed = True
    if changed:
        network.save(update_fields=["communicators_group", "treasurers_group", "collection"])

    access_admin = ("wagtailadmin", "access_admin")
    network.treasurers_group.permissions.add(
        *_perms(
            access_admin,
            *(
                ("crm", f"{action}_{model}")
                for model, actions in TREASURER_MODEL_PERMISSIONS.items()
                for action in actions
            ),
            # What the outer apps add (the giving app: its Stripe event log).
            *extensions.treasurer_permissions(),
        )
    )
    # What the outer apps add for communicators (outreach: messages to donors).
    network.communicators_group.permissions.add(
        *_perms(access_admin, *extensions.communicator_permissions())
    )
    for permission in _perms(*COMMUNICATOR_COLLECTION_PERMISSIONS):
        GroupCollectionPermission.objects.get_or_create(
            group=network.communicators_group,
            collection=network.collection,
            permission=permission,
        )


# An entity's own treasurers (issue 26) read its gifts and receipts (their PDFs, the exports,
# the Agenzia data); the network's treasurers do everything else, for every entity.
ENTITY_TREASURER_PERMISSIONS = (("crm", "view_donation"), ("crm", "view_receipt"))


@transaction.atomic
def provision_entity(entity):
    """Create (idempotently) the treasurers' group of a partner entity (the lead entity's
    treasurers are the network's)."""
    if entity.is_lead:
        return
    if entity.treasurers_group_id is None:
        name = f"{entity.network.name} · {entity.legal_name} · tesoreria"
        entity.treasurers_group = _new_group(name)
        IssuingEntity.objects.filter(pk=entity.pk).update(treasurers_group=entity.treasurers_group)
    entity.treasurers_group.permissions.add(
        *_perms(
            ("wagtailadmin", "access_admin"),
            *ENTITY_TREASURER_PERMISSIONS,
            # What the outer apps add (the giving app: the payouts of the entity's own account).
            *extensions.entity_treasurer_permissions(),
        )
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


# --- Who reaches what: the one network permission policy of the admin ---------------------------

#: The actions of an object's own screens: an object URL answers only for rows the user may do at
#: least one of them on (which one a screen needs, the screen asks).
ANY_ACTION = ("view", "add", "change", "delete")
TREASURERS, MEMBERS = "treasurers", "members"  # members: treasurers and communicators


class NetworkPermissionPolicy(ModelPermissionPolicy):
    """The most important rule of Trama, in one place: which actions a user may do on a model
    (the Django permissions their groups give, as Wagtail's `ModelPermissionPolicy` decides)
    and on which rows: those of the networks they reach (`for_user`), never another network's.
    Who reaches no network may do nothing, whatever their permissions.

    Every CRM admin screen asks it: viewsets through `permission_policy`, custom views through
    `network_view`, bulk actions, choosers, menus and dashboard panels through `policy_for`.

    `members`: the networks' treasurers (the CRM) or MEMBERS, treasurers and communicators
    (the emails to donors, whose screens ask no model permission: `model_permissions=False`).
    `auth_model`: the model whose permissions decide (a statement run: the receipts').
    `entities`: the rows belong to an issuing entity (gifts, receipts), so an entity's own
    treasurers reach those of their entity (the queryset's `for_user` narrows them), and the
    screens naming an `entity_id` answer for the entities they reach."""

    def __init__(
        self,
        model,
        auth_model=None,
        *,
        members=TREASURERS,
        model_permissions=True,
        entities=False,
    ):
        super().__init__(model, auth_model=auth_model)
        self.members = members
        self.model_permissions = model_permissions
        self.entities = entities

    def networks_for(self, user):
        """The networks whose rows the user may reach through this policy."""
        if not user.is_authenticated or not user.is_active:
            return Network.objects.none()
        networks = Network.objects.for_user(user)
        if self.members == MEMBERS and not user.is_superuser:
            networks = (networks | Network.objects.edited_by(user)).distinct()
        return networks

    def entities_for(self, user):
        """The issuing entities whose rows the user may reach through this policy: those of
        the networks reached, and (for an entity-scoped model) the user's own entities."""
        if not self.entities:
            return IssuingEntity.objects.filter(network__in=self.networks_for(user))
        return IssuingEntity.objects.reached_by(user)

    def _reaches_a_network(self, user):
        # Asked once per request (the user object is the request's), not once per list row.
        reach = user.__dict__.setdefault("_trama_network_reach", {})
        key = (self.members, self.entities)
        if key not in reach:
            reach[key] = self.networks_for(user).exists() or (
                self.entities and IssuingEntity.objects.of_entity_treasurer(user).exists()
            )
        return reach[key]

    def user_has_permission(self, user, action):
        if self.model_permissions and not super().user_has_permission(user, action):
            return False
        return self._reaches_a_network(user)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def scope(self, queryset, user, actions=ANY_ACTION):
        """`queryset` narrowed to the rows the user may do one of `actions` on."""
        if not self.user_has_any_permission(user, actions):
            return queryset.none()
        rows = queryset.for_user(user)
        if self.entities and "view" not in actions:  # an entity's own treasurers only read
            rows = rows.filter(network__in=self.networks_for(user))  # the rest: the network's
        return rows

    def instances_user_has_any_permission_for(self, user, actions):
        return self.scope(self.model._default_manager.all(), user, actions)

    def instances_user_has_permission_for(self, user, action):
        return self.instances_user_has_any_permission_for(user, [action])

    def user_has_any_permission_for_instance(self, user, actions, instance):
        rows = self.instances_user_has_any_permission_for(user, actions)
        return rows.filter(pk=instance.pk).exists()

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_any_permission_for_instance(user, [action], instance)


def register_network_policy(model, policy=None):
    """Register `model`'s policy with Wagtail (its generic views and choosers ask the registry)."""
    policy = policy or NetworkPermissionPolicy(model)
    register_permission_policy(model, policy, exact_class=True)
    return policy


def policy_for(model):
    """The network permission policy of `model` (ImproperlyConfigured if it has none: a CRM
    screen never falls back to Wagtail's unscoped model policy)."""
    policy = policy_registry.get_by_type(model, fallback=False)
    if not isinstance(policy, NetworkPermissionPolicy):
        raise ImproperlyConfigured(f"{model.__name__} has no network permission policy.")
    return policy


for _model in (Donor, RecurringPlan, ImportBatch):
    register_network_policy(_model)
# Gifts and receipts belong to an issuing entity: its own treasurers reach them too.
for _entity_model in (Donation, Receipt):
    register_network_policy(_entity_model, NetworkPermissionPolicy(_entity_model, entities=True))
# The network's treasurers manage its issuing entities (an entity's own treasurers do not).
register_network_policy(IssuingEntity)
# Goods given are gifts: the donations' permissions decide (no new permission to provision),
# and an entity's own treasurers read the goods their entity received (view_donation only).
register_network_policy(
    InKindGift, NetworkPermissionPolicy(InKindGift, auth_model=Donation, entities=True)
)
# A statement run: one entity's receipts (their permissions decide; its treasurers reach it).
register_network_policy(
    StatementRun, NetworkPermissionPolicy(StatementRun, auth_model=Receipt, entities=True)
)
# Every network's treasurers and communicators write its emails; no model permission is asked.
register_network_policy(
    EmailTemplate,
    NetworkPermissionPolicy(EmailTemplate, members=MEMBERS, model_permissions=False),
)


# --- Screens routed through the policy -----------------------------------------------------------


@dataclass(frozen=True)
class NetworkCheck:
    """What a screen asks the policy (set as `network_policy` on the view, for the coverage
    test): `action` on `model` (None: any action, the screen's own view asks which), and the
    rows its URL names: `pk` one of `pk_model`, `network_id` one of the networks reached."""

    model: type
    action: str | None
    pk_model: type


def _named_object_reached(user, check, kwargs):
    if "pk" in kwargs:
        pk = unquote(str(kwargs["pk"]))
        rows = policy_for(check.pk_model).instances_user_has_any_permission_for(user, ANY_ACTION)
        try:
            if not rows.filter(pk=pk).exists():
                return False
        except (ValueError, ValidationError):  # not a key at all: no such row either
            return False
    if "network_id" in kwargs:
        networks = policy_for(check.model).networks_for(user)
        if not networks.filter(pk=kwargs["network_id"]).exists():
            return False
    if "entity_id" in kwargs:
        entities = policy_for(check.model).entities_for(user)
        if not entities.filter(pk=kwargs["entity_id"]).exists():
            return False
    return True


def network_view(model, action=None, *, pk=None):
    """Route an admin view through the policy of `model`: 403 unless the user may do `action`
    (None: any action), 404 when the URL names a row (`pk`, of the `pk` model, default
    `model`; `network_id`; `entity_id`) outside the networks or entities the user reaches."""
    check = NetworkCheck(model, action, pk or model)

    def decorate(view):
        @functools.wraps(view)
        def checked(request, *args, **kwargs):
            policy = policy_for(model)
            actions = ANY_ACTION if action is None else [action]
            if not policy.user_has_any_permission(request.user, actions):
                raise PermissionDenied
            if not _named_object_reached(request.user, check, kwargs):
                raise Http404
            return view(request, *args, **kwargs)

        checked.network_policy = check
        return checked

    return decorate


def require(user, model, action):
    """PermissionDenied unless the policy of `model` gives `user` the `action` (for a view
    whose methods ask more than its `network_view`, e.g. a POST that adds)."""
    if not policy_for(model).user_has_permission(user, action):
        raise PermissionDenied


def reached(user, model, action=None):
    """The rows of `model` the user may do `action` on (any action when None)."""
    actions = ANY_ACTION if action is None else [action]
    return policy_for(model).instances_user_has_any_permission_for(user, actions)
