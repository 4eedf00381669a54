"""The donor's signed receipt download link (no login: the signature is the key). Receipts are
private files (crm.storage): besides the admin's checked view, this is their only way out."""

from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import portal_links
from .links import receipt_download_url, receipt_from_token, receipt_of_expired_token
from .models import Receipt
from .receipt_files import STORED_PDF, ReceiptError, receipt_pdf_response


@login_not_required
@never_cache
@require_GET
def receipt_download(request, token):
    receipt = receipt_from_token(token)
    if receipt is None:  # forged, expired, or for a document that no longer matches
        expired = receipt_of_expired_token(token)
        if expired is not None:
            return _expired_page(request, expired)
        raise Http404
    if receipt.status == Receipt.Status.VOID:
        return _void_page(request, receipt)
    try:
        return receipt_pdf_response(receipt)
    except ReceiptError as exc:
        if exc.code != STORED_PDF:
            raise
        return _unavailable_page(request, receipt)


def _unavailable_page(request, receipt):
    """The stored PDF is gone or altered (logged for the operator): the donor is told to try
    later or write to the entity, never handed another file."""
    language = "en" if receipt.language == "en" else "it"
    with translation.override(language):
        response = TemplateResponse(
            request,
            "crm/receipts/unavailable.html",
            {"receipt": receipt, "language": language},
            status=503,
        )
        response.render()
    response["Retry-After"] = "3600"
    return response


def _expired_page(request, receipt):
    """An expired link (emails are kept for years; a receipt is wanted at tax time) says so
    and leads to the donor's page, where every receipt of theirs is, in their language; it
    names no receipt (the link's holder may not be the donor)."""
    language = "en" if receipt.language == "en" else "it"
    with translation.override(language):
        response = TemplateResponse(
            request,
            "crm/receipts/link_expired.html",
            {
                "receipt": receipt,
                "language": language,
                "portal_url": portal_links.request_url(receipt.network, receipt.donor),
            },
            status=404,  # the PDF is no longer behind it, as for any dead link
        )
        response.render()
    return response


def _void_page(request, receipt):
    """A voided receipt's link says so (and leads to its replacement) instead of serving the
    stored PDF, which stays byte for byte as issued."""
    replacement = Receipt.objects.filter(replaces=receipt, status=Receipt.Status.ISSUED).first()
    language = "en" if receipt.language == "en" else "it"
    with translation.override(language):
        response = TemplateResponse(
            request,
            "crm/receipts/void.html",
            {
                "receipt": receipt,
                "language": language,
                "voided_on": timezone.localtime(receipt.voided_at, ZoneInfo("Europe/Rome")),
                "replacement": replacement,
                "replacement_url": receipt_download_url(replacement) if replacement else "",
            },
        )
        response.render()
    response["X-Robots-Tag"] = "noindex"
    return response
