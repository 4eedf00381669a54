"""Stripe webhook figures in the production shape, beside a raw PostgreSQL baseline.

Signed first deliveries of `checkout.session.completed`, each for a gift the network receipts
(every acknowledgement is a receipted gift: donor matched, receipt numbered, its email queued),
go through the real view with production settings (DEBUG off) and the database task queue the
production uses (`django_tasks_db`): the email and the fee's reading are queued, and no worker
runs during the measurement, so nothing is sent inline. Stripe is ALWAYS the local stand-in
(started here; the bench refuses to run if `STRIPE_API_BASE` names anything but this machine).

The request only acknowledges (issue 21): it stores the verified event and its apply task in
one commit and answers; a worker applies it (`campaigns.webhooks.apply_event`): the gift
recorded, its receipt numbered, its email and fee reading queued.

Printed, each figure beside its baseline measured in the same run:
- SQL statements and write commits of one first delivery's acknowledgement, and of its apply;
- acknowledgements per second in sequence (Django's test client, in process) beside raw
  PostgreSQL: psycopg replaying the very statements those deliveries ran, one transaction per
  event, on a copy of the database taken just before them (same data, same indexes); ratio;
  the same for the worker's applies (the task's function called in process);
- p50/p99 acknowledgement latency with 50 concurrent senders against gunicorn (2 workers, the
  production's config/gunicorn.py) while 2 task workers (`bin/trama worker`) apply the events
  and send what follows, beside the same senders' forged deliveries (a wrong signature: refused
  after the HMAC check, nothing stored), the floor of any webhook design on that server;
- the confirmation lag: from the acknowledgement to the gift applied (what the donor's return
  page waits for), p50/p99, and receipted gifts applied per second;
- the same with a 200 ms Stripe (the stand-in's `STANDIN_API_LATENCY`) beside a 0 ms Stripe:
  no acknowledgement and no apply of a card gift waits on Stripe;
- an audit: every event applied once, one receipt per gift, numbers gapless; the worker's
  queue per gift.

Needs PostgreSQL (a throw-away database `trama_bench_webhooks`, created and dropped; the
server of `DATABASE_URL` if it is a PostgreSQL URL, else 127.0.0.1:5432).

    nice -n 10 .venv/bin/python bench/webhooks.py [--events N] [--senders N] [--latency S]
        [--threads N] [--task-workers N]
"""

import argparse
import hashlib
import hmac
import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_bench"
DB_NAME = "trama_bench_webhooks"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def refuse_real_stripe():
    """Benches never leave the machine: Stripe is the stand-in this bench starts."""
    base = os.environ.get("STRIPE_API_BASE", "")
    if base and urlsplit(base).hostname not in LOCAL_HOSTS:
        sys.exit(f"refusing to run: STRIPE_API_BASE={base} is not this machine's stand-in")
    if os.environ.get("STRIPE_SECRET_KEY", "").startswith(("sk_live", "rk_live")):
        sys.exit("refusing to run: a live Stripe key is set")


def database_urls():
    given = os.environ.get("DATABASE_URL", "")
    base = given if given.startswith("postgres") else "postgres://postgres@127.0.0.1:5432/x"
    parts = urlsplit(base)
    url = urlunsplit(parts._replace(path=f"/{DB_NAME}"))
    admin = urlunsplit(parts._replace(path="/postgres"))
    return url, admin, parts


def recreate(admin, name, template=None):
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template is not None:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')


def drop(admin, name):
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_standin(latency):
    sys.path.insert(0, str(ROOT))
    from standin.server import start_subprocess

    env = {"STANDIN_API_LATENCY": str(latency), "STANDIN_WEBHOOK_DELAY": "3600"}
    return start_subprocess(port=0, env=env)


def server_env(url, standin):
    media = Path(tempfile.mkdtemp(prefix="trama-bench-webhooks-"))
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",  # production figures: no query log, no debug cursor
        "SECRET_KEY": "bench-only",
        "DATABASE_URL": url,
        "STRIPE_API_BASE": standin,
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "ANYMAIL_WEBHOOK_SECRET": "bench:bench",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "MEDIA_ROOT": str(media / "media"),
        "PRIVATE_ROOT": str(media / "private"),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",  # the production's queue
        # Emails are rendered (their receipt's PDF) and handed to a backend that drops them.
        "MAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "ERROR",
    }


