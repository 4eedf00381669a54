from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerMilleConfig(AppConfig):
    name = "permille"
    verbose_name = _("5 per mille")
    default_auto_field = "django.db.models.BigAutoField"
