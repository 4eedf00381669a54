"""Import donors and offline gifts from a bank or spreadsheet list (CSV or XLSX).

Two steps: `plan_import` reads and checks every row and writes nothing (the dry run lists every
bad row and why); `apply_import` writes only a clean plan, in one transaction.
Italian conventions: headers like "Cognome", amounts like `1.234,50`, dates `dd/mm/yyyy`,
`;` separators, files saved as Latin-1 or UTF-8 with a BOM.
"""

import csv
import datetime
import io
import time
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from wagtail.log_actions import log

from .formulas import looks_like_formula
from .models import Donation, Donor
from .money import parse_amount
from .offline import record_offline_gift
from .validators import normalise_code, validate_codice_fiscale

HEADERS = {
    "nome": "first_name",
    "cognome": "last_name",
    "ragione sociale": "organisation_name",
    "email": "email",
    "e-mail": "email",
    "codice fiscale": "codice_fiscale",
    "cf": "codice_fiscale",
    "indirizzo": "street_address",
    "cap": "postal_code",
    "città": "city",
    "citta": "city",
    "comune": "city",
    "provincia": "province",
    "telefono": "phone",
    "importo": "amount",
    "data": "received_on",
    "data versamento": "received_on",
    "metodo": "method",
    "modalità": "method",
    "riferimento": "reference",
    "causale": "reference",
}
METHODS = {
    "bonifico": Donation.Method.BANK_TRANSFER,
    "contanti": Donation.Method.CASH,
    "assegno": Donation.Method.CHEQUE,
    "altro": Donation.Method.OTHER,
    "": Donation.Method.BANK_TRANSFER,
}
DONOR_FIELDS = (
    "first_name",
    "last_name",
    "organisation_name",
    "email",
    "codice_fiscale",
    "street_address",
    "postal_code",
    "city",
    "province",
    "phone",
)

# Limits (settings IMPORT_*): a file is read whole into memory, so it is bounded first; an XLSX
# is a ZIP of XML, so its inflated size too (a 410 KB file can inflate to gigabytes), and the
# reading time (a 1.6 KB file can declare a million empty rows).
LIMITS = {
    "IMPORT_MAX_BYTES": 5 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 20_000,
    "IMPORT_MAX_COLUMNS": 40,
    "IMPORT_MAX_CELL_CHARS": 1_000,
    "IMPORT_MAX_INFLATED_BYTES": 50 * 1024 * 1024,
    "IMPORT_MAX_SECONDS": 20,
}
# The largest gift a row may carry: what the database's amount column holds.
MAX_AMOUNT_CENTS = 2_147_483_647
# A phone number may start with + (an international prefix); nothing else that could be a formula.
PHONE_CHARS = set("+0123456789 ./-()")


def limit(name):
    return getattr(settings, name, LIMITS[name])


class FileRefused(ValueError):
    """The file cannot be read safely (too big, too many rows or columns, a ZIP bomb)."""


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportPlan:
    network: object
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def is_clean(self):
        return bool(self.rows) and not self.errors


def _decode(data):
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # Excel on Windows saves CSV as cp1252/Latin-1


