"""Registers the sign-in screens in the Wagtail admin: Account → Two-step verification, and
Settings → Sign-in security for superusers."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem


class SuperuserMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser


@hooks.register("register_settings_menu_item")
def register_sign_in_security_menu_item():
    return SuperuserMenuItem(
        _("Sign-in security"),
        reverse("accounts:security"),
        name="sign-in-security",
        icon_name="lock",
        order=650,
    )


@hooks.register("register_account_menu_item")
def register_two_step_account_item(request):
    return {
        "url": reverse("accounts:two_step"),
        "label": _("Two-step verification"),
        "help_text": _("Ask for a code from an authenticator app at every sign-in."),
    }
