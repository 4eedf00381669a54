from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Network stories")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from PIL import ImageFile

        from . import signals  # noqa: F401  (communicators' rights on their network's pages)

        # A cut-off picture (an interrupted upload, a file damaged in storage) is shown as far
        # as it goes, never a page, a rendition or an upload failing with a 500. WeasyPrint
        # turns this on when it is imported, on a process's first PDF (crm.pdf.weasyprint):
        # here in every process from the start, so the answer never depends on what the
        # process did before.
        ImageFile.LOAD_TRUNCATED_IMAGES = True
