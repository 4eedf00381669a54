"""Registers relationship fundraising in the Wagtail admin (menu "Relationships", under
/admin/crm/relations/ so the CRM's policy coverage test walks every screen).

Who sees what (README, "Relationship fundraising"): a network's communicators and treasurers
both work its relationships (organisations, people, asks, pledges and their schedules, calls,
reports, interactions, tasks). Only treasurers link a gift to an instalment (`link_instalment`)
and read money: an organisation's relationship figures and the funder report, which list gifts
(they ask the CRM's Donation policy). Rows are always those of the user's networks."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSetGroup

from crm import extensions
from crm.tenancy import MEMBERS, NetworkPermissionPolicy, policy_for, register_network_policy

from .admin.calls import CallViewSet
from .admin.dashboard import relations_panels
from .admin.opportunities import OpportunityViewSet
from .admin.organisations import OrganisationViewSet
from .admin.viewsets import (
    InteractionViewSet,
    RelationshipViewSet,
    ReportViewSet,
    TaskViewSet,
    YearTargetViewSet,
)
from .models import (
    Call,
    CallDocument,
    Instalment,
    Interaction,
    Opportunity,
    Organisation,
    Pledge,
    Relationship,
    Report,
    Task,
    YearTarget,
)

RELATIONS_MENU = "register_relations_menu_item"
EDITED = (Organisation, Relationship, Interaction, Task, Opportunity, YearTarget, Call, Report)
ALL = ("view", "add", "change", "delete")


def _codes(model, actions):
    return [("relations", f"{action}_{model._meta.model_name}") for action in actions]


def member_permissions():
    permissions = [perm for model in EDITED for perm in _codes(model, ALL)]
    return permissions + _codes(Pledge, ("view",)) + _codes(Instalment, ("view",))


for _model in (*EDITED, Pledge, Instalment):
    register_network_policy(_model, NetworkPermissionPolicy(_model, members=MEMBERS))
# A call's documents: the call's permissions decide.
register_network_policy(
    CallDocument, NetworkPermissionPolicy(CallDocument, auth_model=Call, members=MEMBERS)
)


@hooks.register(extensions.TREASURER_PERMISSIONS)
def treasurer_permissions():
    return member_permissions() + _codes(Instalment, ("link",))


@hooks.register(extensions.COMMUNICATOR_PERMISSIONS)
def communicator_permissions():
    return member_permissions()


class RelationsGroup(ModelViewSetGroup):
    menu_label = _("Relationships")
    menu_icon = "site"
    menu_order = 160
    submenu_hook = RELATIONS_MENU
    items = (
        OrganisationViewSet("relations_organisation", url_prefix="crm/relations/organisations"),
        RelationshipViewSet("relations_relationship", url_prefix="crm/relations/relationships"),
        OpportunityViewSet("relations_opportunity", url_prefix="crm/relations/opportunities"),
        CallViewSet("relations_call", url_prefix="crm/relations/calls"),
        ReportViewSet("relations_report", url_prefix="crm/relations/reports"),
        InteractionViewSet("relations_interaction", url_prefix="crm/relations/interactions"),
        TaskViewSet("relations_task", url_prefix="crm/relations/tasks"),
        YearTargetViewSet("relations_yeartarget", url_prefix="crm/relations/targets"),
    )


@hooks.register("register_admin_viewset")
def register_relations_viewsets():
    return RelationsGroup()


class PolicyMenuItem(MenuItem):
    def __init__(self, label, url, model, action, **kwargs):
        super().__init__(label, url, **kwargs)
        self.model, self.action = model, action

    def is_shown(self, request):
        return policy_for(self.model).user_has_permission(request.user, self.action)


@hooks.register(RELATIONS_MENU)
def pipeline_menu_item():
    return PolicyMenuItem(
        _("Pipeline"),
        reverse_lazy("relations_opportunity:pipeline"),
        Opportunity,
        "view",
        icon_name="table",
        order=1,
    )


@hooks.register(RELATIONS_MENU)
def calendar_menu_item():
    return PolicyMenuItem(
        _("Calendar feed"),
        reverse_lazy("relations_call:calendar"),
        Call,
        "view",
        icon_name="date",
        order=2,
    )


@hooks.register("construct_homepage_panels")
def add_relations_panels(request, panels):
    panels.extend(relations_panels(request))
