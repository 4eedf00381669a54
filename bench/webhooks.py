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
- acknowledgements per second in sequence (production's WSGI application, config/wsgi.py,
  called in process) beside raw PostgreSQL: psycopg replaying the very statements those
  deliveries ran, one transaction per event, on a copy of the database taken just before them
  (same data, same indexes); ratio; the same for the worker's applies (the task's function
  called in process);
- CPU per acknowledgement in process (the request's Python, and its PostgreSQL backend's from
  /proc), interleaved: through the webhook's WSGI exit (`campaigns.webhook_exit`, production),
  through Django's handler alone (the stack before the exit), and a forged delivery;
- p50/p99 acknowledgement latency with 50 concurrent senders against gunicorn (2 workers, the
  production's config/gunicorn.py) while 2 task workers (`bin/trama worker`) apply the events
  and send what follows, beside the same senders' forged deliveries (a wrong signature: refused
  after the HMAC check, nothing stored), the floor of any webhook design on that server. The
  senders are wrk (Debian's package: C, one thread, keep-alive connections) sending pre-signed
  deliveries (bench/webhook_senders.lua), so the driver takes little of the 2 cores; the CPU
  each request cost gunicorn, PostgreSQL, wrk and the task workers meanwhile is printed (from
  /proc, 10 ms ticks); then the same with gunicorn's sync workers (`WEB_THREADS=1`);
- the confirmation lag: from the acknowledgement to the gift applied (what the donor's return
  page waits for), p50/p99, and receipted gifts applied per second;
- the same with a 200 ms Stripe (the stand-in's `STANDIN_API_LATENCY`) beside a 0 ms Stripe:
  no acknowledgement and no apply of a card gift waits on Stripe;
- an audit: every event applied once, one receipt per gift, numbers gapless; the worker's
  queue per gift.

Needs PostgreSQL (a throw-away database `trama_bench_webhooks`, created and dropped; the
server of `DATABASE_URL` if it is a PostgreSQL URL, else 127.0.0.1:5432).

    nice -n 10 .venv/bin/python bench/webhooks.py [--events N] [--senders N] [--latency S]
        [--threads N] [--task-workers N] [--no-sync]
"""

import argparse
import hashlib
import hmac
import http.client
import io
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
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


def wsgi_post(app, body, signature):
    """POST `body` to the webhook through the WSGI application `app`, in this process, as
    gunicorn calls it; returns the status code."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/stripe/webhook/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_STRIPE_SIGNATURE": signature,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
    }
    status = []
    chunks = app(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()  # Django's handler: request_finished
    return int(status[0].split()[0])


def deliver(body, app=None):
    """A signed first delivery through production's WSGI application (config/wsgi.py: the
    webhook's exit in front of Django), or through `app`."""
    if app is None:
        from config.wsgi import application as app
    return wsgi_post(app, body, signed(body))


def forged(body):
    return signed(body)[:-8] + "00000000"


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
    acks, applies = [], []
    for body in bodies:
        with Counted() as ack:
            assert deliver(body) == 200
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
    started = time.perf_counter()
    statuses = [deliver(body) for body in bodies]
    acked = time.perf_counter()
    for body in bodies:
        apply(body)
    applied = time.perf_counter()
    assert set(statuses) == {200}, statuses
    return len(bodies) / (acked - started), len(bodies) / (applied - acked)


def backend_cpu():
    """CPU seconds so far of this process's PostgreSQL backend."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return process_cpu(pid)


def process_cpu(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_in_process(bodies):
    """CPU per acknowledgement in this process (µs: the request's Python, its PostgreSQL
    backend), each way in turn on its share of `bodies`: through the webhook's WSGI exit
    (config/wsgi.py, production's), through Django's handler alone (the stack before the exit),
    and a forged delivery (refused after the HMAC check) through the exit."""
    from config.wsgi import application, django_application

    ways = {
        "exit": lambda body: deliver(body, application),
        "django": lambda body: deliver(body, django_application),
        "forged": lambda body: wsgi_post(application, body, forged(body)),
    }
    spent = {way: [0.0, 0.0, 0] for way in ways}
    rounds = 4
    share = len(bodies) // (2 * rounds)
    chunks = [bodies[i * share : (i + 1) * share] for i in range(2 * rounds)]
    for r in range(rounds):  # interleaved, so that the machine's load drifts alike on each
        for way, chunk in (("exit", chunks[2 * r]), ("django", chunks[2 * r + 1])):
            for warm in chunk[:3]:
                ways[way](warm)
            _measure(ways[way], chunk[3:], spent[way])
        _measure(ways["forged"], chunks[2 * r][: share // 2], spent["forged"])
    return {way: (py / n * 1e6, pg / n * 1e6) for way, (py, pg, n) in spent.items()}


def _measure(send, chunk, into):
    pg, py = backend_cpu(), time.process_time()
    for body in chunk:
        send(body)
    into[0] += time.process_time() - py
    into[1] += backend_cpu() - pg
    into[2] += len(chunk)


def captured(bodies):
    """Deliver and apply `bodies` through Django and keep each one's statements as PostgreSQL
    ran them (psycopg binds client-side: the values are in the text): (acks, applies)."""
    acks, applies = [], []
    for body in bodies:
        with Counted() as ack:
            assert deliver(body) == 200
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
    GROUPS["server"].add(proc.pid)
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
    """`senders` keep-alive connections of wrk (Debian's package: C, one thread, so the senders
    take little of the 2 cores) POST each of `bodies` once, signed just before; wrk ends when
    every delivery is answered (bench/webhook_senders.lua). `forged`: each body with a wrong
    signature (answered 400 once its HMAC is checked, nothing stored): the floor of any webhook
    that verifies signatures, on the same server. Returns a dict: acks per second, p50 and
    p99 latency (ms), failures, repeats (the few extra requests wrk sent while the last
    answers came), and the CPU seconds of the server, the task workers, PostgreSQL and wrk."""
    folder = Path(tempfile.mkdtemp(prefix="trama-bench-wrk-"))
    deliveries, marker = folder / "deliveries", folder / "answered"
    with deliveries.open("w") as out:
        for body in bodies:
            out.write(f"{forged_signature(body) if forged else signed(body)}\t{body.decode()}\n")
    command = ["wrk", "-t1", f"-c{senders}", "-d120s", "--timeout", "30s"]
    command += ["-s", str(ROOT / "bench" / "webhook_senders.lua")]
    command += [f"http://127.0.0.1:{port}/stripe/webhook/", "--", str(deliveries), str(marker)]
    command += ["400" if forged else "200"]
    cpu_before, driver_before = cpu_snapshot(), children_cpu()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
    while not marker.exists() and proc.poll() is None:
        time.sleep(0.01)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # wrk prints its figures over the time it ran
    output, _ = proc.communicate(timeout=60)
    spent = {k: v - cpu_before[k] for k, v in cpu_snapshot().items()}
    spent["driver"] = children_cpu() - driver_before
    result = next((line for line in output.splitlines() if line.startswith("RESULT ")), None)
    if result is None or not marker.exists():
        raise RuntimeError(f"wrk did not finish: {output}")
    figures = dict(item.split("=") for item in result.split()[1:])
    return {
        "rate": len(bodies) / (int(figures["duration_us"]) / 1e6),
        "p50": int(figures["p50_us"]) / 1000,
        "p99": int(figures["p99_us"]) / 1000,
        "failed": int(marker.read_text()) + int(figures["errors"]),
        "repeats": int(figures["requests"]) - len(bodies),
        "cpu": spent,
        "count": len(bodies),
    }


def forged_signature(body):
    return forged(body)


# The processes whose CPU a concurrent run counts (process groups: each is started in a
# session of its own), filled by start_server and start_workers.
GROUPS = {"server": set(), "task workers": set()}


def cpu_snapshot():
    """CPU seconds so far of the live processes of each group of GROUPS, and of the
    PostgreSQL backends of the bench's database."""
    totals = dict.fromkeys([*GROUPS, "postgres"], 0.0)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            group = next((g for g, ids in GROUPS.items() if int(fields[2]) in ids), None)
            if group is None:
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
                mine = cmdline.startswith(b"postgres: ") and f" {DB_NAME} ".encode() in cmdline
                group = "postgres" if mine else None
        except (OSError, IndexError, ValueError):
            continue
        if group:
            totals[group] += cpu
    return totals


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_workers(env, count):
    """`count` task workers (`bin/trama worker`, as `bin/trama serve` starts them)."""
    log = open(Path(tempfile.gettempdir()) / "trama-bench-webhooks-worker.log", "a")  # noqa: SIM115
    procs = [
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
    GROUPS["task workers"].update(proc.pid for proc in procs)
    return procs


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


def under_load(env, args, bodies, forged_bodies=None, threads=None):
    """gunicorn and the task workers; the senders deliver `bodies` (first, if given, the
    forged baseline), then the workers are waited for. Returns the figures."""
    workers = start_workers(env, args.task_workers)
    server = start_server(env, args.port, threads or args.threads)
    try:
        floor = None
        if forged_bodies is not None:
            floor = concurrent(args.port, forged_bodies, args.senders, forged=True)
        acks = concurrent(args.port, bodies, args.senders)
        lags, applied_rate = confirmed(bodies)
    finally:
        stop_server(server)
        stop_workers(workers)
        GROUPS["server"].clear()
        GROUPS["task workers"].clear()
    return floor, acks, (lags, applied_rate)


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
    parser.add_argument(
        "--no-sync", action="store_true", help="skip the phase with gunicorn's sync workers"
    )
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
        sync = [] if args.no_sync else make_events(n * 2, "sync")
        in_process = make_events(8 * max(n // 8, 25), "cpu")  # 8 shares: every one sent
        ack_cost, apply_cost = cost_of_one(costs, args.show_sql)
        ack_rate, apply_rate = sequential(seq)
        cpu = cpu_in_process(in_process)
        for body in in_process:  # those acknowledged, applied as the worker would
            apply(body)
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
        connection.close()
        sync_acks = None
        if sync:
            _none, sync_acks, _applied = under_load(env, args, sync, threads=1)
        load = os.getloadavg()
        total = len(costs) + len(seq) + len(replayed) + len(fast) + len(slow) + len(sync)
        total += len(in_process)
        exact, counts = audit(total)
        tasks = queued_per_gift(total)
        connection.close()
    finally:
        stop_fast()
        stop_slow()
        drop(admin, clone)
        drop(admin, DB_NAME)

    def acks_line(figures):
        return (
            f"{figures['rate']:.0f} acks/s, p50 {figures['p50']:.0f} ms, "
            f"p99 {figures['p99']:.0f} ms, {figures['failed']} failed "
            f"({figures['repeats']} repeats sent at the end)"
        )

    def cpu_line(figures):
        per = {k: v / figures["count"] * 1e6 for k, v in figures["cpu"].items()}
        return (
            f"CPU per request: gunicorn {per['server']:.0f} µs, PostgreSQL "
            f"{per['postgres']:.0f} µs, wrk {per['driver']:.0f} µs, the task workers "
            f"meanwhile {per['task workers']:.0f} µs"
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
    print(
        "CPU per acknowledgement in process (the request's Python + its PostgreSQL backend): "
        + ", ".join(
            f"{label} {cpu[way][0]:.0f} + {cpu[way][1]:.0f} µs"
            for way, label in (
                ("exit", "the WSGI exit (production)"),
                ("django", "Django's stack (before the exit)"),
                ("forged", "a forged delivery"),
            )
        )
    )
    threads = args.threads or "default (gthread, WEB_THREADS 2)"
    shape = f"gunicorn 2 workers x {threads} threads, {args.task_workers} task workers"
    senders = f"{args.senders} concurrent senders (wrk, 1 thread, keep-alive)"
    print(f"{senders}, {shape}, 0 ms Stripe: {acks_line(fast_acks)}")
    print(f"  (target p99 < 100 ms); {cpu_line(fast_acks)}")
    print(f"  {lag_line(fast_applied)}")
    print(
        "  baseline, the same server and senders, the same bodies with a wrong signature "
        f"(400 after the HMAC check, nothing stored): {acks_line(floor)}; {cpu_line(floor)}"
    )
    if sync_acks:
        print(f"  gunicorn's sync workers (WEB_THREADS=1): {acks_line(sync_acks)}")
        print(f"    {cpu_line(sync_acks)}")
    print(
        f"{args.latency * 1000:.0f} ms Stripe: {acks_line(slow_acks)}; {lag_line(slow_applied)}; "
        f"applied/s ratio to 0 ms Stripe {slow_applied[1] / fast_applied[1]:.2f} "
        "(target: no slower)"
    )
    print(f"queued for the worker per gift: {tasks}")
    print(f"exactly once: {'yes' if exact else 'NO'} ({counts})")


if __name__ == "__main__":
    main()
