"""The 5 per mille in the admin: the treasurers' screens (CRM → 5 per mille) and their URLs.
`PerMillePage` is a page type communicators add under their network's page (cms)."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from crm.extensions import CRM_MENU
from crm.wagtail_hooks import CrmMenuItem

from . import admin_views
from .models import PerMilleGrant


@hooks.register("register_admin_urls")
def permille_admin_urls():
    return admin_views.admin_urls()


@hooks.register(CRM_MENU)
def permille_menu_item():
    return CrmMenuItem(
        _("5 per mille"),
        reverse_lazy("permille_index"),
        PerMilleGrant,
        "view",
        icon_name="doc-full",
    )
