"""Receipt figures: PDFs per second in one process and with 2 worker processes (warmed up,
timed between barriers, so process start-up is excluded), the time and peak memory of the
yearly statements (issue + render with `--workers`, no email), the same statements started
from the admin's path (a `StatementRun` queued and carried out by `--workers` real
`manage.py run_worker` processes, timed until every PDF is stored), and the Agenzia Entrate
data (crm.tax_data and its XLSX) for `--ade-donors` donors. `--logo-only`: one process's
receipts for a network whose logo was uploaded at 2,000 x 1,000 px, as printed (scaled to its
box at 300 dpi, crm.pdf) beside the upload inlined as it is (the former way), and without logo.

Runs on a throw-away SQLite database and media folder. Default sizes are small so `make bench`
stays quick; `--full` (or `--donors 10000`) uses the sizes of docs/design/quality.md.

    .venv/bin/python bench/receipts.py [--full] [--receipts N] [--donors N] [--workers N]
        [--run-donors N] [--ade-donors N] [--logo-only]
"""

import argparse
import multiprocessing
import os
import resource
import subprocess
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
        PRIVATE_ROOT=str(TMP / "private"),
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


def render_worker(ids, start_barrier, done_barrier):
    """Worker process: start Django, warm up (fonts, stylesheet, templates) on one receipt
    without storing it, then render and store `ids` between two barriers shared with the
    parent, so the timed part excludes process start-up and shutdown."""
    setup_django("django.tasks.backends.dummy.DummyBackend")
    from django.db import connections

    from crm import pdf
    from crm.models import Receipt
    from crm.receipt_files import ensure_receipt_pdf

    pdf.render_receipt(Receipt.objects.get(pk=ids[0]))
    start_barrier.wait()
    for receipt_id in ids:
        ensure_receipt_pdf(Receipt(pk=receipt_id))
    done_barrier.wait()
    connections.close_all()


def annual_worker(year, workers, queue):
    """The yearly statements in a fresh process (so its peak memory is its own): the same
    passes as `manage.py issue_annual_statements YEAR --no-email --workers N`."""
    setup_django("django.tasks.backends.dummy.DummyBackend")
    from crm.annual_statements import issue_statements, render_statements

    start = time.perf_counter()
    issued = issue_statements(year, enqueue_render=False)
    issue_time = time.perf_counter() - start
    failed = render_statements(year, workers=workers)
    total = time.perf_counter() - start
    queue.put(
        {
            "issued": issued,
            "failed": len(failed),
            "issue_time": issue_time,
            "total": total,
            "rss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_workers": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        }
    )


