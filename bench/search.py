"""Donor search among N donors on PostgreSQL: p50/p99 of what the admin's donor list does for
a search (crm.search.search_donors, then the count and the first page of 20), with migration
0002's trigram indexes against the same queries before them (the old per-column query, no
trigram indexes; dropped inside a transaction that is rolled back).

Donors are loaded once with COPY and kept for the next run. Target (docs/design/quality.md): p50 <
30 ms among 1,000,000 donors.

    .venv/bin/python bench/search.py                   # 200,000 donors, quick
    .venv/bin/python bench/search.py --donors 1000000  # the figure of docs/design/quality.md
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/trama_bench.
"""

import argparse
import os
import random
import statistics

from _common import DONOR_FIELDS, Timer, copy_rows, donor_rows, setup_django

TRIGRAM_INDEXES = ("crm_donor_name_trgm", "crm_donor_email_trgm", "crm_donor_cf_trgm")


def load_donors(network, count):
    from django.db import connection, transaction

    from crm.models import Donor

    if Donor.objects.filter(network=network).count() == count:
        return False
    migration = __import__("crm.migrations.0002_postgres_search", fromlist=["x"])
    with transaction.atomic():
        Donor.objects.filter(network=network).delete()
        # Loading is much faster with the GIN indexes built once at the end.
        migration.drop_indexes(None, connection.schema_editor())
        copy_rows(Donor, DONOR_FIELDS, donor_rows(network.pk, count))
    with connection.schema_editor() as editor:
        migration.create_indexes(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_donor")
    return True


def queries(network, count, rng):
    """What treasurers type: surname and name, a surname, an email's start, a whole or partial
    codice fiscale (taken from real rows)."""
    from crm.models import Donor

    sample = list(
        Donor.objects.filter(network=network)
        .order_by()
        .values_list("first_name", "last_name", "email", "codice_fiscale")[: min(count, 5000)]
    )
    made = []
    for _ in range(count):
        first, last, email, code = rng.choice(sample)
        made += [
            f"{last} {first[:3]}",
            last,
            email[: email.index("@") + 3],
            code,
            code[:8],
        ]
    return made


def search_before(queryset, query):
    """The admin's donor search as it was before migration 0002 (per-column lookups)."""
    from django.db.models import Q

    from crm.validators import normalise_code

    if "@" in query:
        return queryset.filter(email__istartswith=query.lower())
    code = normalise_code(query)
    if len(code) in (11, 16) and code.isalnum() and any(c.isdigit() for c in code):
        return queryset.filter(Q(codice_fiscale=code) | Q(partita_iva=code))
    condition = Q()
    for word in query.split():
        condition &= (
            Q(last_name__istartswith=word)
            | Q(first_name__istartswith=word)
            | Q(organisation_name__istartswith=word)
        )
    return queryset.filter(condition)


def admin_page(search, network, query):
    """The donor list's work for one search: the count for the paginator and page one."""
    from crm.models import Donor, Network

    scoped = Donor.objects.filter(network__in=Network.objects.filter(pk=network.pk))
    found = search(scoped, query)
    total = found.count()
    page = list(found[:20])  # the admin's default order: Donor.Meta.ordering
    return total, page


def measure(search, network, texts):
    times = []
    for text in texts:
        with Timer() as timer:
            admin_page(search, network, text)
        times.append(timer.seconds * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--donors", type=int, default=200_000)
    parser.add_argument("--searches", type=int, default=60, help="rounds of the 5 query kinds")
    parser.add_argument("--skip-before", action="store_true", help="only the indexed figure")
    args = parser.parse_args()
    url = setup_django()
    from _common import bench_network
    from django.db import connection, transaction

    from crm.search import search_donors

    if connection.vendor != "postgresql":
        raise SystemExit(f"bench/search.py needs PostgreSQL, DATABASE_URL is {url}")
    network = bench_network()
    with Timer() as load:
        loaded = load_donors(network, args.donors)
    if loaded:
        print(
            f"loaded {args.donors:,} donors with COPY and built the indexes in {load.seconds:.1f} s"
        )
    rng = random.Random(7)
    texts = queries(network, args.searches, rng)
    measure(search_donors, network, texts[:50])  # warm the cache
    after = measure(search_donors, network, texts)
    before = None
    if not args.skip_before:
        with transaction.atomic():
            with connection.cursor() as cursor:
                for name in TRIGRAM_INDEXES:
                    cursor.execute(f"DROP INDEX {name}")
            # seconds per search at 1,000,000 donors: 10 rounds of the 5 kinds are enough
            slow_texts = texts[:50]
            measure(search_before, network, slow_texts[:5])
            before = measure(search_before, network, slow_texts)
            transaction.set_rollback(True)  # the indexes come back
    print(f"donor search among {args.donors:,} donors, {len(texts)} searches, PostgreSQL")
    if before:
        print(
            f"before (per-column query, no trigram indexes): p50 {before[0]:.1f} ms, "
            f"p99 {before[1]:.1f} ms"
        )
    print(
        f"after (crm.search + trigram indexes):          p50 {after[0]:.1f} ms, "
        f"p99 {after[1]:.1f} ms" + (f", p50 {before[0] / after[0]:.1f}x faster" if before else "")
    )
    print(f"cores: {os.cpu_count()}; target p50 < 30 ms at 1,000,000 donors")


if __name__ == "__main__":
    main()
