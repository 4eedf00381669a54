"""Import donors and offline gifts from a bank or spreadsheet list (CSV or XLSX).

Two steps: `plan_table` checks every row of a read file under a column mapping and writes
nothing (the dry run lists every bad row and why, the donors it matches or creates and the rows
already recorded); `apply_import` writes only a clean plan, in one transaction. Reading the file
safely is `crm.import_files`; the batch around it (same file refused twice, undo) is
`crm.import_batches`. Italian conventions: headers like "Cognome", amounts like `1.234,50`,
dates `dd/mm/yyyy`, `;` separators, files saved as Latin-1 or UTF-8 with a BOM. The columns and
how one row is checked are `crm.import_rows`.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from . import receipt_selection, receipts
from .import_files import FileRefused, limit, read_cells, read_table
from .import_rows import DONOR_FIELDS, _check_row, campaigns_of, default_mapping
from .models import Donation, Donor
from .offline import record_offline_gift

__all__ = [
    "FileRefused",
    "apply_import",
    "limit",
    "plan_import",
    "plan_table",
    "read_table",
    "receipt_forecast",
]


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportPlan:
    network: object
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    #: line → the existing donor a row matches (rows of new donors are absent).
    matches: dict = field(default_factory=dict)
    #: lines of gift rows that look already recorded (same donor, date, amount, reference; or,
    #: without a reference, same donor, date, amount and method).
    duplicates: set = field(default_factory=set)
    #: line → the recorded gift a row without a reference looks like.
    duplicate_of: dict = field(default_factory=dict)

    @property
    def is_clean(self):
        return bool(self.rows) and not self.errors


def plan_import(data, filename, network):
    """Read and check every row; write nothing. A file that breaks a limit is one error."""
    try:
        table = read_cells(data, filename)
    except FileRefused as exc:
        return ImportPlan(network=network, errors=[RowError(0, str(exc))])
    return plan_table(table, network)


def plan_table(table, network, mapping=None):
    """Check the rows of a read file (`crm.import_files.read_cells`) under `mapping` (the
    header's known names when None); match donors and find rows already recorded."""
    plan = ImportPlan(network=network)
    if not table:
        plan.errors.append(RowError(0, _("The file is empty.")))
        return plan
    header = table[0][1]
    if mapping is None:
        mapping = default_mapping(header)
    columns = [mapping.get(str(i)) or None for i in range(len(header))]
    if not any(columns):
        plan.errors.append(RowError(1, _("No known column: use Nome, Cognome, Email, Importo…")))
        return plan
    campaigns = campaigns_of(network) if "campaign" in columns else {}
    seen = set()
    for line, cells in table[1:]:
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
            plan.rows.append((line, _check_row(raw, campaigns)))
        except ValidationError as exc:
            plan.errors.append(RowError(line, "; ".join(exc.messages)))
    if not plan.rows and not plan.errors:
        plan.errors.append(RowError(0, _("The file has no rows.")))
    _match(plan)
    return plan


def _chunks(values, size=500):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _match(plan):
    """Fill `plan.matches` (existing donors, by codice fiscale then email) and
    `plan.duplicates` (gifts already recorded), a few queries per 500 rows."""
    donors = Donor.objects.filter(network=plan.network, merged_into__isnull=True).order_by("pk")
    by_cf, by_email = {}, {}
    codes = {r["codice_fiscale"] for _l, r in plan.rows if r.get("codice_fiscale")}
    emails = {r["email"] for _l, r in plan.rows if r.get("email")}
    for chunk in _chunks(codes):
        for donor in donors.filter(codice_fiscale__in=chunk):
            by_cf.setdefault(donor.codice_fiscale, donor)
    for chunk in _chunks(emails):
        for donor in donors.filter(email__in=chunk):
            by_email.setdefault(donor.email, donor)
    for line, row in plan.rows:
        donor = by_cf.get(row.get("codice_fiscale")) or by_email.get(row.get("email"))
        if donor is not None:
            plan.matches[line] = donor
    recorded = set()
    donor_ids = {d.pk for d in plan.matches.values()}
    for chunk in _chunks(donor_ids):
        recorded.update(
            Donation.objects.filter(network=plan.network, donor_id__in=chunk)
            .exclude(status__in=[Donation.Status.PENDING, Donation.Status.FAILED])
            .values_list("donor_id", "received_on", "amount_cents", "reference")
        )
    for line, row in plan.rows:
        donor = plan.matches.get(line)
        if donor is not None and "amount_cents" in row:
            key = (donor.pk, row["received_on"], row["amount_cents"], row.get("reference", ""))
            if key in recorded:
                plan.duplicates.add(line)
    _match_unreferenced(plan)


def _same_name(donor, row):
    def name(*parts):
        return " ".join(" ".join(str(p or "").split()) for p in parts).strip().casefold()

    if row.get("organisation_name") and not row.get("last_name"):
        return name(donor.organisation_name) == name(row["organisation_name"])
    return bool(row.get("last_name")) and name(donor.first_name, donor.last_name) == name(
        row.get("first_name"), row.get("last_name")
    )


def _match_unreferenced(plan):
    """A row without a reference has nothing of the bank's to tell it apart: a gift already
    recorded with the same amount, date and method, of the donor the row matches or of a donor
    of the same name (a row with neither codice fiscale nor email matches no donor), is
    probably this row again. Flagged in `plan.duplicates` (skipped unless the treasurer ticks
    it), the gift kept in `plan.duplicate_of`."""
    loose = [
        (line, row)
        for line, row in plan.rows
        if "amount_cents" in row and not row.get("reference") and line not in plan.duplicates
    ]
    recorded = {}
    dates = {row["received_on"] for _line, row in loose}
    for chunk in _chunks(dates):
        gifts = (
            Donation.objects.filter(network=plan.network, received_on__in=chunk)
            .exclude(status__in=[Donation.Status.PENDING, Donation.Status.FAILED])
            .select_related("donor")
            .order_by("pk")
        )
        for gift in gifts.filter(amount_cents__in={r["amount_cents"] for _l, r in loose}):
            key = (gift.received_on, gift.amount_cents, gift.method)
            recorded.setdefault(key, []).append(gift)
    for line, row in loose:
        matched = plan.matches.get(line)
        for gift in recorded.get((row["received_on"], row["amount_cents"], row["method"]), []):
            if gift.donor is None:
                continue
            if (matched is not None and gift.donor_id == matched.pk) or _same_name(gift.donor, row):
                plan.duplicates.add(line)
                plan.duplicate_of[line] = gift
                break


def _find_donor(network, row):
    donors = Donor.objects.filter(network=network, merged_into__isnull=True).order_by("pk")
    if row.get("codice_fiscale"):
        found = donors.filter(codice_fiscale=row["codice_fiscale"]).first()
        if found:
            return found
    if row.get("email"):
        return donors.filter(email=row["email"]).first()
    return None


def _new_donor(network, row):
    donor = Donor(
        network=network, source="import", **{f: str(row.get(f, "") or "") for f in DONOR_FIELDS}
    )
    if donor.organisation_name and not donor.last_name:
        donor.kind = Donor.Kind.ORGANISATION
    donor.province = donor.province.upper()
    return donor


@dataclass
class ReceiptForecast:
    """What applying a plan does about receipts (`receipt_forecast`), for its preview."""

    issued: int = 0
    emailed: int = 0
    #: lines whose donor asked for a receipt but lacks a codice fiscale or address.
    missing: list = field(default_factory=list)


def receipt_forecast(plan, include_lines=()):
    """The receipts applying `plan` issues (gifts whose donor asked for one, or every gift
    where the network always issues them), how many are emailed (the donor has an email), and
    the rows left without one because the donor lacks what a receipt needs. The donor is the
    one the row matches, as `apply_import` finds it, or the new one the row makes."""
    forecast = ReceiptForecast()
    include = set(include_lines)
    always = plan.network.always_issue_receipts
    for line, row in plan.rows:
        if "amount_cents" not in row or (line in plan.duplicates and line not in include):
            continue
        if not (row.get("wants_receipt") or always):
            continue
        donor = plan.matches.get(line) or _new_donor(plan.network, row)
        if receipt_selection.missing_receipt_data(donor):
            forecast.missing.append(line)
            continue
        forecast.issued += 1
        forecast.emailed += bool(donor.email)
    return forecast


def _receipt_gift(plan, gift, donor, email):
    """Issue a just-imported gift's receipt when due (`receipts.should_issue_automatically`)
    and the donor has what a receipt needs; the others wait for the treasurer."""
    if not receipts.should_issue_automatically(gift):
        return
    if receipt_selection.missing_receipt_data(donor):
        plan.receipts["missing_data"] += 1
        return
    receipt = receipts.receipt_gift_if_due(gift, email=email)
    if receipt is not None:
        plan.receipts["issued"] += 1
        plan.receipts["emailed"] += bool(email and receipt.donor.email)


@transaction.atomic
def apply_import(plan, *, user=None, include_lines=(), progress=None, email_receipts=True):
    """Write a clean plan: match or create donors, record gifts, issue the receipts
    `receipt_forecast` foretells (emailed unless `email_receipts` is false). Rows already
    recorded are skipped unless their line is in `include_lines`. `progress(done)` is told
    every 100 rows. Returns counts; the ids written are left on the plan (`gift_ids`,
    `donor_ids`) for undo, the receipts' counts in `plan.receipts`."""
    if not plan.is_clean:
        raise ValueError("Only a clean import can be applied.")
    include = set(include_lines)
    plan.gift_ids, plan.donor_ids, plan.skipped = [], [], 0
    plan.receipts = {"issued": 0, "emailed": 0, "missing_data": 0}
    for done, (line, row) in enumerate(plan.rows, start=1):
        if progress is not None and done % 100 == 0:
            progress(done)
        if line in plan.duplicates and line not in include:
            plan.skipped += 1
            continue
        donor = _find_donor(plan.network, row)
        if donor is None:
            donor = _new_donor(plan.network, row)
            donor.save()
            log(donor, "wagtail.create", user=user)
            plan.donor_ids.append(donor.pk)
        if "amount_cents" in row:
            gift = record_offline_gift(
                network=plan.network,
                donor=donor,
                amount_cents=row["amount_cents"],
                received_on=row["received_on"],
                method=row["method"],
                reference=str(row.get("reference", "")),
                campaign=row.get("campaign"),
                wants_receipt=row.get("wants_receipt", False),
                recorded_by=user,
                confirm=False,  # past gifts: no confirmation emails for a whole bank file
                auto_receipt=False,
            )
            plan.gift_ids.append(gift.pk)
            _receipt_gift(plan, gift, donor, email_receipts)
    return {"donors": len(plan.donor_ids), "gifts": len(plan.gift_ids)}