def _check_zip(data):
    """Refuse an XLSX whose parts would inflate beyond the limit (a ZIP bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FileRefused(_("This is not an XLSX file: save it again as .xlsx or .csv.")) from exc
    members = archive.infolist()
    inflated = sum(member.file_size for member in members)
    if len(members) > 200 or inflated > limit("IMPORT_MAX_INFLATED_BYTES"):
        raise FileRefused(_("The file is too large once opened: split it or save it as CSV."))


def _xlsx_rows(data):
    _check_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise FileRefused(_("The XLSX file cannot be read: save it again and retry.")) from exc
    sheet = workbook.worksheets[0]
    # The sheet's declared size is not trusted: a tiny file may declare a million rows.
    sheet.reset_dimensions()
    yield from sheet.iter_rows(max_col=limit("IMPORT_MAX_COLUMNS"), values_only=True)


def read_table(data, filename):
    """Yield (line number, list of cells) from CSV or XLSX bytes; the first is the header.
    Raises FileRefused when the file breaks a limit (rows, columns, size, time)."""
    if len(data) > limit("IMPORT_MAX_BYTES"):
        raise FileRefused(_("The file is too large: split it into smaller files."))
    if filename.lower().endswith(".xlsx"):
        rows = _xlsx_rows(data)
    else:
        text = _decode(data)
        sample = text[:4096]
        delimiter = ";" if sample.count(";") >= sample.count(",") else ","
        rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    # Empty lines count too: reading them costs time all the same.
    max_lines = limit("IMPORT_MAX_ROWS") + 1_000
    deadline = time.monotonic() + limit("IMPORT_MAX_SECONDS")
    for number, row in enumerate(rows, start=1):
        if number > max_lines or time.monotonic() > deadline:
            raise FileRefused(_("The file has too many rows: split it into smaller files."))
        cells = ["" if v is None else v for v in row]
        if len(cells) > limit("IMPORT_MAX_COLUMNS"):
            cells = cells[: limit("IMPORT_MAX_COLUMNS")]
        yield number, cells


def _date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.datetime.strptime(str(value).strip(), "%d/%m/%Y").date()
    except ValueError as exc:
        raise ValidationError(_("the date must be dd/mm/yyyy, got “%s”") % value) from exc


def _amount(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"{value:.2f}".replace(".", ",")
    cents = parse_amount(value)
    if cents > MAX_AMOUNT_CENTS:
        raise ValidationError(_("The amount is too large."), code="too_large")
    return cents


def _is_formula(key, value):
    if key == "phone" and set(value) <= PHONE_CHARS:
        return False  # "+39 02 1234 5678" is a phone number, and stays one
    if key == "amount":
        return False  # parsed as a number: "-5" or "=1" are refused as amounts
    return looks_like_formula(value)


def _check_lengths(row, problems):
    """The database's limits, checked in the dry run too (a row that passes must write)."""
    for name in DONOR_FIELDS:
        value = str(row.get(name, "") or "")
        max_length = Donor._meta.get_field(name).max_length
        if len(value) > max_length:
            label = Donor._meta.get_field(name).verbose_name
            problems.append(
                _("%(field)s is longer than %(max)s characters")
                % {"field": label, "max": max_length}
            )
    reference = str(row.get("reference", "") or "")
    if len(reference) > Donation._meta.get_field("reference").max_length:
        problems.append(_("the reference is too long"))


