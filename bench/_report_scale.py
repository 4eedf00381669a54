"""The fundraising report (outreach.report.fundraising_report) of a network with 1,000,000
counted gifts: about 150,000 donors over five years (2022-2026), a tenth of them on monthly
plans, a few gifts partly or wholly refunded, failed or pending (not counted). Prints the
report's time on a fresh connection ("cold": the first run after loading, PostgreSQL's buffers as
loading left them), then warm (best of three), and each figure's own query time.

Gifts are loaded once with COPY (PostgreSQL), in the order they were received, and kept in
their own database (`trama_bench_report`: drop it when done). Target (issue 14): < 2 s.

    .venv/bin/python bench/_report_scale.py                  # 1,000,000 gifts
    .venv/bin/python bench/_report_scale.py --gifts 200000   # a quicker network
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/trama_bench_report.
"""

import argparse
import os
import random
import sys
from datetime import date, timedelta

from _common import DONOR_FIELDS, Timer, bench_network, copy_rows, donor_rows, setup_django

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/trama_bench_report"
SLUG = "bench-report"
YEARS = (2022, 2023, 2024, 2025, 2026)
REPORT_YEAR = 2026
GIFT_FIELDS = (
    "network_id",
    "donor_id",
    "campaign_id",
    "recurring_plan_id",
    "amount_cents",
    "refunded_cents",
    "received_on",
    "method",
    "channel",
    "status",
)
PLAN_FIELDS = ("network_id", "donor_id", "amount_cents", "interval", "status")


def _day(rng, year):
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


def _donor_gifts(rng, year_weights):
    """One donor's story: a first year, a few years of giving (fewer and fewer stay), one to
    three gifts a year, or a monthly plan (twelve a year from its start)."""
    first = rng.choices(YEARS, weights=year_weights)[0]
    years = [first]
    while years[-1] < YEARS[-1] and rng.random() < 0.5:
        years.append(years[-1] + 1)
    if rng.random() < 0.1:
        amount = rng.choice((1000, 1500, 2000, 3000))
        start = rng.randrange(1, 13)
        days = [
            date(year, month, 5)
            for year in years
            for month in range(start if year == first else 1, 13)
        ]
        return amount, days
    days = [_day(rng, year) for year in years for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 5, 6)))]
    return None, days


def _gifts(network_id, donor_ids, campaign_ids, counted, rng):
    """(rows, plans): `counted` counted gifts in all, about 3 % more not counted."""
    rows, plans = [], []
    weights = (40, 20, 17, 13, 10)  # the network was bigger when the bench's history starts
    donors = iter(donor_ids)
    made = 0
    methods = ("card",) * 6 + ("sepa_debit", "paypal", "bank_transfer", "cash")
    while made < counted:
        donor = next(donors, None) or rng.choice(donor_ids)
        plan_amount, days = _donor_gifts(rng, weights)
        campaign = rng.choice(campaign_ids)
        if plan_amount:
            plans.append((network_id, donor, plan_amount, "month", "active"))
        for day in days:
            if made >= counted:
                break
            amount = plan_amount or rng.choice((1000, 2000, 2500, 5000, 10000, 25000, 1234))
            roll = rng.random()
            status, refunded = "succeeded", 0
            if roll < 0.01:
                status, refunded = "partially_refunded", amount // 2
            elif roll < 0.02:
                status, refunded = "refunded", amount
            elif roll < 0.035:
                status = "failed"
            made += status in ("succeeded", "partially_refunded")
            method = "card" if plan_amount else rng.choice(methods)
            channel = "offline" if method in ("bank_transfer", "cash") else "online"
            rows.append(
                [network_id, donor, campaign, len(plans) if plan_amount else None]
                + [amount, refunded, day, method, channel, status]
            )
    rows.sort(key=lambda row: row[6])  # in the order they came in, as a real table is
    return rows, plans


