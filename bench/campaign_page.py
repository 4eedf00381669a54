"""Campaign page figures with 100 and 100,000 succeeded gifts: requests per second, p50 and
p99 latency and SQL queries per request, server time only (Django's test client, no HTTP, no
page cache). "cold" clears the cached totals before every request (the aggregate runs each
time); "warm" is the normal case (totals cached until a gift changes).

Runs on a throw-away SQLite database, or on a throw-away PostgreSQL database next to
`DATABASE_URL=postgres://...` if that is set.

    .venv/bin/python bench/campaign_page.py [--requests N]
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django():
    sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp(prefix="trama-bench-campaign-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        MEDIA_ROOT=str(tmp / "media"),
        TASKS_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
        LOG_LEVEL="ERROR",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test client's "testserver" host in
    if connection.vendor == "postgresql":  # never touch the real database: use test_<name>
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
    else:
        call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())


def add_gifts(campaign, total):
    """Bring the campaign to `total` succeeded gifts (bulk, in batches)."""
    from crm.models import Donation, Donor

    have = Donation.objects.filter(campaign=campaign).count()
    batch = 5000
    while have < total:
        n = min(batch, total - have)
        donors = Donor.objects.bulk_create(
            Donor(network=campaign.network, first_name=f"Donor{have + i}", public_mention=True)
            for i in range(n)
        )
        if donors[0].pk is None:
            donors = list(Donor.objects.order_by("-pk")[:n])
        Donation.objects.bulk_create(
            Donation(
                network=campaign.network,
                campaign=campaign,
                donor=donor,
                amount_cents=2500,
                status="succeeded",
            )
            for donor in donors
        )
        have += n


def measure(client, url, requests, cold):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.models import invalidate_progress

    client.get(url)  # warm up
    timings, queries = [], []
    for _ in range(requests):
        if cold:
            invalidate_progress(page_id(url))
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200
        queries.append(len(ctx.captured_queries))
    timings.sort()
    return {
        "rps": len(timings) / sum(timings),
        "p50": statistics.median(timings) * 1000,
        "p99": timings[int(len(timings) * 0.99) - 1] * 1000,
        "queries": max(queries),
    }


_PAGE_IDS = {}


def page_id(url):
    return _PAGE_IDS[url]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client

    from campaigns.models import CampaignPage

    campaign = CampaignPage.objects.order_by("pk").first()
    campaign.donor_wall = True
    campaign.save()
    url = campaign.url
    _PAGE_IDS[url] = campaign.pk
    client = Client()
    rows = []
    for gifts in (100, 100_000):
        add_gifts(campaign, gifts)
        for cold in (True, False):
            rows.append(
                (gifts, "cold" if cold else "warm", measure(client, url, args.requests, cold))
            )
    if connection.vendor == "postgresql":
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    print(f"database: {connection.vendor}, cores: {os.cpu_count()}, requests: {args.requests}")
    for gifts, kind, m in rows:
        print(
            f"{gifts:>7} gifts, {kind} totals: {m['rps']:6.0f} req/s  p50 {m['p50']:5.1f} ms  "
            f"p99 {m['p99']:5.1f} ms  {m['queries']} queries/request"
        )
    same = {m["queries"] for g, k, m in rows if k == "cold"}
    print(
        f"queries per request equal at 100 and 100,000 gifts: {'yes' if len(same) == 1 else 'NO'}"
    )


if __name__ == "__main__":
    main()
