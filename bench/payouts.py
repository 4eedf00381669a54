"""Payout reports: time and peak Python memory (tracemalloc) to build the report of one
payout with 10,000 balance transactions (totals and every line, as CSV) and of a year with
1,000,000 (one row a payout, from one grouped query), through `campaigns.payouts.report`.

Lines are loaded once with COPY (PostgreSQL) and kept. Targets: < 2 s and < 60 s, memory
flat (lines stream with `.iterator()`).

    .venv/bin/python bench/payouts.py                      # 10,000 / 1,000,000
    .venv/bin/python bench/payouts.py --year-lines 200000  # a quicker year
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/trama_bench.
"""

import argparse
import datetime
import os
import random
import tracemalloc
from datetime import UTC

from _common import Timer, bench_network, copy_rows, setup_django

SLUG = "bench-payouts"
PER_PAYOUT = 10_000


def _lines(payout_id, count, rng, start):
    """(payout_id, balance_transaction_id, kind, type, amount, fee, net, currency, created,
    charge_id, description) rows: gifts with Stripe's card fee, a few refunds and disputes."""
    for i in range(count):
        roll = rng.random()
        amount = rng.choice((1000, 2500, 5000, 10000))
        if roll < 0.97:
            kind, type_, fee = "gift", "charge", round(amount * 0.015) + 25
        elif roll < 0.995:
            kind, type_, fee, amount = "refund", "refund", 0, -amount
        else:
            kind, type_, fee, amount = "dispute", "adjustment", 2000, -amount
        yield (
            payout_id,
            f"txn_{payout_id}_{i}",
            kind,
            type_,
            amount,
            fee,
            amount - fee,
            "EUR",
            start + datetime.timedelta(seconds=i),
            f"ch_{payout_id}_{i}",
            "",
        )


FIELDS = (
    "payout_id",
    "balance_transaction_id",
    "kind",
    "type",
    "amount_cents",
    "fee_cents",
    "net_cents",
    "currency",
    "created",
    "charge_id",
    "description",
)


def load(year, year_lines):
    from django.db import transaction
    from django.db.models import Sum

    from campaigns.models import Payout, PayoutLine

    network = bench_network(SLUG)
    payouts = Payout.objects.filter(network=network, arrival_date__year=year)
    count = year_lines // PER_PAYOUT
    if payouts.count() == count and PayoutLine.objects.filter(payout__in=payouts).count() == (
        count * PER_PAYOUT
    ):
        return network, False
    rng = random.Random(7)
    with transaction.atomic():
        PayoutLine.objects.filter(payout__network=network).delete()
        Payout.objects.filter(network=network).delete()
        for n in range(count):
            day = datetime.date(year, 1, 1) + datetime.timedelta(days=n * 365 // max(count, 1))
            payout = Payout.objects.create(
                network=network,
                stripe_payout_id=f"po_bench_{year}_{n}",
                amount_cents=0,
                arrival_date=day,
                status=Payout.Status.PAID,
            )
            start = datetime.datetime.combine(day, datetime.time(), tzinfo=UTC)
            copy_rows(PayoutLine, FIELDS, _lines(payout.pk, PER_PAYOUT, rng, start))
            net = payout.lines.aggregate(net=Sum("net_cents"))["net"]
            Payout.objects.filter(pk=payout.pk).update(amount_cents=net)
    return network, True


def measure(build):
    """Seconds of a plain run, then peak memory of a second run under tracemalloc (which
    slows Python down, so it is not timed)."""
    with Timer() as timer:
        size = build()
    tracemalloc.start()
    build()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return timer.seconds, peak / 1e6, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year-lines", type=int, default=1_000_000)
    args = parser.parse_args()
    setup_django()
    from campaigns.models import Payout
    from campaigns.payouts import report
    from crm.exports import stream_csv

    year = 2025
    with Timer() as loading:
        network, loaded = load(year, max(args.year_lines, PER_PAYOUT))
    if loaded:
        print(f"loaded {args.year_lines:,} payout lines with COPY in {loading.seconds:.1f} s")
    payouts = Payout.objects.filter(network=network, arrival_date__year=year)
    one = payouts.order_by("pk").first()

    def one_payout():
        totals = report.payout_totals(one)
        assert totals.difference == 0, totals
        rows = report.payout_rows(one, totals)
        return sum(len(line) for line in stream_csv(report.LINE_HEADINGS, rows))

    def whole_year():
        rows, total = report.year_totals(report.payouts_of_year(payouts, year))
        assert total.difference == 0, total
        lines = stream_csv(report.YEAR_HEADINGS, report.year_rows(rows, total))
        return sum(len(line) for line in lines), total.lines

    seconds, peak, size = measure(one_payout)
    print(
        f"report of 1 payout with {PER_PAYOUT:,} balance transactions (totals + CSV lines): "
        f"{seconds:.2f} s, {size / 1e6:.1f} MB CSV, peak {peak:.1f} MB (tracemalloc)"
    )
    seconds, peak, (size, lines) = measure(whole_year)
    print(
        f"report of a year, {payouts.count()} payouts with {lines:,} balance transactions: "
        f"{seconds:.2f} s, peak {peak:.1f} MB (tracemalloc)"
    )
    print(f"cores: {os.cpu_count()}; targets < 2 s and < 60 s, memory flat")


if __name__ == "__main__":
    main()
