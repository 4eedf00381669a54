"""Stripe webhook figures: events applied per second, delivered one after the other and by 8
concurrent senders delivering the same events (each must still apply exactly once).

Signed `checkout.session.completed` events go through the real view (signature check, store,
apply, donor matching) via Django's test client with production settings (DEBUG off): server
time only, no HTTP. Also prints the SQL queries one delivery makes (first and repeated). Runs
on a throw-away SQLite database, or on a throw-away PostgreSQL database next to
`DATABASE_URL=postgres://...` if that is set (concurrency only means something there).

    .venv/bin/python bench/webhooks.py [--events N] [--threads N]
"""

import argparse
import hashlib
import hmac
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django():
    sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp(prefix="trama-bench-webhooks-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",  # production figures: no query log, no debug cursor
        SECRET_KEY="bench-only",
        STRIPE_WEBHOOK_SECRET="whsec_bench",
        ANYMAIL_WEBHOOK_SECRET="bench:bench",
        SECURE_SSL_REDIRECT="0",
        MAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        MEDIA_ROOT=str(tmp / "media"),
        TASKS_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
        LOG_LEVEL="ERROR",
    )
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test client's "testserver" host in

    if connection.vendor == "postgresql":  # never touch the real database: use test_<name>
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
    else:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())


def signed(payload, secret):
    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def make_events(n, tag):
    from campaigns.models import CampaignPage
    from crm.models import Donation

    campaign = CampaignPage.objects.order_by("pk").first()
    donations = Donation.objects.bulk_create(
        Donation(
            network=campaign.network,
            campaign=campaign,
            amount_cents=2500,
            donor_details={"first_name": "Anna", "email": f"donor{i % 50}@example.org"},
            stripe_checkout_session_id=f"cs_{tag}_{i}",
        )
        for i in range(n)
    )
    if donations[0].pk is None:  # databases without RETURNING on bulk insert
        donations = list(
            Donation.objects.filter(stripe_checkout_session_id__startswith=f"cs_{tag}_")
        )
    bodies = []
    for i, donation in enumerate(donations):
        session = {
            "id": donation.stripe_checkout_session_id,
            "object": "checkout.session",
            "amount_total": 2500,
            "currency": "eur",  # checked against the gift's (issue 9)
            "client_reference_id": str(donation.pk),
            "metadata": {"donation_id": str(donation.pk)},
            "mode": "payment",
            "payment_intent": f"pi_{tag}_{i}",
            "payment_status": "paid",
            "status": "complete",
        }
        event = {
            "id": f"evt_{tag}_{i}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "data": {"object": session},
            "type": "checkout.session.completed",
        }
        bodies.append(json.dumps(event).encode())
    return bodies


def deliver(client, payload, secret):
    return client.post(
        "/stripe/webhook/",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": signed(payload, secret)},
    ).status_code


def queries_per_delivery(bodies):
    """SQL queries of one first delivery and of one repeated delivery (medians)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    counts = {"first": [], "repeat": []}
    for kind in ("first", "repeat"):
        for body in bodies:
            with CaptureQueriesContext(connection) as ctx:
                assert deliver(client, body, settings.STRIPE_WEBHOOK_SECRET) == 200
            counts[kind].append(len(ctx.captured_queries))
    return {kind: sorted(values)[len(values) // 2] for kind, values in counts.items()}


def sequential(bodies):
    from django.conf import settings
    from django.test import Client

    client = Client()
    started = time.perf_counter()
    statuses = [deliver(client, body, settings.STRIPE_WEBHOOK_SECRET) for body in bodies]
    elapsed = time.perf_counter() - started
    assert set(statuses) == {200}, statuses
    return len(bodies) / elapsed


def concurrent(bodies, threads):
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    barrier = threading.Barrier(threads)
    failures = []

    def run(seed):
        client = Client()
        order = list(bodies)
        random.Random(seed).shuffle(order)
        barrier.wait()
        try:
            for body in order:
                if deliver(client, body, settings.STRIPE_WEBHOOK_SECRET) != 200:
                    failures.append(body)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(seed,)) for seed in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    client = Client()
    for body in failures:  # what Stripe would retry
        deliver(client, body, settings.STRIPE_WEBHOOK_SECRET)
    elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, len(bodies) * threads / elapsed, len(failures)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from campaigns.models import StripeEvent
    from crm.models import Donation

    queries = queries_per_delivery(make_events(20, "sql"))
    seq_rate = sequential(make_events(args.events, "seq"))
    conc_rate, delivery_rate, retried = concurrent(make_events(args.events, "conc"), args.threads)
    applied = Donation.objects.filter(status="succeeded").count()
    expected = 2 * args.events + 20
    exactly_once = applied == expected and StripeEvent.objects.count() == expected
    if connection.vendor == "postgresql":
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    print(f"database: {connection.vendor}, cores: {os.cpu_count()}, events: {args.events}")
    print(
        f"SQL queries per delivery: {queries['first']} first, {queries['repeat']} repeated "
        "(BEGIN/COMMIT/SAVEPOINT included)"
    )
    print(f"sequential: {seq_rate:.0f} events applied/s")
    print(
        f"{args.threads} concurrent senders, same events: {conc_rate:.0f} events applied/s "
        f"({delivery_rate:.0f} deliveries/s, {retried} retried), ratio to sequential "
        f"{conc_rate / seq_rate:.2f}"
    )
    print(f"exactly once: {'yes' if exactly_once else 'NO'} ({applied} donations succeeded)")


if __name__ == "__main__":
    main()
