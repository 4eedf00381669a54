"""The banking app in the product: the bank transfer button on campaign pages, the treasurers'
screens in the admin (`banking.admin_views`), their permissions."""

from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from campaigns.templatetags.giving import GIVING_ALTERNATIVES
from crm.extensions import CRM_MENU
from crm.wagtail_hooks import CrmMenuItem

from . import admin_views
from .models import Statement
from .pledges import bank_details_of


@hooks.register(GIVING_ALTERNATIVES)
def bank_transfer_button(request, page):  # type: ignore[no-untyped-def]
    """The "Bank transfer" button next to the card's, for a network with its IBAN set."""
    if bank_details_of(page.network) is None:
        return ""
    action = reverse("banking:give", args=[page.pk])
    match = getattr(request, "resolver_match", None)
    chosen = bool(match and match.view_name == "banking:give")  # the form came back from us
    context = {"action": action, "chosen": chosen}
    return render_to_string("banking/_give_button.html", context, request=request)


@hooks.register("register_admin_urls")
def banking_admin_urls():  # type: ignore[no-untyped-def]
    return admin_views.admin_urls()


@hooks.register(CRM_MENU)
def banking_menu_item():  # type: ignore[no-untyped-def]
    return CrmMenuItem(
        _("Bank transfers"),
        reverse_lazy("banking_statements"),
        Statement,
        "view",
        icon_name="doc-full",
    )
