from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Donor CRM")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import (
            receipt_receivers,  # noqa: F401  (receipts on gift success/refund, mail)
            signals,  # noqa: F401  (connects the network's groups)
        )
