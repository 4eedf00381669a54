"""The yearly donations data for the Agenzia delle Entrate (comunicazione delle erogazioni
liberali, DM 30 January 2018 and Provv. 34431 of 9 February 2018, DM 3 February 2021, DM 1
March 2024 with Provv. 83793 of 4 March 2024; see the README, "Agenzia delle Entrate").

Per issuing entity (each entity of a network sends its own) and year:
- one row per natural person's codice fiscale with the total of the gifts paid in the year by
  traceable means (bank, post office, card, cheque, the systems of art. 23 D.Lgs. 241/1997).
  The year is the day the donor paid (`received_on`), not the payout. Gifts are reported as
  made; money given back is reported as a refund in the year it was given back;
- the refunds made in the year, per codice fiscale and year of the refunded gift;
- what is left out and why: cash, a method not known to be traceable, organisations (only
  natural persons are reported), no codice fiscale, a codice fiscale failing validation;
- what is held back "to check": the gifts and refunds of a donor flagged as a possible
  duplicate who shares a codice fiscale with another donor (`crm.merging.identity_holds`),
  until a treasurer merges them or confirms they are the same person.

What we ship is the dataset (CSV/XLSX) for the accountant or intermediary who sends it through
Entratel/Fisconline. The telematic file's record layout (Allegato 1 of the 2018 Provvedimento)
was not available to us, so no telematic file is written: we do not guess a layout.

Speed: one grouped query for the gifts and one for the refunds, classified in Python by donor
(100,000 donors in a few seconds, bench/receipts.py).
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _

from .merging import identity_holds
from .models import Donation, Donor, Refund
from .money import format_amount, gift_year_bounds
from .validators import normalise_code, validate_codice_fiscale

# Total yearly income above which sending the data is mandatory (DM 3 February 2021, art. 1).
THRESHOLD_CENTS = 22_000_000

TRACEABLE = (
    Donation.Method.CARD,
    Donation.Method.SEPA_DEBIT,
    Donation.Method.PAYPAL,
    Donation.Method.SATISPAY,
    Donation.Method.BANK_TRANSFER,
    Donation.Method.CHEQUE,
)
# Gifts whose money arrived (a later refund or a lost dispute is reported as a refund):
# `Donation.objects.received()`, crm's one definition.
RECEIVED = Donation.RECEIVED_STATUSES


class Reason:
    CASH = "cash"
    UNTRACEABLE = "other_method"
    ORGANISATION = "organisation"
    NO_CF = "no_cf"
    BAD_CF = "bad_cf"

    LABELS = {
        CASH: _("Paid in cash"),
        UNTRACEABLE: _("Payment method not known to be traceable"),
        ORGANISATION: _("Organisation, not a natural person"),
        NO_CF: _("No codice fiscale"),
        BAD_CF: _("Codice fiscale fails validation"),
    }


@dataclass
class DonorRow:
    codice_fiscale: str
    name: str
    gifts: int = 0
    amount_cents: int = 0

    @property
    def amount(self):
        return format_amount(self.amount_cents)


@dataclass
class RefundRow:
    codice_fiscale: str
    name: str
    gift_year: int
    amount_cents: int = 0

    @property
    def amount(self):
        return format_amount(self.amount_cents)


@dataclass
class LeftOut:
    what: str  # "gift" or "refund"
    donor_id: int | None
    name: str
    codice_fiscale: str
    reason: str
    count: int = 0
    amount_cents: int = 0

    @property
    def amount(self):
        return format_amount(self.amount_cents)

    @property
    def reason_label(self):
        return Reason.LABELS[self.reason]


@dataclass
class ToCheck:
    """Gifts (or refunds) of one flagged donor, held back until a treasurer decides."""

    what: str  # "gift" or "refund"
    donor_id: int
    name: str
    codice_fiscale: str
    hold: object  # crm.merging.Hold
    count: int = 0
    amount_cents: int = 0

    @property
    def amount(self):
        return format_amount(self.amount_cents)

    @property
    def reason_label(self):
        return self.hold.reason


@dataclass
class TaxData:
    network: object
    year: int
    entity: object = None
    rows: list = field(default_factory=list)
    refunds: list = field(default_factory=list)
    left_out: list = field(default_factory=list)
    to_check: list = field(default_factory=list)

    @property
    def total_cents(self):
        return sum(r.amount_cents for r in self.rows)

    @property
    def refunded_cents(self):
        return sum(r.amount_cents for r in self.refunds)

    @property
    def left_out_cents(self):
        return sum(r.amount_cents for r in self.left_out if r.what == "gift")

    @property
    def left_out_gifts(self):
        """How many gifts are left out (a line groups a donor's gifts, or refunds)."""
        return sum(r.count for r in self.left_out if r.what == "gift")

    @property
    def to_check_cents(self):
        return sum(r.amount_cents for r in self.to_check if r.what == "gift")

    @property
    def to_check_gifts(self):
        return sum(r.count for r in self.to_check if r.what == "gift")

    @property
    def mandatory(self):
        """True above the threshold, False below, None if the income is not declared."""
        income = self.entity.declared_income_cents
        return None if income is None else income > THRESHOLD_CENTS

    @property
    def deadline(self):
        return deadline(self.year)


def deadline(year):
    """16 March of the following year, or the Monday after if it falls on a weekend."""
    day = datetime.date(year + 1, 3, 16)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def donor_problem(kind, codice_fiscale):
    """Why a donor cannot be reported (a Reason), or None. Organisations are left out; so is a
    numeric (11-digit) codice fiscale, which belongs to an organisation, not a person."""
    if kind == Donor.Kind.ORGANISATION:
        return Reason.ORGANISATION
    code = normalise_code(codice_fiscale or "")
    if not code:
        return Reason.NO_CF
    try:
        validate_codice_fiscale(code)
    except ValidationError:
        return Reason.BAD_CF
    if len(code) == 11:
        return Reason.ORGANISATION
    return None


def _name(first, last, organisation):
    return f"{first or ''} {last or ''}".strip() or organisation or ""


DONOR_FIELDS = (
    "donor__kind",
    "donor__codice_fiscale",
    "donor__first_name",
    "donor__last_name",
    "donor__organisation_name",
)


def _classify(left, what, method, donor_id, kind, cf, names, count, cents, key_extra=()):
    """Add `cents` to the reported rows, or to what is left out with its reason. Returns the
    reported row's key (normalised codice fiscale + key_extra) or None."""
    reason = None
    if method == Donation.Method.CASH:
        reason = Reason.CASH
    elif method not in TRACEABLE:
        reason = Reason.UNTRACEABLE
    elif donor_id is None:
        reason = Reason.NO_CF
    else:
        reason = donor_problem(kind, cf)
    if reason is None:
        return normalise_code(cf), *key_extra
    item = left.setdefault(
        (what, donor_id, reason),
        LeftOut(what, donor_id, _name(*names), cf or "", reason),
    )
    item.count += count
    item.amount_cents += cents
    return None


def _hold(held, holds, what, donor_id, cf, names, count, cents):
    item = held.setdefault(
        (what, donor_id), ToCheck(what, donor_id, _name(*names), cf or "", holds[donor_id])
    )
    item.count += count
    item.amount_cents += cents


def tax_data(network, year, entity=None):
    """The AdE data of an issuing entity of `network` (its lead entity unless `entity` is
    given) for `year` (a TaxData): only the gifts that entity received, and their refunds."""
    if entity is None:
        entity = network.lead_entity
    if entity.network_id != network.pk:
        raise ValueError("the entity is not of this network")
    left = {}
    donors = {}
    holds, held = identity_holds(network), {}
    gifts = (
        Donation.objects.filter(network=network)
        .of_entity(entity)
        .received()
        .of_year(year)
        .order_by()
        .values_list("donor_id", *DONOR_FIELDS, "method")
        .annotate(n=Count("id"), total=Sum("amount_cents"))
    )
    for donor_id, kind, cf, first, last, org, method, n, total in gifts.iterator(chunk_size=5000):
        key = _classify(left, "gift", method, donor_id, kind, cf, (first, last, org), n, total)
        if key is not None and donor_id in holds:
            _hold(held, holds, "gift", donor_id, cf, (first, last, org), n, total)
        elif key is not None:
            row = donors.setdefault(key[0], DonorRow(key[0], _name(first, last, org)))
            row.gifts += n
            row.amount_cents += total

    refunds = {}
    given_back = (
        Refund.objects.filter(network=network, refunded_on__range=gift_year_bounds(year))
        .filter(donation__in=Donation.objects.of_entity(entity))
        .order_by()
        .annotate(gift_year=ExtractYear("donation__received_on"))
        .values_list(
            "donation__donor_id",
            *(f"donation__{name}" for name in DONOR_FIELDS),
            "donation__method",
            "gift_year",
        )
        .annotate(n=Count("id"), total=Sum("amount_cents"))
    )
    for donor_id, kind, cf, first, last, org, method, gift_year, n, total in given_back:
        names = (first, last, org)
        key = _classify(left, "refund", method, donor_id, kind, cf, names, n, total, (gift_year,))
        if key is not None and donor_id in holds:
            _hold(held, holds, "refund", donor_id, cf, names, n, total)
        elif key is not None:
            row = refunds.setdefault(key, RefundRow(key[0], _name(*names), gift_year))
            row.amount_cents += total

    return TaxData(
        network=network,
        year=year,
        entity=entity,
        rows=sorted(donors.values(), key=lambda r: r.codice_fiscale),
        refunds=sorted(refunds.values(), key=lambda r: (r.codice_fiscale, r.gift_year)),
        left_out=sorted(left.values(), key=lambda r: (r.what, r.reason, r.name, r.donor_id or 0)),
        to_check=sorted(held.values(), key=lambda r: (r.what, r.name, r.donor_id)),
    )
