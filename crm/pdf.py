"""Receipt PDFs: the only module that imports WeasyPrint.

Rendering reads only what the receipt froze at issue (donor and entity snapshots, the gifts it
covers), so re-rendering a receipt gives the same document. No network access while rendering:
one shared URL fetcher allows only `data:` and `file:` URLs (and, on Python 3.12, saves building
an SSL context per document: ~11 → ~16 receipts/s, see design/stack.md).
"""

import base64
import functools
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import timezone, translation
from num2words import num2words

from .money import format_amount

TEMPLATE = "crm/receipts/receipt.html"
FISCAL_TZ = ZoneInfo("Europe/Rome")


@functools.cache
def _url_fetcher():
    from weasyprint import URLFetcher

    return URLFetcher(allowed_protocols=("data", "file"), allow_redirects=False)


def amount_in_words(cents, language):
    """`centoventi euro e cinquanta centesimi` / `one hundred and twenty euro, fifty cents`."""
    lang = "en" if language == "en" else "it"
    if cents % 100 == 0:  # "cento euro", not "cento euro e zero centesimi"
        return f"{num2words(cents // 100, lang=lang)} euro"
    return num2words(Decimal(cents) / 100, lang=lang, to="currency", currency="EUR")


def _logo_data_uri(image_id):
    """The network's logo inlined as a data: URI (works with any storage backend)."""
    if not image_id:
        return ""
    from wagtail.images import get_image_model

    image = get_image_model().objects.filter(pk=image_id).first()
    if image is None:
        return ""
    try:
        with image.file.open("rb") as fh:
            data = fh.read()
    except OSError:
        return ""
    mime = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    if data.lstrip()[:5] in (b"<?xml", b"<svg ") or data.lstrip().startswith(b"<svg"):
        mime = "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def receipt_context(receipt):
    from .models import Donation, Network

    language = receipt.language if receipt.language == "en" else "it"
    with translation.override(language):
        gifts = [
            {
                "date": gift.received_on,
                "method": gift.get_method_display(),
                "amount": format_amount(gift.amount_cents - gift.refunded_cents),
                "deductible": gift.method != Donation.Method.CASH,
                "reference": gift.reference,
            }
            for gift in receipt.donations.order_by("received_on", "pk")
        ]
        entity = receipt.entity_snapshot
        regime = entity.get("tax_regime", Network.TaxRegime.NONE)
        return {
            "receipt": receipt,
            "language": language,
            "entity": entity,
            "donor": receipt.donor_snapshot,
            "gifts": gifts,
            "has_cash": any(not g["deductible"] for g in gifts),
            "deductible_amount": format_amount(
                sum(
                    g.amount_cents - g.refunded_cents
                    for g in receipt.donations.all()
                    if g.method != Donation.Method.CASH
                )
            ),
            "amount": format_amount(receipt.amount_cents),
            "amount_words": amount_in_words(receipt.amount_cents, language),
            # Dates on Italian tax documents are Italian dates, whatever the server's zone.
            "issued_on": timezone.localtime(receipt.issued_at, FISCAL_TZ).date(),
            "regime": regime,
            "regime_label": Network.TaxRegime(regime).label if regime else "",
            "logo_src": _logo_data_uri(entity.get("logo_id")),
            "is_annual": receipt.kind == receipt.Kind.ANNUAL,
        }


def render_html(receipt):
    context = receipt_context(receipt)
    with translation.override(context["language"]):
        return render_to_string(TEMPLATE, context)


def render_receipt(receipt):
    """The receipt as PDF bytes (A4, fonts embedded by WeasyPrint)."""
    from weasyprint import HTML

    html = render_html(receipt)
    return HTML(string=html, url_fetcher=_url_fetcher(), base_url=None).write_pdf()
