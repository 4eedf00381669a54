from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running Trama as a service: health, metrics, backups, pruning. Above every other app;
    none of them imports it."""

    name = "ops"
    verbose_name = _("Operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        if settings.SENTRY_DSN:
            from .errors import start_sentry

            start_sentry(settings)
