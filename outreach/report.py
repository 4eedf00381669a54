"""A network's fundraising report for a year, against the year before: pure figures from
`crm` (integer cents, counts), built by the database where it can.

Definitions (calendar years, by `received_on`; a gift counts when `crm` counts it, net of
refunds):
- donors of a year: distinct donors with at least one counted gift that year;
- new: their first counted gift ever is of that year; returning: the others;
- retention: donors of the previous year who gave again this year, over donors of the
  previous year (None without donors the previous year);
- average gift: amount over gifts; median gift: the middle gift (the mean of the two middle
  ones, rounded to the cent, for an even number of gifts);
- recurring share: the part of the amount given through recurring plans;
- monthly recurring revenue: active plans today, quarterly and yearly ones spread over months.
"""

import datetime

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Min,
    Q,
    Sum,
)
from django.db.models.functions import ExtractMonth, ExtractYear

from crm.models import Donation, RecurringPlan

NET = ExpressionWrapper(F("amount_cents") - F("refunded_cents"), output_field=IntegerField())
MONTHS_PER_INTERVAL = {
    RecurringPlan.Interval.MONTH: 1,
    RecurringPlan.Interval.QUARTER: 3,
    RecurringPlan.Interval.YEAR: 12,
}
BREAKDOWNS = ("campaign", "channel", "method")


class Median(Aggregate):
    """The middle value (the mean of the two middle ones for an even count), PostgreSQL's
    ordered-set aggregate: the database sorts, no amount travels to Python."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False


def counted_gifts(network):
    return Donation.objects.filter(network=network, status__in=Donation.COUNTED_STATUSES)


def _first_day(year):
    return datetime.date(year, 1, 1)


def _last_day(year):
    return datetime.date(year, 12, 31)


def _totals(gifts):
    """{year: {donors, gifts, amount, recurring_amount}} in one grouped query."""
    rows = (
        gifts.annotate(year=ExtractYear("received_on"))
        .values("year")
        .annotate(
            donors=Count("donor", distinct=True),
            gifts=Count("pk"),
            amount=Sum(NET),
            recurring_amount=Sum(NET, filter=Q(recurring_plan__isnull=False)),
        )
        .order_by("year")
    )
    return {
        row["year"]: {
            "donors": row["donors"],
            "gifts": row["gifts"],
            "amount": row["amount"] or 0,
            "recurring_amount": row["recurring_amount"] or 0,
        }
        for row in rows
    }


def by_year(network):
    """Every year with gifts: [{year, donors, gifts, amount}], oldest first."""
    return _by_year(_totals(counted_gifts(network)))


def _by_year(totals):
    return [
        {"year": year, **{k: row[k] for k in ("donors", "gifts", "amount")}}
        for year, row in sorted(totals.items())
    ]


def _medians(gifts, counts):
    """{year: median net gift} for the years of `counts` ({year: gifts}), computed by the
    database: PERCENTILE_CONT on PostgreSQL; elsewhere the one or two middle rows of each year
    (ORDER BY ... LIMIT/OFFSET), so no year's amounts are ever loaded whole."""
    years = [year for year, count in counts.items() if count]
    if not years:
        return {}
    if connection.vendor == "postgresql":
        rows = (
            gifts.filter(received_on__range=(_first_day(min(years)), _last_day(max(years))))
            .annotate(year=ExtractYear("received_on"))
            .values("year")
            .annotate(median=Median(NET))
        )
        return {row["year"]: row["median"] for row in rows if row["year"] in counts}
    medians = {}
    for year in years:
        count = counts[year]
        offset = (count - 1) // 2
        middle = list(
            gifts.filter(received_on__year=year)
            .annotate(net=NET)
            .order_by("net")
            .values_list("net", flat=True)[offset : offset + 2 - count % 2]
        )
        medians[year] = sum(middle) / len(middle)
    return medians


def _donor_counts(gifts, years):
    """{year: (new, retained)} for each year: donors whose first counted gift ever is of that
    year, and donors of that year who also gave the year before. One query grouping the
    network's gifts up to the last year by donor, counted by the database."""
    first, last = min(years), max(years)
    window = {
        f"in_{year}": Count("pk", filter=Q(received_on__year=year))
        for year in range(first - 1, last + 1)
    }
    per_donor = (
        gifts.filter(donor__isnull=False, received_on__lte=_last_day(last))
        .values("donor")
        .annotate(first_gift=Min("received_on"), **window)
    )
    counts = {}
    for year in years:
        counts[f"new_{year}"] = Count(
            "donor", filter=Q(first_gift__range=(_first_day(year), _last_day(year)))
        )
        counts[f"retained_{year}"] = Count(
            "donor", filter=Q(**{f"in_{year}__gt": 0, f"in_{year - 1}__gt": 0})
        )
    row = per_donor.aggregate(**counts)
    return {year: (row[f"new_{year}"], row[f"retained_{year}"]) for year in years}