def load(counted, donors):
    from django.db import connection, transaction
    from wagtail.models import Page

    from crm.models import Donation, Donor, RecurringPlan

    network = bench_network(SLUG)
    gifts = Donation.objects.filter(network=network, status__in=Donation.COUNTED_STATUSES)
    if gifts.count() == counted:
        return network, False
    rng = random.Random(14)
    with transaction.atomic():
        Donation.objects.filter(network=network).delete()
        RecurringPlan.objects.filter(network=network).delete()
        Donor.objects.filter(network=network).delete()
        copy_rows(Donor, DONOR_FIELDS, donor_rows(network.pk, donors, seed=14))
        donor_ids = list(Donor.objects.filter(network=network).values_list("pk", flat=True))
        campaign_ids = [None, *Page.objects.values_list("pk", flat=True)[:3]]
        rows, plans = _gifts(network.pk, donor_ids, campaign_ids, counted, rng)
        copy_rows(RecurringPlan, PLAN_FIELDS, plans)
        plan_ids = list(
            RecurringPlan.objects.filter(network=network)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for row in rows:  # plan numbers (1, 2, ...) to the ids the plans got
            if row[3] is not None:
                row[3] = plan_ids[row[3] - 1]
        copy_rows(Donation, GIFT_FIELDS, rows)
    with connection.cursor() as cursor:  # as autovacuum would, soon after
        for model in (Donation, Donor, RecurringPlan):
            cursor.execute(f'VACUUM ANALYZE "{model._meta.db_table}"')
    return network, True


def _timed(label, call, times):
    with Timer() as timer:
        result = call()
    times.append((label, timer.seconds))
    return result


def figures_one_by_one(network):
    """Each part of the report on its own, as fundraising_report runs them."""
    from outreach import report

    gifts = report.counted_gifts(network)
    years = [REPORT_YEAR - 1, REPORT_YEAR]
    times = []
    first, last = _timed("first and last year", lambda: report._span(gifts), times)
    totals = _timed(
        "donors, new, retained, amounts by year",
        lambda: report._totals(gifts, min(first, years[0]), max(last, years[1])),
        times,
    )
    counts = {year: totals[year]["gifts"] for year in years}
    _timed("median gift (both years)", lambda: report._medians(gifts, counts), times)
    for field in report.BREAKDOWNS:
        _timed(f"by {field}", lambda f=field: report._breakdowns(network, years, f), times)
    _timed("by month", lambda: report.monthly(network, REPORT_YEAR), times)
    _timed("monthly recurring revenue", lambda: report.monthly_recurring_revenue(network), times)
    return times


def run(database_url=None, gifts=1_000_000, donors=150_000):
    setup_django(database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    from django.db import connection

    from crm.models import Donation, Donor, RecurringPlan
    from outreach import report
    from outreach.report import fundraising_report

    with Timer() as loading:
        network, loaded = load(gifts, donors)
    all_gifts = Donation.objects.filter(network=network)
    if loaded:
        print(f"loaded {all_gifts.count():,} gifts with COPY in {loading.seconds:.1f} s")
    print(
        f"network: {all_gifts.filter(status__in=Donation.COUNTED_STATUSES).count():,} counted "
        f"gifts of {all_gifts.count():,}, "
        f"{Donor.objects.filter(network=network).count():,} donors, "
        f"{RecurringPlan.objects.filter(network=network).count():,} plans, years {YEARS[0]}-"
        f"{YEARS[-1]}"
    )
    connection.close()  # a fresh connection, as a request would have
    with Timer() as cold:
        result = fundraising_report(network, REPORT_YEAR)
    warm = []
    for _ in range(3):
        with Timer() as timer:
            fundraising_report(network, REPORT_YEAR)
        warm.append(timer.seconds)
    this = result["this_year"]
    print(
        f"{REPORT_YEAR}: {this['gifts']:,} gifts, {this['donors']:,} donors "
        f"({this['new_donors']:,} new), retention {this['retention']:.1%}, "
        f"median {this['median_gift'] / 100:.2f} EUR"
    )
    print(f"fundraising report, {REPORT_YEAR} against {REPORT_YEAR - 1}:")
    print(f"  cold (first run, fresh connection): {cold.seconds:.2f} s")
    print(f"  warm (best of 3): {min(warm):.2f} s")
    print("  each figure (warm, the report's database settings):")
    for label, seconds in report._reading_many_rows(figures_one_by_one)(network):
        print(f"    {label:<34} {seconds * 1000:7.0f} ms")
    print(f"cores: {os.cpu_count()}; target < 2 s")
    return min(warm)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gifts", type=int, default=1_000_000, help="counted gifts")
    parser.add_argument("--donors", type=int, default=150_000)
    args = parser.parse_args()
    run(gifts=args.gifts, donors=args.donors)


if __name__ == "__main__":
    sys.exit(main())
