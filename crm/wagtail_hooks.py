"""Registers the CRM in the Wagtail admin; the screens live in `crm.admin` (one module each)."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from .admin.common import donor_chooser_viewset
from .admin.dashboard import crm_homepage_panels
from .admin.menu import CrmViewSetGroup


@hooks.register("register_admin_viewset")
def register_crm_viewsets():
    return [CrmViewSetGroup(), donor_chooser_viewset]


@hooks.register("construct_homepage_panels")
def add_crm_panels(request, panels):
    panels[:0] = crm_homepage_panels(request)


@hooks.register("register_log_actions")
def register_crm_log_actions(actions):
    actions.register_action("crm.anonymise", _("Anonymise donor"), _("Donor anonymised"))
    actions.register_action("crm.merge", _("Merge donors"), _("Donors merged"))
