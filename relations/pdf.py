"""The funder report as a PDF, with WeasyPrint as `crm.pdf` renders receipts: no network access
while rendering (only `data:` URLs), one embedded family (DejaVu Sans)."""

from django.template.loader import render_to_string

TEMPLATE = "relations/funder_report_pdf.html"


def render_funder_report(context: dict) -> bytes:
    from weasyprint import HTML, URLFetcher  # on first use, as crm.pdf (its import is slow)

    html = render_to_string(TEMPLATE, context)
    fetcher = URLFetcher(allowed_protocols=("data",), allow_redirects=False)
    return HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf()
