"""Exports for treasurers: donations (CSV, XLSX), receipts of a period (ZIP of PDFs plus an
index CSV) and the yearly per-donor summary.

Memory stays flat: rows come from `values_list(...).iterator()` (no model instances, no queryset
cache), CSV is streamed line by line and XLSX is written by openpyxl's write-only mode to a
temporary file. Every text cell is neutralised against spreadsheet formula injection (OWASP
"CSV injection": cells starting with = + - @ tab or CR are run by Excel/LibreOffice).
"""

import csv
import tempfile
import zipfile
from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from .display import format_date, format_datetime
from .formulas import neutralise
from .models import KEPT, Donation, IssuingEntity, Receipt
from .money import cents_to_decimal
from .receipt_files import download_name

CSV_DELIMITER = ";"  # what Italian spreadsheets expect; decimals use a comma
CHUNK = 2000


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)  # in the site's time zone, never UTC
    if isinstance(value, date):
        return format_date(value)
    if hasattr(value, "quantize"):  # Decimal amounts, Italian style
        return f"{value:.2f}".replace(".", ",")
    return neutralise(str(value))


class _Echo:
    def write(self, value):
        return value


def stream_csv(headings, rows, language=None):
    """Yield the CSV text line by line (UTF-8 with a BOM so Excel reads accents), in
    `language` (the reader's: a streamed body is written after the request's language is
    gone)."""
    language = language or translation.get_language()
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER)
    with translation.override(language):
        yield "\ufeff" + writer.writerow([str(h) for h in headings])
    iterator = iter(rows)
    while True:
        with translation.override(language):
            row = next(iterator, None)
            if row is None:
                return
            line = writer.writerow([_csv_value(v) for v in row])
        yield line


def write_xlsx(headings, rows, output):
    """Write rows to `output` (a path or binary file) with openpyxl in write-only mode."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Export")
    sheet.append([str(h) for h in headings])
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, neutralise(value))
                cell.data_type = "s"  # never let openpyxl read "=…" as a formula
            else:
                if isinstance(value, datetime) and timezone.is_aware(value):
                    value = timezone.localtime(value).replace(tzinfo=None, microsecond=0)
                cell = WriteOnlyCell(sheet, value)
                if isinstance(value, datetime):
                    cell.number_format = "DD/MM/YYYY HH:MM"
                elif isinstance(value, date):
                    cell.number_format = "DD/MM/YYYY"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(output)


def in_language(lines, language):
    """Run a generator of CSV lines in `language`, one step at a time."""
    iterator = iter(lines)
    while True:
        with translation.override(language):
            line = next(iterator, None)
        if line is None:
            return
        yield line


class ReadersExport:
    """For Wagtail's spreadsheet exports (reports, site history): the streamed CSV in the
    reader's language, times in the site's time zone without seconds' fractions."""

    def stream_csv(self, queryset):
        return in_language(super().stream_csv(queryset), translation.get_language())

    def preprocess_field_value(self, field, value, export_format):
        if isinstance(value, datetime):
            return format_datetime(value)
        return super().preprocess_field_value(field, value, export_format)


def csv_response(headings, rows, filename):
    response = StreamingHttpResponse(
        stream_csv(headings, rows, translation.get_language()), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _file_response(write, **kwargs):
    """A download built by `write(file)` into a nameless temporary file: in the system's temp
    folder (never MEDIA_ROOT: exports are private), unlinked from the start on Linux, gone once
    closed. FileResponse closes it when the response is sent; a failed build closes it here."""
    output = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the response, or below)
    try:
        write(output)
    except BaseException:
        output.close()
        raise
    output.seek(0)
    return FileResponse(output, as_attachment=True, **kwargs)


