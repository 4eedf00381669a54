"""Public-fundraising reports in the admin: the treasurers' screens (`fundraising.admin_views`)
and their menu entry in the CRM."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from crm.extensions import CRM_MENU
from crm.wagtail_hooks import CrmMenuItem

from . import admin_views
from .models import FundraisingReport


@hooks.register("register_admin_urls")
def fundraising_admin_urls():
    return admin_views.admin_urls()


@hooks.register(CRM_MENU)
def fundraising_menu_item():
    return CrmMenuItem(
        _("Fundraising reports"),
        reverse_lazy("fundraising_reports"),
        FundraisingReport,
        "view",
        icon_name="doc-full-inverse",
    )
