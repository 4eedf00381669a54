"""An import batch: one file a treasurer brought in, from upload to apply (or undo).

The file itself is not kept: its cells are (`table`), so the treasurer maps the columns and
previews the result without uploading it again, and its SHA-256 refuses the same file twice."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .network import Network, NetworkScopedQuerySet


class ImportBatch(models.Model):
    # Not in Wagtail's reference index: no page references an import, and a network's "usage"
    # is not its imports.
    wagtail_reference_index_ignore = True

    class Status(models.TextChoices):
        DRAFT = "draft", _("Not applied yet")
        RUNNING = "running", _("Being applied")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")
        UNDONE = "undone", _("Undone")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="import_batches", verbose_name=_("network")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    #: What the file says, not its bytes (`crm.import_files.content_fingerprint`): the same
    #: data saved again (line endings, encoding, column order, XLSX or CSV) has the same one.
    content_hash = models.CharField(
        _("content fingerprint"), max_length=64, blank=True, db_index=True
    )
    #: Whether applying emails the receipts it issues (the preview's choice; the worker reads it).
    email_receipts = models.BooleanField(_("email the receipts it issues"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    #: The file's cells as text: [header, row, row, ...] with the file's line numbers.
    table = models.JSONField(default=list)
    #: Column index (as text) → field name ("" ignores the column).
    mapping = models.JSONField(default=dict)
    #: Line numbers of rows that look already recorded but were chosen to be imported anyway.
    include_lines = models.JSONField(default=list)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    progress = models.PositiveIntegerField(_("rows applied"), default=0)
    #: What the apply did: counts, and the ids of the gifts and donors it created (for undo).
    result = models.JSONField(default=dict)
    error = models.TextField(_("error"), blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self):
        return self.file_name

    @property
    def gift_ids(self):
        return self.result.get("gift_ids", [])
