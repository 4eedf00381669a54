"""An entity's treasurers (issue 26), named by the network's treasurer from the entity's page
instead of a superuser editing groups: the people of the network (its treasurers, its
communicators, the treasurers of its other entities) are added to or removed from the entity's
treasurers' group. Nobody outside the network can be added; an entity's own treasurers cannot
reach this screen (it asks to change the entity, which only the network's treasurers may)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.log_actions import log

from crm.models import IssuingEntity
from crm.tenancy import network_view, reached
from crm.validators import row_id

# Who was named or removed, and by whom, is in the entity's history.
ADDED, REMOVED = "crm.entity.treasurer_added", "crm.entity.treasurer_removed"


@hooks.register("register_log_actions")
def register_entity_log_actions(actions):
    actions.register_action(
        ADDED, gettext_lazy("Add a treasurer"), gettext_lazy("Treasurer of the entity added")
    )
    actions.register_action(
        REMOVED,
        gettext_lazy("Remove a treasurer"),
        gettext_lazy("Treasurer of the entity removed"),
    )


def people_of_the_network(network):
    """The active users who already belong to `network`: its treasurers and communicators and
    the treasurers of its entities."""
    groups = [network.treasurers_group_id, network.communicators_group_id]
    groups += network.entities.exclude(treasurers_group=None).values_list(
        "treasurers_group", flat=True
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__in=[g for g in groups if g])
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def _name(user):
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


@network_view(IssuingEntity, "change")
def entity_treasurers(request, pk):
    entities = reached(request.user, IssuingEntity, "change").select_related("network")
    entity = get_object_or_404(entities, pk=pk)
    back = reverse("crm_entity:inspect", args=[entity.pk])
    group = entity.treasurers_group
    members = group.user_set.order_by("last_name", "first_name", "username") if group else []
    candidates = people_of_the_network(entity.network)
    if group is not None:
        candidates = candidates.exclude(groups=group)
    status, error = 200, ""
    if request.method == "POST":
        add, remove = request.POST.get("add", ""), request.POST.get("remove", "")
        chosen = None
        if group is None:
            error = _("The lead entity's treasurers are the network's: nothing to change here.")
        elif row_id(add) and (chosen := candidates.filter(pk=row_id(add)).first()):
            chosen.groups.add(group)
            log(entity, ADDED, user=request.user, data={"treasurer": chosen.get_username()})
            messages.success(
                request,
                _("%(name)s is now a treasurer of %(entity)s.")
                % {"name": _name(chosen), "entity": entity.legal_name},
            )
            return redirect(request.path)
        elif row_id(remove) and (chosen := group.user_set.filter(pk=row_id(remove)).first()):
            chosen.groups.remove(group)
            log(entity, REMOVED, user=request.user, data={"treasurer": chosen.get_username()})
            messages.success(
                request,
                _("%(name)s is no longer a treasurer of %(entity)s.")
                % {"name": _name(chosen), "entity": entity.legal_name},
            )
            return redirect(request.path)
        else:
            error = _("Choose someone of the network: nobody else can be a treasurer here.")
        status = 400
    return TemplateResponse(
        request,
        "crm/admin/entity_treasurers.html",
        {
            "title": _("Treasurers of %(entity)s") % {"entity": entity.legal_name},
            "object": entity,
            "members": [(u.pk, _name(u)) for u in members],
            "candidates": [(u.pk, _name(u)) for u in candidates] if group else [],
            "error": error,
            "back_url": back,
        },
        status=status,
    )
