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
import statistics

from django.db.models import Count, ExpressionWrapper, F, IntegerField, Min, Sum
from django.db.models.functions import ExtractMonth, ExtractYear

from crm.models import Donation, RecurringPlan

NET = ExpressionWrapper(F("amount_cents") - F("refunded_cents"), output_field=IntegerField())
MONTHS_PER_INTERVAL = {
    RecurringPlan.Interval.MONTH: 1,
    RecurringPlan.Interval.QUARTER: 3,
    RecurringPlan.Interval.YEAR: 12,
}
BREAKDOWNS = ("campaign", "channel", "method")


def counted_gifts(network):
    return Donation.objects.filter(network=network, status__in=Donation.COUNTED_STATUSES)


def by_year(network):
    """Every year with gifts: [{year, donors, gifts, amount}], oldest first."""
    rows = (
        counted_gifts(network)
        .annotate(year=ExtractYear("received_on"))
        .values("year")
        .annotate(donors=Count("donor", distinct=True), gifts=Count("pk"), amount=Sum(NET))
        .order_by("year")
    )
    return [{**row, "amount": row["amount"] or 0} for row in rows]


def _donor_ids(gifts, year):
    return set(
        gifts.filter(received_on__year=year, donor__isnull=False).values_list("donor", flat=True)
    )


def year_figures(network, year):
    """The headline figures of one year."""
    gifts = counted_gifts(network)
    in_year = gifts.filter(received_on__year=year)
    amounts = sorted(in_year.annotate(net=NET).values_list("net", flat=True))
    total = sum(amounts)
    donors = _donor_ids(gifts, year)
    previous = _donor_ids(gifts, year - 1)
    # new donors: their first counted gift ever falls in the year (a HAVING in the database)
    new = (
        gifts.filter(donor__isnull=False)
        .values("donor")
        .annotate(first=Min("received_on"))
        .filter(first__gte=datetime.date(year, 1, 1), first__lte=datetime.date(year, 12, 31))
        .count()
    )
    recurring = in_year.filter(recurring_plan__isnull=False).aggregate(total=Sum(NET))["total"]
    return {
        "year": year,
        "donors": len(donors),
        "gifts": len(amounts),
        "amount": total,
        "new_donors": new,
        "returning_donors": len(donors) - new,
        "retained_donors": len(donors & previous),
        "retention": len(donors & previous) / len(previous) if previous else None,
        "average_gift": round(total / len(amounts)) if amounts else None,
        "median_gift": round(statistics.median(amounts)) if amounts else None,
        "recurring_amount": recurring or 0,
        "recurring_share": (recurring or 0) / total if total else None,
    }


def monthly_recurring_revenue(network):
    """What the network's active plans bring in a month, in cents."""
    plans = RecurringPlan.objects.filter(network=network, status=RecurringPlan.Status.ACTIVE)
    totals = plans.values("interval").annotate(amount=Sum("amount_cents"))
    return round(sum(row["amount"] / MONTHS_PER_INTERVAL[row["interval"]] for row in totals))


def breakdown(network, year, field):
    """{key: {donors, gifts, amount}} of a year by campaign (page id), channel or method."""
    rows = (
        counted_gifts(network)
        .filter(received_on__year=year)
        .values(field)
        .annotate(donors=Count("donor", distinct=True), gifts=Count("pk"), amount=Sum(NET))
    )
    return {row[field]: {k: row[k] for k in ("donors", "gifts", "amount")} for row in rows}


def monthly(network, year):
    """The amount of each month of the year: twelve integers."""
    months = [0] * 12
    rows = (
        counted_gifts(network)
        .filter(received_on__year=year)
        .annotate(month=ExtractMonth("received_on"))
        .values("month")
        .annotate(amount=Sum(NET))
    )
    for row in rows:
        months[row["month"] - 1] = row["amount"] or 0
    return months


def fundraising_report(network, year):
    """Everything the report shows: this year, last year, the years, the breakdowns."""
    return {
        "network": network,
        "year": year,
        "this_year": year_figures(network, year),
        "last_year": year_figures(network, year - 1),
        "by_year": by_year(network),
        "monthly_recurring_revenue": monthly_recurring_revenue(network),
        "breakdowns": {
            field: {
                "this_year": breakdown(network, year, field),
                "last_year": breakdown(network, year - 1, field),
            }
            for field in BREAKDOWNS
        },
        "monthly": monthly(network, year),
    }
