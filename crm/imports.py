"""Import donors and offline gifts from a bank or spreadsheet list (CSV or XLSX).

Two steps: `plan_import` reads and checks every row and writes nothing (the dry run lists every
bad row and why); `apply_import` writes only a clean plan, in one transaction.
Italian conventions: headers like "Cognome", amounts like `1.234,50`, dates `dd/mm/yyyy`,
`;` separators, files saved as Latin-1 or UTF-8 with a BOM.
"""

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from wagtail.log_actions import log

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
# A cell a spreadsheet would run: refused rather than stored (OWASP CSV injection).
FORMULA_START = ("=", "@")
MAX_ROWS = 50_000


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


def read_table(data, filename):
    """Yield (line number, list of cells) from CSV or XLSX bytes; the first is the header."""
    if filename.lower().endswith(".xlsx"):
        sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, ["" if v is None else v for v in row]
        return
    text = _decode(data)
    sample = text[:4096]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        yield number, row


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
    return parse_amount(value)


def _check_row(raw):
    """The clean values of one row, or ValidationError with every problem of the row."""
    problems, row = [], {}
    for key, value in raw.items():
        if isinstance(value, str):
            value = value.strip()
            if value.startswith(FORMULA_START):
                problems.append(_("“%s” looks like a spreadsheet formula") % key)
                continue
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
        except ValidationError as exc:
            problems.append(exc.messages[0])
        method = str(row.get("method", "")).strip().lower()
        if method not in METHODS:
            problems.append(_("unknown method “%s” (bonifico, contanti, assegno)") % method)
        row["method"] = METHODS.get(method)
    if problems:
        raise ValidationError(problems)
    return row


def plan_import(data, filename, network):
    """Read and check every row; write nothing."""
    plan = ImportPlan(network=network)
    table = read_table(data, filename)
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
        if len(plan.rows) + len(plan.errors) >= MAX_ROWS:
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
            donor.province = donor.province[:2].upper()
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
