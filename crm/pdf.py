"""Receipt PDFs: the only module that imports WeasyPrint.

Rendering reads only what the receipt froze at issue (donor and entity snapshots, the gifts it
covers), so re-rendering a receipt gives the same document. No network access while rendering:
one shared URL fetcher allows only `data:` and `file:` URLs.

Speed (bench/receipts.py, 2 cores): WeasyPrint's plain use rebuilds a Fontconfig configuration
(a scan of every installed font) and re-parses the stylesheet for each document. Each thread
keeps one `FontConfiguration` and the stylesheet parsed once as a `CSS` object, and the template
sticks to one embedded family (DejaVu Sans, regular and bold, no flex layout). Counted in
instructions (valgrind's callgrind, unaffected by the machine's load; 5 December 2026): 273
million per receipt here (~46 ms of CPU), 376 million plain: 1.38x, as the 1.33x timed
(8.3 vs 11.1 PDFs/s, load 0.5-4.9). Of the 273 million, 63% is WeasyPrint's parsing, cascade and
layout and 37% painting and writing the PDF (font subsets, compression); the Django template
is ~1 ms. What is left is the receipt's own text and boxes: dropping the footer's page counter
saved nothing, a fixed table layout 1.4%, the table as plain blocks 6% (at the cost of wrapped
columns: not done). An earlier "~11 -> ~30 PDFs/s" (2.7x) written here was not reproduced.
The objects are per thread because Pango's font map and WeasyPrint's font caches are not
thread-safe. WeasyPrint is imported on first use: its import (~0.5 s of CPU, Pango's libraries)
is a quarter of Django's setup, which every web process and command pays, most never printing.
A network's logo is inlined at print size (`_print_sized`).
"""

import base64
import datetime
import functools
import io
import threading
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from num2words import num2words
from PIL import Image
from wagtail.images import get_image_model

from .models import Donation, InKindGift, Network
from .money import format_amount

TEMPLATE = "crm/receipts/receipt.html"
STYLESHEET = Path(settings.BASE_DIR) / "templates" / "crm" / "receipts" / "receipt.css"
FISCAL_TZ = ZoneInfo("Europe/Rome")
# The header's logo box (receipt.css: max-width 50mm, max-height 22mm) at 300 dpi.
LOGO_MAX_PX = (591, 260)

_local = threading.local()


@functools.cache
def weasyprint():
    """WeasyPrint, imported on first use (see the module's docstring)."""
    import weasyprint.text.fonts

    return weasyprint


@functools.cache
def _url_fetcher():
    return weasyprint().URLFetcher(allowed_protocols=("data", "file"), allow_redirects=False)


def _renderer():
    """This thread's (FontConfiguration, [stylesheet]) pair, built on first use."""
    if getattr(_local, "renderer", None) is None:
        fonts = weasyprint().text.fonts.FontConfiguration()
        css = weasyprint().CSS(
            filename=str(STYLESHEET), font_config=fonts, url_fetcher=_url_fetcher()
        )
        _local.renderer = (fonts, [css])
    return _local.renderer


def prepare_renderer() -> None:
    """Build this thread's renderer now (a worker at start), not on its first receipt."""
    _renderer()


def reset_renderer():
    """Forget this thread's renderer (a forked worker process builds its own)."""
    _local.renderer = None


def amount_in_words(cents, language):
    """`centoventi euro e cinquanta centesimi` / `one hundred and twenty euro, fifty cents`."""
    lang = "en" if language == "en" else "it"
    if cents % 100 == 0:  # "cento euro", not "cento euro e zero centesimi"
        return f"{num2words(cents // 100, lang=lang)} euro"
    return num2words(Decimal(cents) / 100, lang=lang, to="currency", currency="EUR")


def logo_file_name(image_id):
    """The stored file name of a Wagtail image (frozen in the entity snapshot at issue)."""
    if not image_id:
        return ""
    images = get_image_model().objects.filter(pk=image_id)
    return images.values_list("file", flat=True).first() or ""


def _logo_data_uri(image_id, file_name=None):
    """The network's logo inlined as a data: URI (works with any storage backend). Cached per
    image id and file name: a replaced logo file gets a new name, so a new cache entry."""
    if not image_id:
        return ""
    if file_name is None:  # receipts issued before the file name was frozen
        file_name = logo_file_name(image_id)
    return _logo_data_uri_cached(image_id, file_name) if file_name else ""


