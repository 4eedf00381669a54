"""What a row of an import file may say (`crm.imports`): the columns (`HEADERS`, `FIELDS`, the
header's known names and the default mapping), and one row checked into clean values
(`_check_row`: names, email, codice fiscale, amount like `1.234,50`, date `dd/mm/yyyy`,
method, campaign, receipt wish, the database's limits), every problem of the row at once.
"""

import datetime
import unicodedata

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import extensions
from .formulas import looks_like_formula
from .import_files import limit
from .models import Donation, Donor, Network
from .money import parse_amount
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
    "campagna": "campaign",
    "ricevuta": "wants_receipt",
    "vuole ricevuta": "wants_receipt",
    "ricevuta richiesta": "wants_receipt",
}
#: What a column may be mapped to, as the mapping step offers it.
FIELDS = (
    ("first_name", gettext_lazy("First name")),
    ("last_name", gettext_lazy("Last name")),
    ("organisation_name", gettext_lazy("Organisation name")),
    ("email", gettext_lazy("Email")),
    ("codice_fiscale", gettext_lazy("Codice fiscale")),
    ("street_address", gettext_lazy("Address")),
    ("postal_code", gettext_lazy("Postal code")),
    ("city", gettext_lazy("City")),
    ("province", gettext_lazy("Province")),
    ("phone", gettext_lazy("Phone")),
    ("amount", gettext_lazy("Amount")),
    ("received_on", gettext_lazy("Date received")),
    ("method", gettext_lazy("Method")),
    ("reference", gettext_lazy("Reference")),
    ("campaign", gettext_lazy("Campaign")),
    ("wants_receipt", gettext_lazy("Wants a receipt")),
)
YES = {"sì", "si", "s", "yes", "y", "x", "1", "true", "vero"}
NO = {"", "no", "n", "0", "false", "falso"}
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

# The largest gift a row may carry: what the database's amount column holds.
MAX_AMOUNT_CENTS = 2_147_483_647
# A phone number may start with + (an international prefix); nothing else that could be a formula.
PHONE_CHARS = set("+0123456789 ./-()")


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


def _check_row(raw, campaigns=None):
    """The clean values of one row, or ValidationError with every problem of the row.
    `campaigns` names the network's campaigns (`campaigns_of`)."""
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
    _check_gift_options(row, campaigns or {}, problems)
    if row.get("province") and not (
        len(str(row["province"])) == 2 and str(row["province"]).isalpha()
    ):
        problems.append(_("the province must be its two-letter code, e.g. MI"))
    _check_lengths(row, problems)
    if problems:
        raise ValidationError(problems)
    return row


def header_key(name):
    """A header as it is compared: spaces collapsed, case folded, Unicode composed."""
    return " ".join(unicodedata.normalize("NFC", str(name)).split()).casefold()


def known_headers():
    """Header → field: the usual Italian names (`HEADERS`), the options the mapping step shows
    (`FIELDS`, in Italian and in English: a file saved from another tool or a previous export
    names its columns so), and the internal names (`wants_receipt`)."""
    known = {header_key(k): v for k, v in HEADERS.items()}
    for name, label in FIELDS:
        known.setdefault(header_key(name), name)
        known.setdefault(header_key(name.replace("_", " ")), name)
        for language in ("it", "en"):
            with translation.override(language):
                known.setdefault(header_key(label), name)
    return known


def default_mapping(header):
    """Column index (as text) → field, from the header's known names."""
    known, mapping = known_headers(), {}
    for index, name in enumerate(header):
        found = known.get(header_key(name))
        if found and found not in mapping.values():
            mapping[str(index)] = found
    return mapping


def campaigns_of(network):
    """The network's campaigns by lower-cased title and by slug, as a file may name them."""
    found = {}
    for page in extensions.campaign_pages(Network.objects.filter(pk=network.pk)):
        found[page.slug.lower()] = page
        found[page.title.strip().lower()] = page
    return found


def _check_gift_options(row, campaigns, problems):
    """The campaign a row names (title or slug) and whether the donor wants a receipt."""
    name = str(row.pop("campaign", "") or "").strip()
    if name:
        row["campaign"] = campaigns.get(name.lower())
        if row["campaign"] is None:
            problems.append(_("no campaign of this network is called “%s”") % name)
    if "wants_receipt" in row:
        answer = str(row["wants_receipt"]).strip().lower()
        if answer not in YES | NO:
            problems.append(_("“%s” is not a yes or no for the receipt") % row["wants_receipt"])
        row["wants_receipt"] = answer in YES
