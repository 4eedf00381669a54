"""Registers the CRM in the Wagtail admin; the screens live in `crm.admin` (one module each)."""

from django.db import models
from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.models import ModelLogEntry

from . import (
    consent,  # noqa: F401 (registers the consent log actions)
    plan_history,  # noqa: F401 (registers the plan log actions)
)
from .admin import email_templates
from .admin.bulk_actions import BULK_ACTIONS
from .admin.dashboard import crm_homepage_panels
from .admin.donor_chooser import donor_chooser_viewset
from .admin.menu import CrmViewSetGroup
from .admin.plans import plans_to_check_panels
from .extensions import CRM_MENU
from .merging import SAME_PERSON
from .models import Donation, Donor, TenantLogEntry
from .tenancy import MOVE_PAGE, policy_for


@hooks.register("register_admin_viewset")
def register_crm_viewsets():
    return [CrmViewSetGroup(), donor_chooser_viewset]


@hooks.register("register_admin_urls")
def register_email_template_urls():
    urls = (email_templates.urlpatterns, "crm_email_templates")
    return [path("crm/email-templates/", include(urls))]


@hooks.register("register_settings_menu_item")
def register_emails_to_donors_menu_item():
    return email_templates.menu_item()


class CrmMenuItem(MenuItem):
    """A CRM screen that is not a list of its own, shown to people the network permission
    policy of `model` gives `action`."""

    def __init__(self, label, url, model, action, **kwargs):
        super().__init__(label, url, **kwargs)
        self.model, self.action = model, action

    def is_shown(self, request):
        return policy_for(self.model).user_has_permission(request.user, self.action)


@hooks.register(CRM_MENU)
def crm_exports_menu_item():
    return CrmMenuItem(
        _("Exports"), reverse_lazy("crm_donation:exports"), Donation, "view", icon_name="download"
    )


@hooks.register(CRM_MENU)
def crm_duplicates_menu_item():
    return CrmMenuItem(
        _("Possible duplicates"),
        reverse_lazy("crm_donor:duplicates"),
        Donor,
        "change",
        icon_name="user",
    )


@hooks.register("construct_homepage_panels")
def add_crm_panels(request, panels):
    panels[:0] = crm_homepage_panels(request)


@hooks.register("construct_homepage_panels")
def add_plans_to_check_notice(request, panels):
    panels[:0] = plans_to_check_panels(request)


@hooks.register("register_log_actions")
def register_crm_log_actions(actions):
    actions.register_action("crm.anonymise", _("Anonymise donor"), _("Donor anonymised"))
    actions.register_action("crm.merge", _("Merge donors"), _("Donors merged"))
    actions.register_action(
        SAME_PERSON, _("Confirm same person"), _("Confirmed as the same person as another donor")
    )
    actions.register_action(
        MOVE_PAGE, _("Move to another network"), _("Page assigned to another network")
    )


@hooks.register("register_log_actions", order=100)  # after Wagtail's own registrations
def scope_model_history(actions):
    # Every non-page object's history is read through `TenantLogEntry` (same table, scoped
    # rows: crm.models.history) instead of Wagtail's `ModelLogEntry`, which would otherwise
    # also stay in the site history's union and show every row again, unscoped.
    actions.register_model(models.Model, TenantLogEntry)
    actions.log_entry_models.discard(ModelLogEntry)


for bulk_action in BULK_ACTIONS:
    hooks.register("register_bulk_action", bulk_action)
