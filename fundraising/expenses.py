"""Recording an expense of a public-fundraising report: checked field by field (a translated
message each, nothing stored when one fails), its document kept on the private storage."""

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log

from crm.money import fiscal_today

from .models import Expense, FundraisingReport

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# What an invoice or a receipt comes as: a PDF or a scan/photo. Read from the file's first
# bytes, never from its name or the browser's word.
SIGNATURES = ((b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"))


def max_bytes() -> int:
    return int(getattr(settings, "FUNDRAISING_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def document_kind(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def check_expense(
    *,
    amount_cents: int | None,
    spent_on: datetime.date | None,
    supplier: str,
    category: str,
    document: UploadedFile | None = None,
) -> None:
    """Raise ValidationError (by field) unless the expense can be recorded as given."""
    errors: dict[str, object] = {}
    if not amount_cents or amount_cents <= 0:
        errors["amount"] = _("The amount must be more than zero.")
    if spent_on is None:
        errors["spent_on"] = _("Enter the date of the expense.")
    elif spent_on > max(fiscal_today(), timezone.localdate()):
        errors["spent_on"] = _("The date cannot be in the future.")
    if not (supplier or "").strip():
        errors["supplier"] = _("Enter the supplier.")
    if category not in Expense.Category.values:
        errors["category"] = _("Choose a category.")
    if document is not None:
        if (document.size or 0) > max_bytes():
            errors["document"] = _("A document may be at most %(size)s.") % {
                "size": filesizeformat(max_bytes())
            }
        elif document_kind(document) is None:
            errors["document"] = _("Attach the document as a PDF, JPEG or PNG file.")
    if errors:
        raise ValidationError(errors)


def record_expense(
    report: FundraisingReport,
    *,
    amount_cents: int,
    spent_on: datetime.date,
    supplier: str,
    category: str,
    description: str = "",
    document: UploadedFile | None = None,
    recorded_by: "User | None" = None,
) -> Expense:
    """Record an expense of `report` (checked first), its document stored privately."""
    check_expense(
        amount_cents=amount_cents,
        spent_on=spent_on,
        supplier=supplier,
        category=category,
        document=document,
    )
    expense = Expense(
        report=report,
        network_id=report.network_id,
        amount_cents=amount_cents,
        spent_on=spent_on,
        supplier=supplier.strip(),
        category=category,
        description=(description or "").strip(),
        recorded_by=recorded_by,
    )
    if document is not None:
        # The file first, outside the transaction (a bucket is an outbound call): a failed
        # save leaves an unreferenced private file, never an expense pointing at no file.
        expense.document_name = (document.name or "")[-255:]
        expense.document.save(document.name or "document", document, save=False)
    with transaction.atomic():
        expense.save()
        log(expense, "wagtail.create", user=recorded_by)
    return expense


def remove_expense(expense: Expense, *, user: "User | None" = None) -> None:
    """Remove an expense recorded by mistake (its document too, once the row is gone)."""
    document = expense.document.name
    with transaction.atomic():
        log(expense, "wagtail.delete", user=user)
        expense.delete()
    if document:
        expense.document.storage.delete(document)
