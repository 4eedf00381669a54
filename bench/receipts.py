"""Receipt figures: PDFs per second in one process and with 2 worker processes, and the time
and peak memory of `issue_annual_statements` (issue + render, no email).

Runs on a throw-away SQLite database and media folder. Default sizes are small so `make bench`
stays quick; `--full` uses the sizes of design/quality.md (10,000 donors).

    .venv/bin/python bench/receipts.py [--full] [--receipts N] [--donors N]
"""

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Spawned workers inherit the parent's folder through the environment.
TMP = Path(
    os.environ.setdefault("TRAMA_BENCH_DIR", tempfile.mkdtemp(prefix="trama-bench-receipts-"))
)


def setup_django(tasks_backend):
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{TMP / 'bench.sqlite3'}",
        MEDIA_ROOT=str(TMP / "media"),
        TASKS_BACKEND=tasks_backend,
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    import logging

    from django.db import connections

    logging.getLogger("django.tasks").setLevel(logging.WARNING)

    # Two writer processes on SQLite: take the write lock at BEGIN and wait for it, instead of
    # failing when a read transaction tries to upgrade.
    connections["default"].settings_dict.setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=30
    )


def make_gifts(network, count, year=2026):
    import datetime

    from crm.models import Donation, Donor

    donors = Donor.objects.bulk_create(
        Donor(
            network=network,
            first_name="Lucia",
            last_name=f"D'Alò {i}",
            codice_fiscale="RSSMRA85T10A562S",
            street_address="Via Roma 10",
            postal_code="10121",
            city="Torino",
        )
        for i in range(count)
    )
    Donation.objects.bulk_create(
        Donation(
            network=network,
            donor=d,
            amount_cents=2500 + i,
            received_on=datetime.date(year, 1 + i % 12, 1 + i % 28),
            status=Donation.Status.SUCCEEDED,
        )
        for i, d in enumerate(donors)
    )


def render(ids):
    """Worker: render the given receipts' PDFs (what the render task does)."""
    setup_django("django.tasks.backends.dummy.DummyBackend")
    from django.db import connections

    from crm.models import Receipt
    from crm.receipts import ensure_receipt_pdf

    for receipt in Receipt.objects.filter(pk__in=ids):
        ensure_receipt_pdf(receipt)
    connections.close_all()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="10,000 donors, 200 receipts")
    parser.add_argument("--receipts", type=int)
    parser.add_argument("--donors", type=int)
    args = parser.parse_args()
    n_receipts = args.receipts or (200 if args.full else 40)
    n_donors = args.donors or (10_000 if args.full else 300)

    setup_django("django.tasks.backends.dummy.DummyBackend")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from crm.models import Donation, Network, Receipt
    from crm.receipts import issue_annual_statements, issue_receipt

    network = Network.objects.create(
        name="Bench",
        slug="bench",
        legal_name="Associazione Bench ETS",
        codice_fiscale="92012340011",
        entity_kind="aps",
        street_address="Via Verdi 1",
        postal_code="20121",
        city="Milano",
        signer_name="Maria Rossi",
    )
    make_gifts(network, 3 * n_receipts, year=2025)
    gifts = list(Donation.objects.filter(received_on__year=2025).order_by("pk"))

    # Numbering alone (the locked transaction), then rendering: one process, then two.
    start = time.perf_counter()
    issued = [issue_receipt([g]).pk for g in gifts]
    numbering_rate = len(issued) / (time.perf_counter() - start)

    first = issued[:n_receipts]
    start = time.perf_counter()
    render(first)
    one = n_receipts / (time.perf_counter() - start)

    second = issued[n_receipts : 3 * n_receipts]
    ctx = multiprocessing.get_context("spawn")
    halves = [second[0::2], second[1::2]]
    start = time.perf_counter()
    workers = [ctx.Process(target=render, args=(h,)) for h in halves]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    two = len(second) / (time.perf_counter() - start)
    assert Receipt.objects.filter(pdf_sha256="").count() == 0

    # Yearly statements: issue and render inline (Immediate backend), no email.
    from django.test import override_settings

    make_gifts(network, n_donors, year=2026)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with override_settings(
        TASKS={"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    ):
        start = time.perf_counter()
        count = issue_annual_statements(2026, email=False)
        annual_time = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"cores: {os.cpu_count()}  temp: {TMP}")
    print(f"receipt numbering (issue only): {numbering_rate:.0f} receipts/s")
    print(f"receipt PDFs, 1 process:   {one:.1f} receipts/s ({n_receipts} receipts)")
    print(f"receipt PDFs, 2 processes: {two:.1f} receipts/s ({len(second)} receipts)")
    print(f"2 processes / 1 process:   {two / one:.2f}x")
    print(
        f"issue_annual_statements, {count} donors (issue + PDF): {annual_time:.1f} s, "
        f"peak RSS {peak:.0f} MB (before: {rss_before:.0f} MB)"
    )
    if not args.full:
        per_donor = annual_time / max(count, 1)
        print(f"  projected for 10,000 donors: {per_donor * 10_000 / 60:.1f} min (--full measures)")


if __name__ == "__main__":
    main()
