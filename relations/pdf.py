"""The funder report as a PDF, with WeasyPrint as `crm.pdf` renders receipts: no network access
while rendering (only `data:` URLs), one embedded family (DejaVu Sans)."""

from django.template.loader import render_to_string

from crm.pdf import weasyprint

TEMPLATE = "relations/funder_report_pdf.html"


def render_funder_report(context: dict) -> bytes:
    html = render_to_string(TEMPLATE, context)
    fetcher = weasyprint().URLFetcher(allowed_protocols=("data",), allow_redirects=False)
    return weasyprint().HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf()
