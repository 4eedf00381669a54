from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Sign-in for staff (the Wagtail admin): lockout after repeated failures (django-axes),
    throttled password reset, logout by POST, and the optional TOTP second factor
    (django-otp). The core does not import it; it reads `crm` to know who is a treasurer."""

    name = "accounts"
    verbose_name = _("Sign-in")
    default_auto_field = "django.db.models.BigAutoField"