@functools.lru_cache(maxsize=32)
def _logo_data_uri_cached(image_id, file_name):
    storage = get_image_model()._meta.get_field("file").storage
    try:
        with storage.open(file_name, "rb") as fh:
            data = fh.read()
    except OSError:
        return ""
    if data.lstrip()[:5] in (b"<?xml", b"<svg ") or data.lstrip().startswith(b"<svg"):
        return f"data:image/svg+xml;base64,{base64.b64encode(data).decode('ascii')}"
    data, mime = _print_sized(data)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _print_sized(data):
    """A raster logo no larger than it prints: 300 dpi over the header's box (receipt.css:
    at most 50 x 22 mm). WeasyPrint decodes and re-encodes a PNG into every PDF it is in: a
    photo-like 2,000 x 1,000 px logo made each receipt 205 ms of CPU and 418 KB, against 106 ms
    and 128 KB scaled, 50 ms and 13 KB without logo (bench/receipts.py --logo-only, one run,
    load average 12.5). Done once per process per file (the cache above); a logo already small
    enough, or one Pillow cannot read, is kept as it is."""
    png = data[:8] == b"\x89PNG\r\n\x1a\n"
    mime = "image/png" if png else "image/jpeg"
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width <= LOGO_MAX_PX[0] and image.height <= LOGO_MAX_PX[1]:
                return data, mime
            image.thumbnail(LOGO_MAX_PX, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            if png or image.mode not in ("RGB", "L", "CMYK"):
                image.save(out, "PNG", optimize=True)
                return out.getvalue(), "image/png"
            image.save(out, "JPEG", quality=90)
            return out.getvalue(), "image/jpeg"
    except (OSError, ValueError, Image.DecompressionBombError):
        return data, mime


def _choice_label(choices, value):
    try:
        return str(choices(value).label)
    except ValueError:
        return ""


def is_organisation(donor):
    """A donor snapshot of a company or other organisation: its kind, or the codes it gave
    (a numeric 11-digit codice fiscale, or a partita IVA without a personal codice fiscale)."""
    code = (donor.get("codice_fiscale") or "").strip()
    if donor.get("kind") == "organisation" or (len(code) == 11 and code.isdigit()):
        return True
    return bool((donor.get("partita_iva") or "").strip()) and len(code) != 16


def tax_case(entity, donor):
    """Which benefit the receipt states (art. 83 D.Lgs. 117/2017):
    - "detraction_30" / "detraction_35": a natural person, to an entity under c.1: the 30%
      detraction (35% to an ODV) up to EUR 30,000, or instead the c.2 deduction;
    - "deduction": a natural person, to an entity whose gifts are deductible only (c.2);
    - "deduction_organisation": a company or other organisation: the c.2 deduction only;
    - "none": the entity's gifts give no benefit.
    Cash is never deductible: the template says so for cash gifts, whatever the case."""
    regime = entity.get("tax_regime", Network.TaxRegime.NONE)
    if regime == Network.TaxRegime.NONE or not regime:
        return "none"
    if is_organisation(donor):
        return "deduction_organisation"
    if regime == Network.TaxRegime.DEDUCTION_10:
        return "deduction"
    odv = entity.get("kind") == Network.EntityKind.ODV
    return "detraction_35" if regime == Network.TaxRegime.DETRACTION_35 or odv else "detraction_30"


def receipt_context(receipt):
    language = receipt.language if receipt.language == "en" else "it"
    with translation.override(language):
        donations = list(receipt.donations.order_by("received_on", "pk"))
        gifts = [
            {
                "date": gift.received_on,
                "method": gift.get_method_display(),
                "amount": format_amount(gift.amount_cents - gift.refunded_cents),
                "deductible": gift.method != Donation.Method.CASH,
                "reference": gift.reference,
            }
            for gift in donations
        ]
        entity = receipt.entity_snapshot
        regime = entity.get("tax_regime", Network.TaxRegime.NONE)
        case = tax_case(entity, receipt.donor_snapshot)
        any_deductible = any(g["deductible"] for g in gifts)
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
                    for g in donations
                    if g.method != Donation.Method.CASH
                )
            ),
            "amount": format_amount(receipt.amount_cents),
            "amount_words": amount_in_words(receipt.amount_cents, language),
            # Dates on Italian tax documents are Italian dates, whatever the server's zone.
            "issued_on": timezone.localtime(receipt.issued_at, FISCAL_TZ).date(),
            "regime": regime,
            "tax_case": case,
            "any_deductible": any_deductible,
            # A natural person under c.1 chooses: the detraction or the c.2 deduction.
            "offers_choice": any_deductible and case.startswith("detraction"),
            "regime_label": Network.TaxRegime(regime).label if regime else "",
            # Labels come from the frozen code, in the receipt's language.
            "kind_label": _choice_label(Network.EntityKind, entity.get("kind"))
            or entity.get("kind_label", ""),
            "replaces_number": receipt.replaces.number if receipt.replaces_id else "",
            "logo_src": _logo_data_uri(entity.get("logo_id"), entity.get("logo_file")),
            "is_annual": receipt.kind == receipt.Kind.ANNUAL,
            **_goods_context(receipt),
        }


def _goods_context(receipt):
    """An in-kind receipt's goods (DM 28/11/2019 art. 4): what, their value and how it was set;
    goods are never cash, so the benefit sentences apply to them as to a traceable payment."""
    goods = receipt.goods_snapshot if receipt.kind == receipt.Kind.IN_KIND else None
    if not goods:
        return {"goods": None}
    valuation = _choice_label(InKindGift.Valuation, goods.get("valuation"))
    appraisal = goods.get("appraisal_date") or ""
    return {
        "goods": {
            **goods,
            "value": format_amount(goods["value_cents"]),
            "valuation_label": valuation,
            "appraisal_date": datetime.date.fromisoformat(appraisal) if appraisal else None,
            "received_on": datetime.date.fromisoformat(goods["received_on"]),
        },
        "any_deductible": True,
        "has_cash": False,
        "offers_choice": tax_case(receipt.entity_snapshot, receipt.donor_snapshot).startswith(
            "detraction"
        ),
    }


def render_html(receipt):
    context = receipt_context(receipt)
    with translation.override(context["language"]):
        return render_to_string(TEMPLATE, context)


def render_receipt(receipt):
    """The receipt as PDF bytes (A4, DejaVu Sans embedded as a subset)."""
    fonts, stylesheets = _renderer()
    html = weasyprint().HTML(string=render_html(receipt), url_fetcher=_url_fetcher(), base_url=None)
    return html.write_pdf(font_config=fonts, stylesheets=stylesheets)


def render_document(html: str) -> bytes:
    """Another document than a receipt (a report an accountant files: a fundraising report,
    the 5 per mille rendiconto) as PDF bytes: the same no-network URL fetcher and this
    thread's fonts; its styles are in its own HTML."""
    fonts, _stylesheets = _renderer()
    return (
        weasyprint()
        .HTML(string=html, url_fetcher=_url_fetcher(), base_url=None)
        .write_pdf(font_config=fonts)
    )
