"""A network's fundraising report for a year, against the year before: pure figures from
`crm` (integer cents, counts), built by the database where it can.

Definitions (fiscal years in Italy, `crm.money.gift_year_bounds`; a gift counts and its amount
is what `crm` says it raised, `Donation.objects.succeeded()` and `KEPT`: net of refunds, nothing
while in open dispute):
- donors of a year: distinct donors with at least one counted gift that year;
- new: their first counted gift ever is of that year; returning: the others;
- retention: donors of the previous year who gave again this year, over donors of the
  previous year (None without donors the previous year);
- average gift: amount over gifts; median gift: the middle gift (the mean of the two middle
  ones, rounded to the cent, for an even number of gifts);
- recurring share: the part of the amount given through recurring plans;
- monthly recurring revenue: active plans today, quarterly and yearly ones spread over months.
"""

import contextlib
import functools

from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Count,
    FloatField,
    Max,
    Min,
    Q,
    Sum,
)
from django.db.models.functions import ExtractMonth, ExtractYear

from crm.models import KEPT, Donation, RecurringPlan
from crm.money import gift_year_bounds

# What a gift raised: crm's one definition (amount less refunds, for a counted gift).
NET = KEPT
MONTHS_PER_INTERVAL = {
    RecurringPlan.Interval.MONTH: 1,
    RecurringPlan.Interval.QUARTER: 3,
    RecurringPlan.Interval.YEAR: 12,
}
BREAKDOWNS = ("campaign", "channel", "method")


# Room for the report's sorts and hashes in memory on PostgreSQL (the server's default, 4 MB,
# sends a network's million gifts to disk), for the report's own transaction only.
REPORT_WORK_MEM = "64MB"


@contextlib.contextmanager
def _postgresql_settings(**values):
    """PostgreSQL settings for the queries inside, in a transaction: SET LOCAL ends with it,
    and inside a caller's transaction the previous values are set back on the way out (an
    error rolls the savepoint, and them, back). Elsewhere, nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    names = list(values)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join("current_setting(%s)" for _ in names), names)
        before = cursor.fetchone()
        config = "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in names)
        cursor.execute(config, [item for pair in values.items() for item in pair])
        yield
        cursor.execute(config, [item for pair in zip(names, before, strict=True) for item in pair])


def _reading_many_rows(function):
    """A figure of the report with room to sort and hash in memory and without JIT compilation
    (compiling costs more than it saves on queries of well under a second)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with _postgresql_settings(work_mem=REPORT_WORK_MEM, jit="off"):
            return function(*args, **kwargs)

    return wrapper