def _year_figures(network, years, totals=None):
    """{year: headline figures} of the given years, in a handful of queries whatever their
    number of gifts: `totals` (of `_totals`) may come from the caller's own by-year query."""
    gifts = counted_gifts(network)
    if totals is None:
        first, last = min(years) - 1, max(years)
        totals = _totals(gifts.filter(received_on__range=(_first_day(first), _last_day(last))))
    empty = {"donors": 0, "gifts": 0, "amount": 0, "recurring_amount": 0}
    medians = _medians(gifts, {year: totals.get(year, empty)["gifts"] for year in years})
    donor_counts = _donor_counts(gifts, years)
    figures = {}
    for year in years:
        this, previous = totals.get(year, empty), totals.get(year - 1, empty)
        new, retained = donor_counts[year]
        amount, count, recurring = this["amount"], this["gifts"], this["recurring_amount"]
        figures[year] = {
            "year": year,
            "donors": this["donors"],
            "gifts": count,
            "amount": amount,
            "new_donors": new,
            "returning_donors": this["donors"] - new,
            "retained_donors": retained,
            "retention": retained / previous["donors"] if previous["donors"] else None,
            "average_gift": round(amount / count) if count else None,
            "median_gift": round(medians[year]) if count else None,
            "recurring_amount": recurring,
            "recurring_share": recurring / amount if amount else None,
        }
    return figures


def year_figures(network, year):
    """The headline figures of one year."""
    return _year_figures(network, [year])[year]


def monthly_recurring_revenue(network):
    """What the network's active plans bring in a month, in cents."""
    plans = RecurringPlan.objects.filter(network=network, status=RecurringPlan.Status.ACTIVE)
    totals = plans.values("interval").annotate(amount=Sum("amount_cents"))
    return round(sum(row["amount"] / MONTHS_PER_INTERVAL[row["interval"]] for row in totals))


def breakdown(network, year, field):
    """{key: {donors, gifts, amount}} of a year by campaign (page id), channel or method."""
    return _breakdowns(network, [year], field)[year]


def _breakdowns(network, years, field):
    """{year: {key: {donors, gifts, amount}}} of the given years, one grouped query."""
    rows = (
        counted_gifts(network)
        .filter(received_on__range=(_first_day(min(years)), _last_day(max(years))))
        .annotate(year=ExtractYear("received_on"))
        .values("year", field)
        .annotate(donors=Count("donor", distinct=True), gifts=Count("pk"), amount=Sum(NET))
        .order_by()
    )
    found = {year: {} for year in years}
    for row in rows:
        if row["year"] in found:
            found[row["year"]][row[field]] = {k: row[k] for k in ("donors", "gifts", "amount")}
    return found


def monthly(network, year):
    """The amount of each month of the year: twelve integers."""
    months = [0] * 12
    rows = (
        counted_gifts(network)
        .filter(received_on__year=year)
        .annotate(month=ExtractMonth("received_on"))
        .values("month")
        .annotate(amount=Sum(NET))
        .order_by()
    )
    for row in rows:
        months[row["month"] - 1] = row["amount"] or 0
    return months


def fundraising_report(network, year):
    """Everything the report shows: this year, last year, the years, the breakdowns."""
    totals = _totals(counted_gifts(network))  # every year: the years' row and the headlines
    figures = _year_figures(network, [year - 1, year], totals)
    breakdowns = {field: _breakdowns(network, [year - 1, year], field) for field in BREAKDOWNS}
    return {
        "network": network,
        "year": year,
        "this_year": figures[year],
        "last_year": figures[year - 1],
        "by_year": _by_year(totals),
        "monthly_recurring_revenue": monthly_recurring_revenue(network),
        "breakdowns": {
            field: {"this_year": rows[year], "last_year": rows[year - 1]}
            for field, rows in breakdowns.items()
        },
        "monthly": monthly(network, year),
    }