def _column_label(key):
    """A column as the treasurer reads it ("Importo"), not its internal name (`amount`)."""
    for model, name in ((Donor, key), (Donation, key), (Donation, f"{key}_cents")):
        try:
            return capfirst(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            continue
    return key


def _check_row(raw):
    """The clean values of one row, or ValidationError with every problem of the row."""
    problems, row = [], {}
    for key, value in raw.items():
        if isinstance(value, str):
            if len(value) > limit("IMPORT_MAX_CELL_CHARS"):
                problems.append(_("“%s” is too long") % _column_label(key))
                continue
            if _is_formula(key, value):
                problems.append(_("“%s” looks like a spreadsheet formula") % _column_label(key))
                continue
            value = value.strip()
        row[key] = value
    if not (row.get("last_name") or row.get("organisation_name")):
        problems.append(_("a surname or an organisation name is required"))
    if row.get("email"):
        try:
            validate_email(row["email"])
            row["email"] = row["email"].lower()
        except ValidationError:
            problems.append(_("the email “%s” is not valid") % row["email"])
    if row.get("codice_fiscale"):
        try:
            validate_codice_fiscale(row["codice_fiscale"])
            row["codice_fiscale"] = normalise_code(row["codice_fiscale"])
        except ValidationError as exc:
            problems.append(_("codice fiscale: %s") % exc.messages[0])
    if "amount" in raw:
        try:
            row["amount_cents"] = _amount(row.get("amount", ""))
        except ValidationError as exc:
            problems.append(_("amount: %s") % exc.messages[0])
        try:
            row["received_on"] = _date(row.get("received_on", ""))
            if row["received_on"] > datetime.date.today():
                problems.append(_("the date is in the future"))
            elif row["received_on"].year < 1900:
                problems.append(_("the date is too far in the past"))
        except ValidationError as exc:
            problems.append(exc.messages[0])
        method = str(row.get("method", "")).strip().lower()
        if method not in METHODS:
            problems.append(_("unknown method “%s” (bonifico, contanti, assegno)") % method)
        row["method"] = METHODS.get(method)
    if row.get("province") and not (
        len(str(row["province"])) == 2 and str(row["province"]).isalpha()
    ):
        problems.append(_("the province must be its two-letter code, e.g. MI"))
    _check_lengths(row, problems)
    if problems:
        raise ValidationError(problems)
    return row


def plan_import(data, filename, network):
    """Read and check every row; write nothing. A file that breaks a limit is one error."""
    plan = ImportPlan(network=network)
    try:
        return _plan_rows(plan, read_table(data, filename))
    except FileRefused as exc:
        plan.rows = []
        plan.errors = [RowError(0, str(exc))]
        return plan


def _plan_rows(plan, table):
    header = next(table, None)
    if header is None:
        plan.errors.append(RowError(0, _("The file is empty.")))
        return plan
    columns = [HEADERS.get(str(h).strip().lower()) for h in header[1]]
    if not any(columns):
        plan.errors.append(RowError(1, _("No known column: use Nome, Cognome, Email, Importo…")))
        return plan
    seen = set()
    for line, cells in table:
        if not any(str(c).strip() for c in cells):
            continue
        if len(plan.rows) + len(plan.errors) >= limit("IMPORT_MAX_ROWS"):
            plan.errors.append(RowError(line, _("Too many rows: split the file.")))
            break
        raw = {col: cells[i] if i < len(cells) else "" for i, col in enumerate(columns) if col}
        key = tuple(sorted((k, str(v)) for k, v in raw.items()))
        if key in seen:
            plan.errors.append(RowError(line, _("the same row appears twice")))
            continue
        seen.add(key)
        try:
            plan.rows.append((line, _check_row(raw)))
        except ValidationError as exc:
            plan.errors.append(RowError(line, "; ".join(exc.messages)))
    if not plan.rows and not plan.errors:
        plan.errors.append(RowError(0, _("The file has no rows.")))
    return plan


def _find_donor(network, row):
    donors = Donor.objects.filter(network=network, merged_into__isnull=True)
    if row.get("codice_fiscale"):
        found = donors.filter(codice_fiscale=row["codice_fiscale"]).first()
        if found:
            return found
    if row.get("email"):
        return donors.filter(email=row["email"]).first()
    return None


@transaction.atomic
def apply_import(plan, *, user=None):
    """Write a clean plan: match or create donors, record gifts. Returns counts."""
    if not plan.is_clean:
        raise ValueError("Only a clean import can be applied.")
    created = gifts = 0
    for _line, row in plan.rows:
        donor = _find_donor(plan.network, row)
        if donor is None:
            donor = Donor(
                network=plan.network,
                source="import",
                **{f: str(row.get(f, "") or "") for f in DONOR_FIELDS},
            )
            if donor.organisation_name and not donor.last_name:
                donor.kind = Donor.Kind.ORGANISATION
            donor.province = donor.province.upper()
            donor.save()
            log(donor, "wagtail.create", user=user)
            created += 1
        if "amount_cents" in row:
            record_offline_gift(
                network=plan.network,
                donor=donor,
                amount_cents=row["amount_cents"],
                received_on=row["received_on"],
                method=row["method"],
                reference=str(row.get("reference", "")),
                recorded_by=user,
            )
            gifts += 1
    return {"donors": created, "gifts": gifts}
