"""The rendiconto of one year's 5 per mille as a PDF, laid out as the Ministry's model: the
recipient's details, the amount and the day received, the expenses by heading (Mod. A, 1-6), the
later use of the amount set aside (Mod. B), the deadlines, and the explanatory report. Rendered
by the project's one PDF module (`crm.pdf`).

The legal representative's declaration is signed on the Ministry's own form (or on its platform
above the threshold): this document carries its figures, not the declaration."""

from django.template.loader import render_to_string
from django.utils import translation

from crm.display import format_date
from crm.money import fiscal_today, format_amount
from crm.pdf import render_document

from .figures import grant_figures

TEMPLATE = "permille/rendiconto_pdf.html"


def rendiconto_context(grant) -> dict:
    figures = grant_figures(grant)
    deadlines = figures.deadlines
    return {
        "grant": grant,
        "recipient": grant.recipient(),
        "figures": figures,
        "expenses": [
            {
                "heading": expense.get_category_display(),
                "date": format_date(expense.spent_on),
                "description": expense.description,
                "amount": format_amount(expense.amount_cents),
                "from_set_aside": expense.from_set_aside,
            }
            for expense in grant.expenses.order_by("category", "spent_on", "pk")
        ],
        "received_on": format_date(grant.received_on),
        "report_by": format_date(deadlines.report_by),
        "send_by": format_date(deadlines.send_by) if deadlines.send_by else "",
        "publish_by": format_date(deadlines.publish_by) if deadlines.publish_by else "",
        "notify_by": format_date(deadlines.notify_by) if deadlines.notify_by else "",
        "printed_on": format_date(fiscal_today()),
    }


def render_rendiconto(grant) -> bytes:
    # In the treasurer's language; dates are days (no time zone to convert).
    with translation.override(translation.get_language() or "it"):
        return render_document(render_to_string(TEMPLATE, rendiconto_context(grant)))


def rendiconto_filename(grant) -> str:
    return f"rendiconto-5x1000-{grant.network.slug}-{grant.reference_year}.pdf"
