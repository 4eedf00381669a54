from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Donor CRM")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Modules that connect receivers when imported, so only once the apps are loaded:
        # anymail's delivery tracking → DonorEmail, and a new network → its groups.
        from . import mail_tracking, signals  # noqa: F401
