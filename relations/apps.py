from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelationsConfig(AppConfig):
    name = "relations"
    verbose_name = _("Relationship fundraising")
    default_auto_field = "django.db.models.BigAutoField"