class Median(Aggregate):
    """The middle value (the mean of the two middle ones for an even count), PostgreSQL's
    ordered-set aggregate: the database sorts, no amount travels to Python."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False


def counted_gifts(network):
    return Donation.objects.filter(network=network).succeeded()


def _first_day(year):
    return gift_year_bounds(year)[0]


def _last_day(year):
    return gift_year_bounds(year)[1]


def _span(gifts):
    """(first year, last year) with gifts, or None: a min and max per counted status, each one
    index lookup on Donation (network, status, received_on)."""
    days = []
    for status in Donation.COUNTED_STATUSES:
        row = gifts.filter(status=status).aggregate(
            first=Min("received_on"), last=Max("received_on")
        )
        days += [day for day in row.values() if day]
    return (min(days).year, max(days).year) if days else None


def _totals(gifts, first, last):
    """{year: {donors, gifts, amount, recurring_amount, new_donors, retained_donors}} of each
    year from `first` to `last` (and of the year before `first`, whose donors the retention of
    `first` needs), in two queries counted by the database: the gifts' sums grouped by year,
    and the donors, grouped by donor (their first gift ever, whether they gave each year)."""
    years = range(first - 1, last + 1)
    sums = (
        gifts.filter(received_on__range=(_first_day(first - 1), _last_day(last)))
        .annotate(year=ExtractYear("received_on"))
        .values("year")
        .annotate(
            gifts=Count("*"),
            amount=Sum(NET),
            recurring_amount=Sum(NET, filter=Q(recurring_plan__isnull=False)),
        )
        .order_by()
    )
    totals = {year: {"donors": 0, "gifts": 0, "amount": 0, "recurring_amount": 0} for year in years}
    for row in sums:
        totals[row["year"]].update(
            gifts=row["gifts"],
            amount=row["amount"] or 0,
            recurring_amount=row["recurring_amount"] or 0,
        )
    gave = {
        f"gave_{year}": Count(
            "received_on", filter=Q(received_on__range=(_first_day(year), _last_day(year)))
        )
        for year in years
    }
    per_donor = (
        gifts.filter(donor__isnull=False, received_on__lte=_last_day(last))
        .values("donor")
        .annotate(first_gift=Min("received_on"), **gave)
        .order_by()
    )
    counts = {}
    for year in years:
        gave_then = Q(**{f"gave_{year}__gt": 0})
        counts[f"donors_{year}"] = Count("donor", filter=gave_then)
        counts[f"new_{year}"] = Count(
            "donor", filter=Q(first_gift__range=(_first_day(year), _last_day(year)))
        )
        if year > first - 1:
            counts[f"retained_{year}"] = Count(
                "donor", filter=gave_then & Q(**{f"gave_{year - 1}__gt": 0})
            )
    # Streamed in donor order from the index donation_counted_by_donor: PostgreSQL guesses
    # far fewer donors than there are and would rather hash them all (twice as slow).
    with _postgresql_settings(enable_hashagg="off"):
        row = per_donor.aggregate(**counts)
    for year in years:
        totals[year].update(
            donors=row[f"donors_{year}"],
            new_donors=row[f"new_{year}"],
            retained_donors=row.get(f"retained_{year}", 0),
        )
    return totals


@_reading_many_rows
def by_year(network):
    """Every year with gifts: [{year, donors, gifts, amount}], oldest first."""
    gifts = counted_gifts(network)
    span = _span(gifts)
    return _by_year(_totals(gifts, *span)) if span else []


def _by_year(totals):
    return [
        {"year": year, **{k: row[k] for k in ("donors", "gifts", "amount")}}
        for year, row in sorted(totals.items())
        if row["gifts"]
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
            gifts.of_year(year)
            .annotate(net=NET)
            .order_by("net")
            .values_list("net", flat=True)[offset : offset + 2 - count % 2]
        )
        medians[year] = sum(middle) / len(middle)
    return medians


def _year_figures(network, years, totals=None):
    """{year: headline figures} of the given years, in two queries whatever their number of
    gifts: `totals` (of `_totals`, covering them) may come from the caller."""
    gifts = counted_gifts(network)
    if totals is None:
        totals = _totals(gifts, min(years), max(years))
    medians = _medians(gifts, {year: totals[year]["gifts"] for year in years})
    figures = {}
    for year in years:
        this, previous = totals[year], totals[year - 1]
        amount, count, recurring = this["amount"], this["gifts"], this["recurring_amount"]
        retained = this["retained_donors"]
        figures[year] = {
            "year": year,
            "donors": this["donors"],
            "gifts": count,
            "amount": amount,
            "new_donors": this["new_donors"],
            "returning_donors": this["donors"] - this["new_donors"],
            "retained_donors": retained,
            "retention": retained / previous["donors"] if previous["donors"] else None,
            "average_gift": round(amount / count) if count else None,
            "median_gift": round(medians[year]) if count else None,
            "recurring_amount": recurring,
            "recurring_share": recurring / amount if amount else None,
        }
    return figures


@_reading_many_rows
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
        .of_year(year)
        .annotate(month=ExtractMonth("received_on"))
        .values("month")
        .annotate(amount=Sum(NET))
        .order_by()
    )
    for row in rows:
        months[row["month"] - 1] = row["amount"] or 0
    return months


@_reading_many_rows
def fundraising_report(network, year):
    """Everything the report shows: this year, last year, the years, the breakdowns."""
    gifts = counted_gifts(network)
    first, last = _span(gifts) or (year, year)
    # One pass over every year: the years' rows and this year's and last year's headlines.
    totals = _totals(gifts, min(first, year - 1), max(last, year))
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
