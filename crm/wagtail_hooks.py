"""Registers the CRM in the Wagtail admin; the declarations live in `crm.viewsets`."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from .dashboard import crm_homepage_panels
from .viewsets import CrmViewSetGroup, donor_chooser_viewset


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