def valid_cf(i):
    """A distinct valid personal codice fiscale for each `i` (the published check algorithm)."""
    odd = dict(
        zip(
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20]
            + [11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23],
            strict=True,
        )
    )
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    surname = "".join(letters[(i // 26**k) % 26] for k in range(3))
    body = f"{surname}GPP{50 + i % 50:02d}A{i % 28 + 1:02d}H{i % 1000:03d}"
    total = sum(
        odd[c] if n % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65)
        for n, c in enumerate(body)
    )
    return body + chr(65 + total % 26)


def queue_run(network_id, year, queue):
    """The admin's "Issue" button: a run queued on the database queue (a fresh process, so the
    database task backend is the one set up)."""
    setup_django("django_tasks_db.DatabaseBackend")
    from crm.models import Network
    from crm.statement_tasks import start_run

    run = start_run(Network.objects.get(pk=network_id), year, None, send_email=False)
    queue.put(run.pk)


def peak_rss_mb(pid):
    """VmHWM of a live process, in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0


def admin_run(network, n_donors, workers, ctx):
    """Time the yearly statements from the admin path with `workers` run_worker processes."""
    from django.db import connections

    from crm.models import Donation, StatementRun
    from crm.statement_runs import results

    make_gifts(network, n_donors, year=2024)
    Donation.objects.filter(network=network, received_on__year=2024).update(wants_receipt=True)
    connections.close_all()
    env = {**os.environ, "TASKS_BACKEND": "django_tasks_db.DatabaseBackend"}
    queue = ctx.Queue()
    start = time.perf_counter()
    queuer = ctx.Process(target=queue_run, args=(network.pk, 2024, queue))
    queuer.start()
    run_id = queue.get()
    queuer.join()
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    peaks, samples = [0.0] * workers, []
    try:
        while True:
            time.sleep(2)
            for n, proc in enumerate(procs):
                peaks[n] = max(peaks[n], peak_rss_mb(proc.pid))
            run = StatementRun.objects.get(pk=run_id)
            state = results(run)
            samples.append((time.perf_counter() - start, max(peaks)))
            if state["complete"]:
                break
            if time.perf_counter() - start > 3600:
                raise RuntimeError(f"the run did not finish: {state}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)
        connections.close_all()
    elapsed = time.perf_counter() - start
    assert state["issued"] == n_donors and not state["pdf_failed"], state
    half = [peak for t, peak in samples if t <= elapsed / 2]
    return elapsed, max(peaks), (half[-1] if half else 0)


def ade_data(network, n_donors):
    """Time the Agenzia Entrate data of `n_donors` donors (a gift each, one in ten refunded
    the next year, one in twenty in cash), and its XLSX."""
    import datetime

    from crm.models import Donation, Donor, Refund
    from crm.tax_data import tax_data
    from crm.tax_exports import write_workbook

    batch = 20_000
    for first in range(0, n_donors, batch):
        donors = Donor.objects.bulk_create(
            Donor(network=network, first_name="Ada", last_name=f"N{i}", codice_fiscale=valid_cf(i))
            for i in range(first, min(first + batch, n_donors))
        )
        gifts = Donation.objects.bulk_create(
            Donation(
                network=network,
                donor=d,
                amount_cents=1000 + i % 5000,
                received_on=datetime.date(2023, 1 + i % 12, 1 + i % 28),
                status=Donation.Status.SUCCEEDED,
                method="cash" if i % 20 == 0 else "card",
            )
            for i, d in enumerate(donors, start=first)
        )
        Refund.objects.bulk_create(
            Refund(
                network=network,
                donation=g,
                amount_cents=500,
                refunded_on=datetime.date(2024, 2, 1),
            )
            for g in gifts[::10]
        )
    start = time.perf_counter()
    gifts_data = tax_data(network, 2023)
    query_time = time.perf_counter() - start
    with tempfile.TemporaryFile() as output:
        write_workbook(gifts_data, output)
    total = time.perf_counter() - start
    refunds = tax_data(network, 2024)
    assert len(gifts_data.rows) == n_donors - n_donors // 20, len(gifts_data.rows)
    # one in ten refunded, but those in cash (one in twenty) are left out
    assert len(refunds.refunds) == sum(1 for i in range(0, n_donors, 10) if i % 20)
    return query_time, total, len(gifts_data.rows), len(gifts_data.left_out)


def logo_figures(network, gifts):
    """CPU ms and size per receipt PDF: no logo, a 2,000 x 1,000 px logo as printed, and the
    same logo inlined as uploaded (the renderer's scaling switched off)."""
    import io
    import random

    from django.core.files.base import ContentFile
    from PIL import Image
    from wagtail.images import get_image_model

    from crm import pdf
    from crm.models import Receipt
    from crm.receipts import issue_receipt

    rng = random.Random(7)
    image = Image.new("RGB", (2000, 1000), "white")
    for x in range(0, 2000, 3):  # a photo-like logo: a real file size, not a flat colour
        for y in range(0, 1000, 3):
            image.putpixel((x, y), (rng.randrange(256), 80, 120))
    upload = io.BytesIO()
    image.save(upload, "PNG")
    no_logo = [issue_receipt([g], enqueue_render=False) for g in gifts[:10]]
    network.logo = get_image_model().objects.create(
        title="Logo", file=ContentFile(upload.getvalue(), name="bench-logo.png")
    )
    network.save()
    with_logo = [issue_receipt([g], enqueue_render=False) for g in gifts[10:20]]

    def measure(receipts):
        receipts = [Receipt.objects.get(pk=r.pk) for r in receipts]
        pdf.render_receipt(receipts[0])  # warm: fonts, stylesheet, the logo's cache
        start = time.process_time()
        sizes = [len(pdf.render_receipt(r)) for r in receipts]
        cpu = (time.process_time() - start) / len(receipts) * 1000
        return cpu, sum(sizes) / len(sizes) / 1024

    figures = {"no logo": measure(no_logo), "logo, scaled to print": measure(with_logo)}
    scaled, pdf._print_sized = pdf._print_sized, lambda data: (data, "image/png")
    pdf._logo_data_uri_cached.cache_clear()
    try:
        figures["logo, inlined as uploaded"] = measure(with_logo)
    finally:
        pdf._print_sized = scaled
        pdf._logo_data_uri_cached.cache_clear()
    print(f"logo uploaded: {len(upload.getvalue()) / 1024:.0f} KB, 2000 x 1000 px")
    for name, (cpu, size) in figures.items():
        print(f"receipt PDF, {name}: {cpu:.1f} ms CPU, {size:.0f} KB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="10,000 donors, 200 receipts")
    parser.add_argument("--receipts", type=int)
    parser.add_argument("--donors", type=int)
    parser.add_argument("--workers", type=int, default=2, help="for the yearly statements")
    parser.add_argument("--run-donors", type=int, help="yearly statements from the admin path")
    parser.add_argument("--ade-donors", type=int, help="Agenzia Entrate data")
    parser.add_argument("--ade-only", action="store_true", help="only the Agenzia Entrate data")
    parser.add_argument("--logo-only", action="store_true", help="only the logo's cost per PDF")
    args = parser.parse_args()
    n_run = args.run_donors or (10_000 if args.full else 300)
    n_ade = args.ade_donors or (100_000 if args.full else 5_000)
    n_receipts = args.receipts or (200 if args.full else 60)
    n_donors = args.donors or (10_000 if args.full else 400)

    setup_django("django.tasks.backends.dummy.DummyBackend")
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    from crm import pdf
    from crm.models import Donation, Network, Receipt
    from crm.receipt_files import ensure_receipt_pdf
    from crm.receipts import issue_receipt

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
    if args.ade_only:
        ade_query, ade_total, ade_rows, ade_left = ade_data(network, n_ade)
        print(
            f"Agenzia Entrate data, {n_ade} donors: {ade_query:.1f} s for the data "
            f"({ade_rows} rows, {ade_left} left out), {ade_total:.1f} s with the XLSX"
        )
        return
    if args.logo_only:
        make_gifts(network, 20, year=2025)
        logo_figures(network, list(Donation.objects.order_by("pk")))
        return
    make_gifts(network, 3 * n_receipts + 1, year=2025)
    gifts = list(Donation.objects.filter(received_on__year=2025).order_by("pk"))

    # Numbering alone (the locked transaction), then rendering: one process, then two.
    start = time.perf_counter()
    issued = [issue_receipt([g], enqueue_render=False).pk for g in gifts]
    numbering_rate = len(issued) / (time.perf_counter() - start)

    warm, first = issued[0], issued[1 : n_receipts + 1]
    ensure_receipt_pdf(Receipt(pk=warm))  # warm up: fonts, stylesheet, templates

    # Baseline in the same run: WeasyPrint's plain use (a new font configuration and the
    # stylesheet parsed again for every document), rendering only.
    from weasyprint import HTML

    inline = f"<style>{pdf.STYLESHEET.read_text()}</style></head>"
    sample = [Receipt.objects.get(pk=pk) for pk in first[:20]]
    start = time.perf_counter()
    for receipt in sample:
        html = pdf.render_html(receipt).replace("</head>", inline)
        HTML(string=html, url_fetcher=pdf._url_fetcher()).write_pdf()
    plain = len(sample) / (time.perf_counter() - start)
    start = time.perf_counter()
    for receipt_id in first:
        ensure_receipt_pdf(Receipt(pk=receipt_id))
    one = n_receipts / (time.perf_counter() - start)

    second = issued[n_receipts + 1 :]
    ctx = multiprocessing.get_context("spawn")
    start_barrier, done_barrier = ctx.Barrier(3), ctx.Barrier(3)
    connections.close_all()
    workers = [
        ctx.Process(target=render_worker, args=(half, start_barrier, done_barrier))
        for half in (second[0::2], second[1::2])
    ]
    for w in workers:
        w.start()
    start_barrier.wait()
    start = time.perf_counter()
    done_barrier.wait()
    two = len(second) / (time.perf_counter() - start)
    for w in workers:
        w.join()
    assert Receipt.objects.filter(pdf_sha256="").count() == 0

    # Yearly statements for n_donors donors, in a fresh process (peak memory of its own).
    make_gifts(network, n_donors, year=2026)
    connections.close_all()
    queue = ctx.Queue()
    annual = ctx.Process(target=annual_worker, args=(2026, args.workers, queue))
    annual.start()
    stats = queue.get()
    annual.join()
    assert stats["issued"] == n_donors and not stats["failed"], stats

    # The same statements from the admin's path, then the Agenzia Entrate data.
    from crm.models import Network as NetworkModel

    def another(slug):
        fields = {
            f.name: getattr(network, f.name)
            for f in NetworkModel._meta.concrete_fields
            if f.name not in ("id", "slug", "communicators_group", "treasurers_group", "collection")
        }
        return NetworkModel.objects.create(**{**fields, "slug": slug, "name": slug})

    run_time, run_peak, run_peak_half = admin_run(another("bench-run"), n_run, args.workers, ctx)
    ade_query, ade_total, ade_rows, ade_left = ade_data(another("bench-ade"), n_ade)

    print(f"cores: {os.cpu_count()}  temp: {TMP}")
    print(f"receipt numbering (issue only): {numbering_rate:.0f} receipts/s")
    print(f"baseline, plain WeasyPrint: {plain:.1f} receipts/s (render only, same run)")
    print(f"receipt PDFs, 1 process:   {one:.1f} receipts/s ({n_receipts} receipts, warm)")
    print(f"1 process / baseline:      {one / plain:.2f}x")
    print(f"receipt PDFs, 2 processes: {two:.1f} receipts/s ({len(second)} receipts, warm)")
    print(f"2 processes / 1 process:   {two / one:.2f}x")
    per_donor = stats["total"] / n_donors
    print(
        f"issue_annual_statements --workers {args.workers}, {n_donors} donors: "
        f"{stats['total']:.1f} s (issue {stats['issue_time']:.1f} s), "
        f"{n_donors / stats['total']:.1f} donors/s; projected for 10,000 donors: "
        f"{per_donor * 10_000 / 60:.1f} min"
    )
    print(
        f"peak RSS: command {stats['rss_self']:.0f} MB, largest render worker "
        f"{stats['rss_workers']:.0f} MB"
    )
    print(
        f"yearly statements from the admin (StatementRun, {args.workers} run_worker "
        f"processes), {n_run} donors: {run_time:.1f} s until every PDF is stored, "
        f"{n_run / run_time:.1f} donors/s; projected for 10,000 donors: "
        f"{run_time / n_run * 10_000 / 60:.1f} min"
    )
    print(
        f"peak RSS of the largest worker: {run_peak_half:.0f} MB at half time, "
        f"{run_peak:.0f} MB at the end"
    )
    print(
        f"Agenzia Entrate data, {n_ade} donors: {ade_query:.1f} s for the data "
        f"({ade_rows} rows, {ade_left} left out), {ade_total:.1f} s with the XLSX"
    )


if __name__ == "__main__":
    main()
