"""The Agenzia Entrate data (crm.tax_data) as files for the accountant or intermediary: one CSV
per part (gifts, refunds, left out, to check) and one XLSX with a sheet per part. Text cells are
neutralised against formula injection (crm.formulas); amounts are euros with two decimals."""

from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from .exports import _file_response, csv_response
from .formulas import neutralise
from .money import cents_to_decimal

PARTS = {
    "gifts": (
        _("Gifts"),
        (_("Codice fiscale"), _("Donor"), _("Gifts"), _("Total traceable gifts (EUR)")),
    ),
    "refunds": (
        _("Refunds"),
        (_("Codice fiscale"), _("Donor"), _("Year of the refunded gift"), _("Refunded (EUR)")),
    ),
    "left_out": (
        _("Left out"),
        (
            _("Gift or refund"),
            _("Donor id"),
            _("Donor"),
            _("Codice fiscale"),
            _("Reason"),
            _("Count"),
            _("Amount (EUR)"),
        ),
    ),
    "to_check": (
        _("To check"),
        (
            _("Gift or refund"),
            _("Donor id"),
            _("Donor"),
            _("Codice fiscale"),
            _("Reason"),
            _("Count"),
            _("Amount (EUR)"),
        ),
    ),
}


def part_rows(data, part):
    if part == "gifts":
        for row in data.rows:
            yield [row.codice_fiscale, row.name, row.gifts, cents_to_decimal(row.amount_cents)]
    elif part == "refunds":
        for row in data.refunds:
            yield [row.codice_fiscale, row.name, row.gift_year, cents_to_decimal(row.amount_cents)]
    else:
        for row in data.left_out if part == "left_out" else data.to_check:
            yield [
                str(_("Gift") if row.what == "gift" else _("Refund")),
                row.donor_id,
                row.name,
                row.codice_fiscale,
                str(row.reason_label),
                row.count,
                cents_to_decimal(row.amount_cents),
            ]


# The parts in the files' names, in Italian as the rest of the name.
FILE_PARTS = {
    "gifts": "donazioni",
    "refunds": "rimborsi",
    "left_out": "escluse",
    "to_check": "da-controllare",
}


def _filename(data, part=None):
    suffix = f"-{FILE_PARTS.get(part, part)}" if part else ""
    series = "" if data.entity.is_lead else f"-{slugify(data.entity.legal_name)[:40]}"
    return f"agenzia-entrate-{data.network.slug}{series}-{data.year}{suffix}"


def csv_export(data, part):
    _title, headings = PARTS[part]
    return csv_response(headings, part_rows(data, part), _filename(data, part))


def write_workbook(data, output):
    workbook = Workbook(write_only=True)
    for part, (title, headings) in PARTS.items():
        sheet = workbook.create_sheet(title=str(title)[:31])
        sheet.append([str(h) for h in headings])
        for row in part_rows(data, part):
            cells = []
            for value in row:
                if isinstance(value, str):
                    cell = WriteOnlyCell(sheet, neutralise(value))
                    cell.data_type = "s"  # never a formula
                else:
                    cell = WriteOnlyCell(sheet, value)
                    if hasattr(value, "quantize"):
                        cell.number_format = "#,##0.00"
                cells.append(cell)
            sheet.append(cells)
    workbook.save(output)


def xlsx_export(data):
    return _file_response(
        lambda output: write_workbook(data, output),
        filename=f"{_filename(data)}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
