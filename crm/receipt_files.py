"""A receipt's stored PDF: rendered once, kept with its SHA-256, read back checked."""

import hashlib
import io
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse

from . import pdf
from .models import Receipt

logger = logging.getLogger(__name__)
# A ReceiptError's code: the stored PDF is gone or is not the one issued (never served; the
# copy in the backups is the receipt, README "Backups").
STORED_PDF = "stored_pdf"


class ReceiptError(ValueError):
    """A receipt cannot be issued, stored or sent as asked (the message says why; `code` names
    the cases callers tell apart, e.g. `crm.receipts.COVERED`)."""

    def __init__(self, message: str = "", *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def ensure_receipt_pdf(receipt, *, fresh=False):
    """Render and store the receipt's PDF with its SHA-256, once. Safe to run twice or
    concurrently: the first stored file wins and is never replaced (the receipt is immutable).
    `fresh`: `receipt` was just read from the database (not read again before rendering; the
    row lock below decides anyway)."""
    if not fresh:
        receipt = Receipt.objects.get(pk=receipt.pk)
    if receipt.pdf_sha256:
        return receipt
    try:
        data = pdf.render_receipt(receipt)
    except Exception as exc:
        # One broken receipt must not stop a batch; the error is shown on the receipt.
        logger.exception("receipt %s: PDF rendering failed", receipt.number)
        Receipt.objects.filter(pk=receipt.pk).update(pdf_error=f"{type(exc).__name__}: {exc}")
        raise
    with transaction.atomic():
        # Its network with it: the stored name is under the network's folder.
        rows = Receipt.objects.select_related("network").select_for_update(of=("self",))
        locked = rows.get(pk=receipt.pk)
        if locked.pdf_sha256:
            return locked
        # Stored on the private storage under a random name (crm.storage.receipt_pdf_name).
        locked.pdf.save(download_name(locked), ContentFile(data), save=False)
        locked.pdf_sha256 = hashlib.sha256(data).hexdigest()
        locked.pdf_error = ""
        locked.save(update_fields=["pdf", "pdf_sha256", "pdf_error"])
    return locked


def download_name(receipt):
    """The file name people see (`ricevuta-OP-2026-00042.pdf`, the same in downloads, ZIPs and
    email attachments); the stored name is random."""
    return f"ricevuta-{receipt.number.replace('/', '-')}.pdf"


def receipt_pdf_response(receipt):
    """The stored PDF as a download named after the receipt's number. Only for views that
    checked who asks (a valid signed link, or a treasurer of the receipt's network)."""
    # A file-like object, not an iterator: FileResponse sets Content-Disposition and
    # Content-Length only from something it can read.
    response = FileResponse(
        io.BytesIO(read_receipt_pdf(receipt)),
        content_type="application/pdf",
        as_attachment=True,
        filename=download_name(receipt),
    )
    response["X-Robots-Tag"] = "noindex"
    return response


def read_receipt_pdf(receipt):
    """The stored PDF bytes, checked against the SHA-256 recorded at rendering. A receipt read
    with its PDF stored is not read again: a stored PDF is never replaced."""
    if not (receipt.pdf_sha256 and receipt.pdf):
        receipt = ensure_receipt_pdf(receipt)
    try:
        with receipt.pdf.open("rb") as fh:
            data = fh.read()
    except OSError as exc:  # gone from the storage (a lost disk, a restore without it)
        logger.error("receipt %s: stored PDF unreadable: %s", receipt.number, exc)
        raise ReceiptError(f"stored PDF of {receipt.number} is missing", code=STORED_PDF) from exc
    if hashlib.sha256(data).hexdigest() != receipt.pdf_sha256:
        logger.error("receipt %s: stored PDF does not match its SHA-256", receipt.number)
        raise ReceiptError(
            f"stored PDF of {receipt.number} does not match its SHA-256", code=STORED_PDF
        )
    return data


def receipts_needing_pdf():
    """Receipts issued but not rendered (a worker died, rendering failed): for the sweep."""
    return Receipt.objects.filter(Q(pdf_sha256="") | Q(pdf=""))
