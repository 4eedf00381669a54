"""Exports for treasurers: time and peak memory to export N donations as CSV and M as XLSX
through the admin's code (crm.exports.export_donations, consumed as the HTTP response would
be). Each export runs in a child process that reports its own peak RSS (VmHWM), next to the RSS
of a child that only starts Django (the baseline), so the difference is what the export costs.

Rows are loaded once with COPY (PostgreSQL) and kept. Target (docs/design/quality.md): 1,000,000
donations as CSV in < 30 s with peak memory < 200 MB, flat.

    .venv/bin/python bench/exports.py                           # 200,000 CSV, 20,000 XLSX
    .venv/bin/python bench/exports.py --csv 1000000 --xlsx 100000  # docs/design/quality.md's sizes
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/trama_bench.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
from datetime import date, timedelta

from _common import DONOR_FIELDS, Timer, bench_network, copy_rows, donor_rows, setup_django

SLUG = "bench-exports"
DONORS = 50_000


def load(count):
    from django.db import transaction

    from crm.models import Donation, Donor

    network = bench_network(SLUG)
    if Donation.objects.filter(network=network).count() >= count:
        return network, False
    with transaction.atomic():
        Donation.objects.filter(network=network).delete()
        Donor.objects.filter(network=network).delete()
        copy_rows(Donor, DONOR_FIELDS, donor_rows(network.pk, DONORS, seed=3))
        donor_ids = list(Donor.objects.filter(network=network).values_list("pk", flat=True))
        rng = random.Random(5)
        start = date(2026, 1, 1)
        fields = (
            "network_id",
            "donor_id",
            "amount_cents",
            "received_on",
            "method",
            "channel",
            "status",
            "reference",
        )
        copy_rows(
            Donation,
            fields,
            (
                (
                    network.pk,
                    rng.choice(donor_ids),
                    rng.randrange(500, 100_000),
                    start + timedelta(days=i % 330),
                    "bank_transfer",
                    "offline",
                    "succeeded",
                    f"CRO {i}",
                )
                for i in range(count)
            ),
        )
    return network, True


def peak_mb():
    """This process's peak RSS. VmHWM starts afresh at exec; ru_maxrss would also count the
    parent's memory at fork (Linux), and the parent holds the loaded rows' garbage."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind, count):
    """Run one export in this (child) process; print its figures as JSON."""
    setup_django(migrate=False)
    from crm.exports import export_donations
    from crm.models import Donation

    network = bench_network(SLUG)
    if kind == "baseline":
        print(json.dumps({"seconds": 0, "bytes": 0, "peak_mb": peak_mb()}))
        return
    pks = Donation.objects.filter(network=network).order_by("pk").values_list("pk", flat=True)
    last_pk = pks[count - 1]
    queryset = Donation.objects.filter(network=network, pk__lte=last_pk)
    size = 0
    with Timer() as timer:
        response = export_donations(queryset, kind, "donations")
        for chunk in response.streaming_content:
            size += len(chunk)
    print(json.dumps({"seconds": timer.seconds, "bytes": size, "peak_mb": peak_mb()}))


def run_child(kind, count):
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--csv", str(count)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=int, default=200_000, help="donations in the CSV export")
    parser.add_argument("--xlsx", type=int, default=20_000, help="donations in the XLSX export")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.csv)
    setup_django()
    with Timer() as loading:
        _network, loaded = load(max(args.csv, args.xlsx))
    if loaded:
        print(f"loaded {max(args.csv, args.xlsx):,} donations with COPY in {loading.seconds:.1f} s")
    baseline = run_child("baseline", 0)
    xlsx = run_child("xlsx", args.xlsx)
    csv = run_child("csv", args.csv)
    print(f"baseline (Django started, no export): peak {baseline['peak_mb']:.0f} MB")
    print(
        f"XLSX {args.xlsx:,} donations: {xlsx['seconds']:.1f} s, "
        f"{xlsx['bytes'] / 1e6:.0f} MB file, peak {xlsx['peak_mb']:.0f} MB"
    )
    print(
        f"CSV  {args.csv:,} donations: {csv['seconds']:.1f} s "
        f"({args.csv / csv['seconds']:,.0f} rows/s), {csv['bytes'] / 1e6:.0f} MB, "
        f"peak {csv['peak_mb']:.0f} MB (+{csv['peak_mb'] - baseline['peak_mb']:.0f} MB)"
    )
    print(f"cores: {os.cpu_count()}; target CSV 1,000,000 < 30 s, peak < 200 MB")


if __name__ == "__main__":
    main()
