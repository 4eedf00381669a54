"""The donor's signed receipt download link (no login: the signature is the key)."""

from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .receipts import read_receipt_pdf, receipt_from_token


@login_not_required
@never_cache
@require_GET
def receipt_download(request, token):
    receipt = receipt_from_token(token)
    if receipt is None:  # forged, expired, or for a document that no longer matches
        raise Http404
    response = FileResponse(
        iter([read_receipt_pdf(receipt)]),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"{receipt.number.replace('/', '-')}.pdf",
    )
    response["X-Robots-Tag"] = "noindex"
    return response
