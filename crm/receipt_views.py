"""The donor's signed receipt download link (no login: the signature is the key). Receipts are
private files (crm.storage): besides the admin's checked view, this is their only way out."""

from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .links import receipt_download_url, receipt_from_token
from .models import Receipt
from .receipt_files import receipt_pdf_response


@login_not_required
@never_cache
@require_GET
def receipt_download(request, token):
    receipt = receipt_from_token(token)
    if receipt is None:  # forged, expired, or for a document that no longer matches
        raise Http404
    if receipt.status == Receipt.Status.VOID:
        return _void_page(request, receipt)
    return receipt_pdf_response(receipt)


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
