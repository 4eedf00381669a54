"""The report as the accountant files it: a PDF (through `crm.pdf`, the project's one
WeasyPrint module) and an XLSX (openpyxl; every text cell neutralised against formula
injection, amounts as numbers in euros with two decimals)."""

from datetime import date
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from crm.formulas import neutralise
from crm.money import cents_to_decimal
from crm.pdf import render_document

from .models import FundraisingReport
from .report import report_data

PDF_TEMPLATE = "fundraising/report_pdf.html"
EURO_FORMAT = "#,##0.00 €"
DATE_FORMAT = "DD/MM/YYYY"


def file_name(report: FundraisingReport, extension: str) -> str:
    return f"rendiconto-raccolta-fondi-{report.pk}-{report.ends_on:%Y}.{extension}"


def render_report_pdf(report: FundraisingReport) -> bytes:
    """The report as PDF bytes, in the active language."""
    context = {**report_data(report), "LANGUAGE_CODE": translation.get_language()}
    return render_document(render_to_string(PDF_TEMPLATE, context))


def _cell(value):
    if isinstance(value, str):
        return neutralise(value)
    return value


def write_report_xlsx(report: FundraisingReport, output) -> None:
    """The report as a workbook written to `output` (a path or a binary file): one sheet,
    the income lines, the expenses, the totals and the note."""
    data = report_data(report)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Income and expenses")[:31]  # a sheet's name has at most 31 characters
    bold = Font(bold=True)

    def row(*values, strong=False):
        sheet.append([_cell(v) for v in values])
        current = sheet.max_row
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=current, column=column)
            if isinstance(value, Decimal):
                cell.number_format = EURO_FORMAT
            elif isinstance(value, date):
                cell.number_format = DATE_FORMAT
            elif isinstance(value, str):
                cell.data_type = "s"  # never a formula
            if strong:
                cell.font = bold

    row(_("Public fundraising report"), strong=True)
    row(_("Entity"), data["entity"]["name"])
    row(_("Fundraising"), report.title)
    row(_("From"), report.starts_on)
    row(_("To"), report.ends_on)
    row()
    row(_("Income"), "", "", "", _("Amount"), strong=True)
    for line in data["income"]:
        row(str(line["label"]), "", "", "", cents_to_decimal(line["cents"]))
    row(_("Total income"), "", "", "", cents_to_decimal(data["totals"].income_cents), strong=True)
    row()
    row(_("Expenses"), _("Date"), _("Supplier"), _("Category"), _("Amount"), strong=True)
    for item in data["expenses"]:
        expense = item["expense"]
        row(
            expense.description or str(item["category"]),
            expense.spent_on,
            expense.supplier,
            str(item["category"]),
            cents_to_decimal(expense.amount_cents),
        )
    total = cents_to_decimal(data["totals"].expenses_cents)
    row(_("Total expenses"), "", "", "", total, strong=True)
    row()
    row(_("Balance"), "", "", "", cents_to_decimal(data["totals"].balance_cents), strong=True)
    row()
    row(_("Explanatory note"), strong=True)
    row(report.note)
    for column, width in zip("ABCDE", (40, 12, 30, 28, 16), strict=True):
        sheet.column_dimensions[column].width = width
    workbook.save(output)