def setup_django(env):
    sys.path.insert(0, str(ROOT))
    os.environ.update(env)
    import io

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    assert urlsplit(settings.STRIPE_API_BASE).hostname in LOCAL_HOSTS, settings.STRIPE_API_BASE
    setup_test_environment()  # lets the test client's "testserver" host in
    # The production logs a line per request (ops.requests): kept out of the printed figures.
    logging.getLogger("ops.requests").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    from campaigns.models import CampaignPage

    network = CampaignPage.objects.order_by("pk").first().network
    network.always_issue_receipts = True  # every acknowledgement is a receipted gift
    network.save(update_fields=["always_issue_receipts"])


def signed(payload):
    stamp = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def make_events(n, tag):
    """`n` pending gifts of € 25 (distinct donors, with codice fiscale and address: each gets
    a receipt) and the body of each one's `checkout.session.completed`."""
    from campaigns.models import CampaignPage
    from crm.models import Donation

    campaign = CampaignPage.objects.order_by("pk").first()
    donations = Donation.objects.bulk_create(
        Donation(
            network=campaign.network,
            campaign=campaign,
            amount_cents=2500,
            wants_receipt=True,
            donor_details={
                "first_name": "Anna",
                "last_name": f"Rossi {tag} {i}",
                "email": f"donor.{tag}.{i}@example.org",
                "street_address": "Via Roma 1",
                "postal_code": "20121",
                "city": "Milano",
                "privacy_notice_version": "2026-11",
            },
            stripe_checkout_session_id=f"cs_{tag}_{i}",
        )
        for i in range(n)
    )
    bodies = []
    for i, donation in enumerate(donations):
        session = {
            "id": donation.stripe_checkout_session_id,
            "object": "checkout.session",
            "amount_total": 2500,
            "currency": "eur",
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


def deliver(client, body):
    return client.post(
        "/stripe/webhook/",
        body,
        content_type="application/json",
        headers={"Stripe-Signature": signed(body)},
    ).status_code


class Counted:
    """SQL statements and write commits of what runs inside (a commit: an atomic block's, or a
    write statement run outside any, autocommit)."""

    def __enter__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.commits = 0
        real_commit = connection.commit

        def commit():
            self.commits += 1
            return real_commit()

        def watch(execute, sql, params, many, context):
            write = sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")
            if write and not connection.in_atomic_block:
                self.commits += 1
            return execute(sql, params, many, context)

        connection.commit = commit
        self.capture = CaptureQueriesContext(connection)
        self.capture.__enter__()
        self.wrapper = connection.execute_wrapper(watch)
        self.wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        from django.db import connection

        self.wrapper.__exit__(*exc)
        self.capture.__exit__(*exc)
        del connection.commit
        self.statements = [q["sql"] for q in self.capture.captured_queries]


def event_id(body):
    return json.loads(body)["id"]


def apply(body):
    """The worker's half of a delivery, in this process: the apply task's function."""
    from campaigns.webhooks import apply_event

    assert apply_event.call(event_id(body)) == "applied"


def cost_of_one(bodies, show_sql=False):
    """Median SQL statements and write commits of one first delivery's acknowledgement, and
    of the worker's apply of it."""
    from django.test import Client

    client = Client()
    acks, applies = [], []
    for body in bodies:
        with Counted() as ack:
            assert deliver(client, body) == 200
        with Counted() as applied:
            apply(body)
        acks.append((len(ack.statements), ack.commits))
        applies.append((len(applied.statements), applied.commits))
    if show_sql:
        print("\n".join(q[:160] for q in ack.statements + ["--- apply:"] + applied.statements))
    middle = len(bodies) // 2
    return sorted(acks)[middle], sorted(applies)[middle]


def sequential(bodies):
    """Acknowledgements per second in sequence, then the worker's applies of them."""
    from django.test import Client

    client = Client()
    started = time.perf_counter()
    statuses = [deliver(client, body) for body in bodies]
    acked = time.perf_counter()
    for body in bodies:
        apply(body)
    applied = time.perf_counter()
    assert set(statuses) == {200}, statuses
    return len(bodies) / (acked - started), len(bodies) / (applied - acked)


def captured(bodies):
    """Deliver and apply `bodies` through Django and keep each one's statements as PostgreSQL
    ran them (psycopg binds client-side: the values are in the text): (acks, applies)."""
    from django.test import Client

    client = Client()
    acks, applies = [], []
    for body in bodies:
        with Counted() as ack:
            assert deliver(client, body) == 200
        with Counted() as applied:
            apply(body)
        acks.append(ack.statements)
        applies.append(applied.statements)
    return acks, applies


def raw_replay(url, per_event):
    """Raw PostgreSQL doing the same work: each event's statements in one transaction."""
    import psycopg

    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for statements in per_event:
            with conn.transaction():
                for sql in statements:
                    conn.execute(sql.encode(), prepare=False)
        elapsed = time.perf_counter() - started
    return len(per_event) / elapsed


def start_server(env, port, threads=None):
    full = {**os.environ, **env, "WEB_BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "2"}
    if threads:
        full["WEB_THREADS"] = str(threads)
    full["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="trama-bench-metrics-")
    proc = subprocess.Popen(  # noqa: S603 (our own entrypoint)
        [str(ROOT / "bin" / "trama"), "web"],
        cwd=ROOT,
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(tempfile.gettempdir()) / "trama-bench-webhooks-gunicorn.log", "a"),  # noqa: SIM115
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError("gunicorn did not start")


def stop_server(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def concurrent(port, bodies, senders, forged=False):
    """`senders` threads, each with its own keep-alive connection, delivering its share of
    `bodies` one after the other. Returns (acks per second, sorted latencies in ms, failures).
    `forged`: each body with a wrong signature (answered 400 once its HMAC is checked, nothing
    stored): the floor of any webhook that verifies signatures, on the same server."""
    shares = [bodies[i::senders] for i in range(senders)]
    latencies, failures = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(senders + 1)

    def run(share):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        barrier.wait()
        for body in share:
            signature = signed(body)
            if forged:
                signature = signature[:-8] + "00000000"
            headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
            started = time.perf_counter()
            try:
                conn.request("POST", "/stripe/webhook/", body, headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == (400 if forged else 200)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            mine.append((time.perf_counter() - started) * 1000)
            bad += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            failures.append(bad)

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, sorted(latencies), sum(failures)


def start_workers(env, count):
    """`count` task workers (`bin/trama worker`, as `bin/trama serve` starts them)."""
    log = open(Path(tempfile.gettempdir()) / "trama-bench-webhooks-worker.log", "a")  # noqa: SIM115
    return [
        subprocess.Popen(  # noqa: S603 (our own entrypoint)
            [str(ROOT / "bin" / "trama"), "worker"],
            cwd=ROOT,
            env={**os.environ, **env, "PROCESS_NAME": f"bench-worker-{i}"},
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        for i in range(count)
    ]


def stop_workers(procs):
    for proc in procs:
        stop_server(proc)


def confirmed(bodies, timeout=600):
    """Wait until the workers applied every event of `bodies`; then the confirmation lag of
    each (acknowledged → applied: what the donor's return page waits for), sorted, in ms, and
    the gifts applied per second (first acknowledgement to last apply)."""
    from campaigns.models import StripeEvent

    ids = [event_id(body) for body in bodies]
    events = StripeEvent.objects.filter(event_id__in=ids)
    deadline = time.monotonic() + timeout
    while events.filter(outcome="applied").count() < len(ids):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not apply every event in time")
        time.sleep(0.5)
    times = list(events.values_list("received_at", "processed_at"))
    lags = sorted((done - got).total_seconds() * 1000 for got, done in times)
    span = max(done for _got, done in times) - min(got for got, _done in times)
    return lags, len(ids) / span.total_seconds()


def under_load(env, args, bodies, forged_bodies=None):
    """gunicorn and the task workers; the senders deliver `bodies` (first, if given, the
    forged baseline), then the workers are waited for. Returns the figures."""
    workers = start_workers(env, args.task_workers)
    server = start_server(env, args.port, args.threads)
    try:
        floor = None
        if forged_bodies is not None:
            floor = concurrent(args.port, forged_bodies, args.senders, forged=True)
        rate, latencies, failed = concurrent(args.port, bodies, args.senders)
        lags, applied_rate = confirmed(bodies)
    finally:
        stop_server(server)
        stop_workers(workers)
    return floor, (rate, latencies, failed), (lags, applied_rate)


def percentile(values, p):
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def audit(expected):
    """Every delivered event applied once, one receipt per gift, numbers gapless."""
    from django.db.models import Count, Max

    from campaigns.models import StripeEvent
    from crm.models import Donation, DonorEmail, Receipt

    applied = StripeEvent.objects.filter(outcome="applied").count()
    gifts = Donation.objects.filter(status="succeeded").count()
    receipts = Receipt.objects.count()
    doubled = (
        Donation.objects.annotate(n=Count("receipts")).filter(n__gt=1).count()
        + DonorEmail.objects.filter(donation__isnull=False)
        .values("donation")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    top = Receipt.objects.aggregate(top=Max("sequence"))["top"] or 0
    ok = applied == gifts == receipts == top == expected and doubled == 0
    return ok, f"{applied} events applied, {gifts} gifts, {receipts} receipts (last no. {top})"


def queued_per_gift(gifts):
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.values("task_path").annotate(n=Count("pk")).order_by("task_path")
    return ", ".join(f"{r['task_path']} {r['n'] / gifts:.2f}" for r in rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300, help="per measured phase")
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.2, help="the slow Stripe, seconds")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--threads", type=int, help="gunicorn's WEB_THREADS (default: its own)")
    parser.add_argument("--task-workers", type=int, default=2, help="bin/trama worker processes")
    parser.add_argument("--show-sql", action="store_true", help="print one delivery's SQL")
    args = parser.parse_args()
    refuse_real_stripe()
    url, admin, _parts = database_urls()
    recreate(admin, DB_NAME)
    fast_standin, stop_fast = start_standin(0)
    slow_standin, stop_slow = start_standin(args.latency)
    env = server_env(url, fast_standin)
    clone = f"{DB_NAME}_raw"
    try:
        setup_django(env)
        from django.db import connection

        n = args.events
        costs = make_events(21, "cost")
        seq = make_events(n, "seq")
        replayed = make_events(n, "raw")
        fast = make_events(n * 2, "fast")
        slow = make_events(n * 2, "slow")
        ack_cost, apply_cost = cost_of_one(costs, args.show_sql)
        ack_rate, apply_rate = sequential(seq)
        connection.close()  # the copy needs the database to itself
        recreate(admin, clone, template=DB_NAME)
        clone_url = urlunsplit(urlsplit(url)._replace(path=f"/{clone}"))
        acks, applies = captured(replayed)
        connection.close()
        raw_ack_rate = raw_replay(clone_url, acks)
        raw_apply_rate = raw_replay(clone_url, applies)
        drop(admin, clone)

        floor, fast_acks, fast_applied = under_load(env, args, fast, forged_bodies=fast)
        connection.close()
        _none, slow_acks, slow_applied = under_load(
            {**env, "STRIPE_API_BASE": slow_standin}, args, slow
        )
        load = os.getloadavg()
        total = len(costs) + len(seq) + len(replayed) + len(fast) + len(slow)
        exact, counts = audit(total)
        tasks = queued_per_gift(total)
        connection.close()
    finally:
        stop_fast()
        stop_slow()
        drop(admin, clone)
        drop(admin, DB_NAME)

    def acks_line(figures):
        rate, lat, failed = figures
        return (
            f"{rate:.0f} acks/s, p50 {percentile(lat, 50):.0f} ms, "
            f"p99 {percentile(lat, 99):.0f} ms, {failed} failed"
        )

    def lag_line(figures):
        lags, rate = figures
        return (
            f"{rate:.0f} receipted gifts applied/s; acknowledged → applied p50 "
            f"{percentile(lags, 50):.0f} ms, p99 {percentile(lags, 99):.0f} ms"
        )

    print(
        f"PostgreSQL, cores: {os.cpu_count()}, load average at the end {load[0]:.1f} {load[1]:.1f}"
    )
    print(f"Stripe: the local stand-in ({fast_standin}; {slow_standin} at {args.latency}s)")
    print(
        f"one first delivery (receipted gift): the request {ack_cost[0]} SQL statements, "
        f"{ack_cost[1]} write commit(s); the worker's apply {apply_cost[0]} statements, "
        f"{apply_cost[1]} write commit(s)"
    )
    print(
        f"in sequence: {ack_rate:.0f} acks/s; raw PostgreSQL, same statements, one transaction "
        f"per event: {raw_ack_rate:.0f}/s; ratio {ack_rate / raw_ack_rate:.2f}x (target >= 0.3x)"
    )
    print(
        f"  the worker's applies in sequence: {apply_rate:.0f}/s; raw PostgreSQL, same "
        f"statements: {raw_apply_rate:.0f}/s; ratio {apply_rate / raw_apply_rate:.2f}x"
    )
    threads = args.threads or "default"
    shape = f"gunicorn 2 workers x {threads} threads, {args.task_workers} task workers"
    print(f"{args.senders} concurrent senders, {shape}, 0 ms Stripe: {acks_line(fast_acks)}")
    print(f"  (target p99 < 100 ms); {lag_line(fast_applied)}")
    print(
        "  baseline, the same server and senders, the same bodies with a wrong signature "
        f"(400 after the HMAC check, nothing stored): {acks_line(floor)}"
    )
    print(
        f"{args.latency * 1000:.0f} ms Stripe: {acks_line(slow_acks)}; {lag_line(slow_applied)}; "
        f"applied/s ratio to 0 ms Stripe {slow_applied[1] / fast_applied[1]:.2f} "
        "(target: no slower)"
    )
    print(f"queued for the worker per gift: {tasks}")
    print(f"exactly once: {'yes' if exact else 'NO'} ({counts})")


if __name__ == "__main__":
    main()
