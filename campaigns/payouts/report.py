"""The payout report: gross − refunds − disputes − fees ± adjustments = net, checked against
the payout amount to the cent; per payout (with its lines) and per year (one row a payout).

Totals come from one grouped query; lines stream from `values_list(...).iterator()`, so the
memory stays flat whatever the number of balance transactions."""

from dataclasses import dataclass

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from crm.exports import csv_response, xlsx_response
from crm.money import cents_to_decimal

from .models import Payout, PayoutLine

K = PayoutLine.Kind
CHUNK = 2000


@dataclass
class Totals:
    lines: int = 0
    gross: int = 0
    refunds: int = 0
    disputes: int = 0
    fees: int = 0
    adjustments: int = 0
    payout_cents: int = 0

    @property
    def net(self):
        return self.gross - self.refunds - self.disputes - self.fees + self.adjustments

    @property
    def difference(self):
        """What our lines add up to minus what reached the bank: zero when reconciled."""
        return self.net - self.payout_cents

    def add(self, other):
        for name in ("lines", "gross", "refunds", "disputes", "fees", "adjustments"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.payout_cents += other.payout_cents


def _fold(totals, kind, n, amount, fee):
    """Add one (kind, count, Σ amount, Σ fee) group to `totals`."""
    if kind == K.PAYOUT:
        return
    totals.lines += n
    totals.fees += fee
    if kind == K.GIFT:
        totals.gross += amount
    elif kind == K.REFUND:
        totals.refunds -= amount
    elif kind == K.DISPUTE:
        totals.disputes -= amount
    elif kind == K.FEE:
        totals.fees -= amount
    else:
        totals.adjustments += amount


def _groups(lines):
    return (
        lines.order_by()
        .values_list("kind")
        .annotate(n=Count("id"), amount=Sum("amount_cents"), fee=Sum("fee_cents"))
    )


def payout_totals(payout):
    totals = Totals(payout_cents=payout.amount_cents)
    for kind, n, amount, fee in _groups(payout.lines.all()):
        _fold(totals, kind, n, amount or 0, fee or 0)
    return totals


def year_totals(payouts):
    """[(payout, Totals)] for `payouts` (already scoped), and their sum; one grouped query."""
    payouts = list(payouts.order_by("arrival_date", "pk"))
    per = {p.pk: Totals(payout_cents=p.amount_cents) for p in payouts}
    grouped = (
        PayoutLine.objects.filter(payout__in=[p.pk for p in payouts])
        .order_by()
        .values_list("payout_id", "kind")
        .annotate(n=Count("id"), amount=Sum("amount_cents"), fee=Sum("fee_cents"))
    )
    for payout_id, kind, n, amount, fee in grouped.iterator(chunk_size=CHUNK):
        _fold(per[payout_id], kind, n, amount or 0, fee or 0)
    total = Totals()
    for totals in per.values():
        total.add(totals)
    return [(p, per[p.pk]) for p in payouts], total


def summary_rows(totals):
    """(label, cents) rows of the reconciliation, in the order an accountant reads them."""
    return [
        (_("Gross gifts"), totals.gross),
        (_("Refunds"), -totals.refunds),
        (_("Disputes"), -totals.disputes),
        (_("Stripe fees"), -totals.fees),
        (_("Adjustments"), totals.adjustments),
        (_("Net"), totals.net),
        (_("Payout amount"), totals.payout_cents),
        (_("Difference"), totals.difference),
    ]


# What a balance transaction is, in the reader's words: Stripe's `type`
# (https://docs.stripe.com/api/balance_transactions/object#balance_transaction_object-type) and
# the descriptions Stripe writes on a subscription's charges. Stripe's own text ("REFUND FOR
# CHARGE (…)", "Subscription creation") never reaches a report.
TYPES = {
    "charge": _("Card payment"),
    "payment": _("Payment"),
    "refund": _("Refund"),
    "payment_refund": _("Refund"),
    "payment_failure_refund": _("Refund of a failed payment"),
    "refund_failure": _("Failed refund returned"),
    "stripe_fee": _("Stripe fee"),
    "application_fee": _("Platform fee"),
    "tax_fee": _("Tax on Stripe's fees"),
    "adjustment": _("Adjustment"),
    "payout": _("Payout"),
    "payout_cancel": _("Cancelled payout returned"),
    "payout_failure": _("Failed payout returned"),
    "transfer": _("Transfer"),
}
DESCRIPTIONS = {
    "subscription creation": _("First payment of a recurring gift"),
    "subscription update": _("Payment of a recurring gift"),
    "subscription cycle": _("Payment of a recurring gift"),
}


def describe(stripe_type, description=""):
    """A balance transaction's description as a treasurer reads it."""
    known = DESCRIPTIONS.get((description or "").strip().lower())
    return str(known or TYPES.get(stripe_type) or _("Other Stripe movement"))


LINE_HEADINGS = (
    _("Date"),
    _("Kind"),
    _("Description"),
    _("Gift"),
    _("Donor"),
    _("Stripe charge"),
    _("Balance transaction"),
    _("Amount (EUR)"),
    _("Fee (EUR)"),
    _("Net (EUR)"),
)


def line_rows(payout):
    """One row per balance transaction of the payout (its own payout line excluded)."""
    kinds = {value: str(label) for value, label in PayoutLine.Kind.choices}
    lines = (
        payout.lines.exclude(kind=K.PAYOUT)
        .order_by("created", "pk")
        .values_list(
            "created",
            "kind",
            "type",
            "description",
            "donation_id",
            "donation__donor__first_name",
            "donation__donor__last_name",
            "donation__donor__organisation_name",
            "charge_id",
            "balance_transaction_id",
            "amount_cents",
            "fee_cents",
            "net_cents",
        )
    )
    for row in lines.iterator(chunk_size=CHUNK):
        created, kind, stripe_type, description, gift, first, last, org = row[:8]
        charge, txn, amount, fee, net = row[8:]
        donor = org or f"{first or ''} {last or ''}".strip()
        yield [
            created.date() if created else None,
            kinds.get(kind, kind),
            describe(stripe_type, description),
            gift,
            donor,
            charge,
            txn,
            cents_to_decimal(amount),
            cents_to_decimal(fee),
            cents_to_decimal(net),
        ]


def payout_rows(payout, totals):
    """The reconciliation on top, then the lines."""
    for label, cents in summary_rows(totals):
        yield [None, str(label), "", None, "", "", "", cents_to_decimal(cents), None, None]
    yield [None] * len(LINE_HEADINGS)
    yield from line_rows(payout)


YEAR_HEADINGS = (
    _("Arrival date"),
    _("Stripe payout"),
    _("Bank reference"),
    _("Status"),
    _("Gross gifts (EUR)"),
    _("Refunds (EUR)"),
    _("Disputes (EUR)"),
    _("Stripe fees (EUR)"),
    _("Adjustments (EUR)"),
    _("Net (EUR)"),
    _("Payout amount (EUR)"),
    _("Difference (EUR)"),
)


def _money_cells(totals):
    return [
        cents_to_decimal(c)
        for c in (
            totals.gross,
            -totals.refunds,
            -totals.disputes,
            -totals.fees,
            totals.adjustments,
            totals.net,
            totals.payout_cents,
            totals.difference,
        )
    ]


def year_rows(rows, total):
    for payout, totals in rows:
        yield [
            payout.arrival_date,
            payout.stripe_payout_id,
            payout.trace_id or payout.statement_descriptor,
            str(payout.get_status_display()),
            *_money_cells(totals),
        ]
    yield [None, str(_("Total")), "", "", *_money_cells(total)]


def export_payout(payout, export_format):
    totals = payout_totals(payout)
    make = csv_response if export_format == "csv" else xlsx_response
    return make(LINE_HEADINGS, payout_rows(payout, totals), f"versamento-{payout.stripe_payout_id}")


def export_year(payouts, year, export_format):
    rows, total = year_totals(payouts)
    make = csv_response if export_format == "csv" else xlsx_response
    return make(YEAR_HEADINGS, year_rows(rows, total), f"versamenti-{year}")


def payouts_of_year(queryset, year):
    return queryset.filter(arrival_date__year=year, status=Payout.Status.PAID)