def xlsx_response(headings, rows, filename):
    # On disk, not in memory.
    return _file_response(
        lambda output: write_xlsx(headings, rows, output),
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- Donations ---------------------------------------------------------------------------------

DONATION_FIELDS = (
    ("id", _("Id")),
    ("received_on", _("Received on")),
    ("donor__first_name", _("First name")),
    ("donor__last_name", _("Last name")),
    ("donor__organisation_name", _("Organisation")),
    ("donor__email", _("Email")),
    ("donor__codice_fiscale", _("Codice fiscale")),
    ("amount_cents", _("Amount (EUR)")),
    ("fee_cents", _("Fee (EUR)")),
    ("refunded_cents", _("Refunded (EUR)")),
    ("method", _("Method")),
    ("channel", _("Channel")),
    ("status", _("Status")),
    ("campaign__title", _("Campaign")),
    ("reference", _("Reference")),
    ("network__name", _("Network")),
    # Which entity of the network received the gift and receipts it (issue 26): the
    # accountant of each entity keeps its own books.
    ("entity_name", _("Receiving entity")),
    ("receipt_number", _("Receipt number")),
    ("stripe_charge_id", _("Stripe charge")),
    ("stripe_payout_id", _("Stripe payout")),
    ("net_amount_cents", _("Net (EUR)")),
    # The codes as stored, for a machine (reconciliation scripts); people read the columns above.
    ("method", _("Method (code)")),
    ("status", _("Status (code)")),
)
_CENTS_FIELDS = {"amount_cents", "fee_cents", "refunded_cents", "net_amount_cents"}
# Codes written as the reader's words ("Bonifico bancario", not `bank_transfer`).
_CHOICE_FIELDS = {
    "method": Donation.Method,
    "channel": Donation.Channel,
    "status": Donation.Status,
}


def donation_rows(queryset):
    """Rows of the donations in `queryset` (already scoped and filtered), amounts in euro,
    methods and statuses in the reader's words (then once more as codes, for a machine)."""
    names = [name for name, _heading in DONATION_FIELDS]
    fields = list(dict.fromkeys(names))
    worded = {name: names.index(name) for name in _CHOICE_FIELDS if name in names}
    labels = {name: dict(choices.choices) for name, choices in _CHOICE_FIELDS.items()}
    receipts = Receipt.objects.filter(donations=OuterRef("pk"), status=Receipt.Status.ISSUED)
    # Net: what the gift raised less Stripe's fee (one definition, `Donation.objects.with_money`).
    # A gift recorded before entities existed is its network's lead entity's.
    lead = IssuingEntity.objects.filter(network=OuterRef("network"), is_lead=True)
    queryset = queryset.with_money().annotate(
        receipt_number=Subquery(receipts.order_by("-issued_at").values("number")[:1]),
        entity_name=Coalesce("entity__legal_name", Subquery(lead.values("legal_name")[:1])),
    )
    for values in queryset.order_by().values_list(*fields).iterator(chunk_size=CHUNK):
        record = dict(zip(fields, values, strict=True))
        row = []
        for i, name in enumerate(names):
            value = record[name]
            if name in _CENTS_FIELDS:
                value = cents_to_decimal(value)
            elif worded.get(name) == i:
                value = str(labels[name].get(value, value))
            row.append(value)
        yield row


def donation_headings():
    return [heading for _name, heading in DONATION_FIELDS]


def export_donations(queryset, export_format, filename="donazioni"):
    """The HTTP response for the donations export in `export_format` ("csv" or "xlsx")."""
    make = csv_response if export_format == "csv" else xlsx_response
    return make(donation_headings(), donation_rows(queryset), filename)


# --- Yearly per-donor summary -------------------------------------------------------------------

SUMMARY_HEADINGS = (
    _("Donor id"),
    _("First name"),
    _("Last name"),
    _("Organisation"),
    _("Email"),
    _("Codice fiscale"),
    _("Gifts"),
    _("Total (EUR)"),
    _("Deductible (EUR)"),
)


def yearly_summary_rows(donations, year):
    """One row per donor with their counted gifts of fiscal `year`: how many, what they raised
    (refunds taken off, `DonationQuerySet`), and the deductible part: what their valid (issued)
    receipts cover of traceable gifts (cash is not deductible, art. 83 c.1 D.Lgs. 117/2017; a
    void receipt covers nothing)."""
    counted = donations.succeeded().of_year(year).filter(donor__isnull=False)
    receipted = Receipt.objects.filter(donations=OuterRef("pk"), status=Receipt.Status.ISSUED)
    deductible = dict(
        counted.exclude(method=Donation.Method.CASH)
        .filter(Exists(receipted))
        .order_by()
        .values_list("donor_id")
        .annotate(total=Sum(KEPT))
    )
    per_donor = (
        counted.order_by("donor__last_name", "donor__first_name", "donor_id")
        .values_list(
            "donor_id",
            "donor__first_name",
            "donor__last_name",
            "donor__organisation_name",
            "donor__email",
            "donor__codice_fiscale",
        )
        .annotate(n=Count("id"), total=Sum(KEPT))
    )
    for row in per_donor.iterator(chunk_size=CHUNK):
        *identity, n, total = row
        yield [
            *identity,
            n,
            cents_to_decimal(total),
            cents_to_decimal(deductible.get(row[0], 0)),
        ]


def export_yearly_summary(donations, year, export_format):
    make = csv_response if export_format == "csv" else xlsx_response
    return make(SUMMARY_HEADINGS, yearly_summary_rows(donations, year), f"donatori-{year}")


# --- Receipts of a period -----------------------------------------------------------------------

RECEIPT_HEADINGS = (
    _("Number"),
    _("Issued at"),
    _("Status"),
    _("Kind"),
    _("Donor"),
    _("Codice fiscale"),
    _("Amount (EUR)"),
    _("PDF file"),
    _("SHA-256"),
)


def write_receipts_zip(receipts, output):
    """A ZIP of the receipts' PDFs plus `index.csv`; receipts without a PDF yet are listed with
    an empty file name so the treasurer sees they are missing. The PDFs are read through the
    field from the private storage (crm.storage) and named after their numbers."""
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        rows = []
        for receipt in receipts.order_by("year", "sequence").iterator(chunk_size=200):
            name = ""
            if receipt.pdf:
                name = download_name(receipt)
                with receipt.pdf.open("rb") as pdf, archive.open(name, "w") as target:
                    for chunk in iter(lambda: pdf.read(65536), b""):
                        target.write(chunk)
            snapshot = receipt.donor_snapshot or {}
            rows.append(
                [
                    receipt.number,
                    receipt.issued_at,
                    receipt.get_status_display(),
                    receipt.get_kind_display(),
                    snapshot.get("name") or str(receipt.donor),
                    snapshot.get("codice_fiscale", ""),
                    cents_to_decimal(receipt.amount_cents),
                    name,
                    receipt.pdf_sha256,
                ]
            )
        archive.writestr("index.csv", "".join(stream_csv(RECEIPT_HEADINGS, rows)))


def export_receipts_zip(receipts, filename):
    return _file_response(
        lambda output: write_receipts_zip(receipts, output),
        filename=f"{filename}.zip",
        content_type="application/zip",
    )
