"""A giving day, end to end, in the production shape: how many complete gifts per second, how
fast each is confirmed and its receipt emailed, and an audit that nothing was lost or doubled.

It starts `bin/trama serve` (what `make serve` runs: gunicorn with WEB_WORKERS=2, the task
workers and the scheduler under the supervisor, DEBUG=0, PostgreSQL) on a fresh database
with the demo content (`manage.py seed_demo`), the local Stripe stand-in (`python -m standin`,
delivering its webhooks to /stripe/webhook/) and an SMTP sink (in this process: Django's SMTP
backend delivers to it, as to a real relay). Then donors arrive at `--rate` gifts per second
(open loop: a donor starts on schedule whether or not the earlier ones are done; `--donors`
threads at most at once), each a new visitor from an address of its own behind the front
server (X-Forwarded-For from TRUSTED_PROXIES) with an email of its own, spread over every open
campaign of both demo networks, each asking for a receipt:

  campaign page GET (from the page cache) -> CSRF token GET (as the page script asks for it)
  -> donation form POST -> Checkout's
  hosted page GET -> pay with the test card (POST on the stand-in's page) -> thank-you page,
  reloaded as its own <meta refresh> says while it says pending (3 s, 3 s, then later each
  time: campaigns.views.REFRESH_SECONDS; `--refresh S`: every S seconds, `--refresh 0`: one look)
  ... the stand-in delivers the webhooks, the worker renders the receipt PDF and sends the
  thank-you email with the receipt attached to the sink.

Figures: gifts started and completed per second (completed = the email with the PDF reached
the sink), while driving and until the last email; p50/p99 from pressing Pay to the gift
confirmed (its checkout.session.completed event processed: StripeEvent.processed_at) and to
its email in the sink; the front's latencies; the task queue's depth over time (READY tasks by
kind); the CPU seconds each part used per gift (gunicorn, task workers, scheduler, the
stand-in, PostgreSQL's backends of this database, this driver).

Audit (exit status 1 on any difference): every Checkout Session paid on the stand-in has
exactly one donation, succeeded; exactly one issued receipt; exactly one gift email sent
(database) and exactly one email with a PDF in the sink; the receipt numbers of each network
and year are 1..N with no gap nor duplicate; no succeeded gift nor email that no paid session
explains; every donor the driver saw paid is paid on the stand-in.

The limits on checkout starts (campaigns.ratelimit) are per address, per email and per
campaign; the campaign-wide one (600 an hour by default) would refuse everyone after 30 s at
20 gifts/s, so this run raises it (`--campaign-limit`, default 1,000,000): see issue 21.

Where the CPU goes (stop 21, py-spy on `bin/trama serve` during a run with `--redis`): in
gunicorn, the donation form (its limits' Redis reads and the campaign's network, both since
cut) and the thank-you page's reloads, which grow with the wait for confirmation: the stand-in's
webhooks queue behind those reloads in the same gunicorn (10-minute run under a load average
of 15-22: 12.9 reloads per gift, pay to confirmed p50 68 s, 261 ms of CPU per gift, 1.6
gifts/s, 0 audit differences). In the task workers, the receipt's PDF (~45%: WeasyPrint's
layout, then painting and font subsetting) and, before they warmed up at start, the URLconf's
first import. Since (stop 21c) the thank-you page backs off (3, 3, 5, 8, 13, 20 s: 4.2 looks
per gift instead of 5.5, before and after run side by side at load 14). Next: the webhooks on a
pool of their own (or first in line); the receipt PDF (~46 ms of the ~95 ms the task workers
spend per gift) is the floor.

PostgreSQL only: a database `<DATABASE_URL's name>_giving_day` (default
trama_bench_giving_day) is dropped and created afresh, and dropped at the end (`--keep` keeps
it). The database cache by default; `--redis redis://127.0.0.1:6379/N` uses Redis (a database
number of its own: keys are not prefixed per run).

    .venv/bin/python bench/giving_day.py                 # 45 s at 20 gifts/s
    .venv/bin/python bench/giving_day.py --minutes 10    # the issue's target: held 10 minutes
    .venv/bin/python bench/giving_day.py --rate 10 --seconds 60 --task-workers 3
"""

import argparse
import contextlib
import email
import email.policy
import html
import itertools
import logging
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
ENTRYPOINT = str(ROOT / "bin" / "trama")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/trama_bench"
WEBHOOK_SECRET = "whsec_bench_giving_day"
STRIPE_KEY = "sk_test_bench_giving_day"
AMOUNTS = ("10", "20", "25", "35", "50", "100")
IDLE_SECONDS = 10  # measuring what the processes use with no donor
WATCHING = 60.0  # a donor gives up watching after a minute (the audit still counts the gift)


# --- processes -----------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(args):
    base = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not base.startswith("postgres"):
        base = DEFAULT_DATABASE_URL
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/')}_giving_day"))


def recreate_database(url, drop_only=False):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def server_env(args, tmp, db_url, bind, standin, smtp_port):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "TZ": "Europe/Rome",
        "PYTHON": PYTHON,
        "DEBUG": "0",
        "SECRET_KEY": "bench-giving-day-" + "k" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://{bind}",
        "SECURE_SSL_REDIRECT": "0",  # the front server would redirect to HTTPS
        "TRUSTED_PROXIES": "127.0.0.1",  # the donors' addresses come in X-Forwarded-For
        "DATABASE_URL": db_url,
        "STRIPE_API_BASE": standin,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ANYMAIL_WEBHOOK_SECRET": "tracking:bench",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "WEB_BIND": bind,
        "WEB_WORKERS": str(args.web_workers),
        "TASK_WORKERS": str(args.task_workers),
        "GIVING_LIMIT_PER_CAMPAIGN": str(args.campaign_limit),
        "LOG_LEVEL": args.log_level,
        "LOG_FORMAT": "json",
        "STATIC_ROOT": str(ROOT / "var" / "bench-giving-day-static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "PRIVATE_ROOT": str(tmp / "private"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
        "OTP_REQUIRED_FOR": "",
    }
    if args.redis:
        env["REDIS_URL"] = args.redis
    return env


def run_checked(argv, env, log):
    with open(log, "ab") as out:
        done = subprocess.run(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed:\n{Path(log).read_text(errors='replace')[-3000:]}")


def wait_until(condition, what, timeout, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException, OSError):
            if condition():
                return
        time.sleep(0.3)
    tail = Path(log).read_text(errors="replace")[-4000:] if log else ""
    sys.exit(f"timed out waiting for {what}\n{tail}")


def start_standin(tmp, port, concurrency):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TZ": "Europe/Rome",
        # Stripe delivers concurrently, in no set order; one at a time would cap the gifts at
        # one over three webhook round trips.
        "STANDIN_WEBHOOK_CONCURRENCY": str(concurrency),
        # Stripe retries a failed delivery for three days; the stand-in's default gives up
        # after half a minute, which an overloaded server would turn into lost gifts.
        "STANDIN_WEBHOOK_RETRIES": "1,2,4,8,16,32,64,128,256",
    }
    log = open(tmp / "standin.log", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [PYTHON, "-m", "standin", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until(
        lambda: requests.get(f"{base}/v1/checkout/sessions", auth=(STRIPE_KEY, ""), timeout=2).ok,
        "the Stripe stand-in",
        60,
        tmp / "standin.log",
    )
    return process, base


def stop(process, timeout=60):
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


# --- the mail sink ---------------------------------------------------------------------------


class SmtpSink:
    """Just enough SMTP (RFC 5321) for Django's SMTP backend; keeps, per message, when it
    arrived, its recipients, its Message-ID and whether a PDF is attached (headers only)."""

    def __init__(self):
        self.messages = []  # (arrived, to, message_id, has_pdf)
        self.lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line + b"\r\n")

            def handle(self):
                self.reply(b"220 sink ESMTP")
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        self.reply(b"250-sink")
                        self.reply(b"250 8BITMIME")
                    elif verb == b"DATA":
                        self.reply(b"354 go ahead")
                        body = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                            body.append(data)
                        sink.keep(b"".join(body))
                        self.reply(b"250 queued")
                    elif verb == b"QUIT":
                        self.reply(b"221 bye")
                        return
                    else:  # HELO, MAIL, RCPT, RSET, NOOP
                        self.reply(b"250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def keep(self, raw):
        arrived = time.time()
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        headers = email.message_from_bytes(head, policy=email.policy.compat32)
        to = (headers.get("To") or "").strip().lower()
        to = to.rsplit("<", 1)[-1].rstrip(">").strip()
        has_pdf = b"application/pdf" in raw
        with self.lock:
            self.messages.append((arrived, to, headers.get("Message-ID", ""), has_pdf))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def close(self):
        self.server.shutdown()


# --- the donors ------------------------------------------------------------------------------


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CACHED_PAGE_TOKEN = "from-the-page-script"  # static/js/forms.js
TOKEN_PATH = "/give/token/"
ACTION = re.compile(r'<form[^>]*action="([^"]*/give/\d+/)"')
STATUS = re.compile(r'data-status="([a-z_]+)"')
META_REFRESH = re.compile(r'<meta http-equiv="refresh" content="(\d+)(?:;url=([^"]*))?"')


def codice_fiscale(rng):
    from stdnum.it import codicefiscale

    letters = "BCDFGHLMNPRSTVZ"
    body = (
        "".join(rng.choice(letters) for _ in range(6))
        + f"{rng.randrange(40, 99):02d}"
        + rng.choice("ABCDEHLMPRST")
        + f"{rng.randrange(1, 29):02d}"
        + "F205"  # Milano
    )
    return body + codicefiscale.calc_check_digit(body)


class Driver:
    def __init__(self, base, campaigns, run_id, rate, seconds, donors):
        self.base, self.campaigns, self.run_id = base, campaigns, run_id
        self.rate, self.seconds, self.donors = rate, seconds, donors
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.gifts = {}  # index -> dict
        self.errors = Counter()
        self.timings = defaultdict(list)  # step -> seconds
        self.late = []  # how late each donor started, seconds
        self.skipped = 0  # donors due in the window who found no free thread in it
        self.refresh = None  # seconds between looks; None: as the page's <meta refresh> says

    def run(self):
        self.started = time.time()
        self.monotonic0 = time.monotonic()
        threads = [
            threading.Thread(target=self.donor_loop, args=(n,), daemon=True)
            for n in range(self.donors)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.ended = time.time()

    def donor_loop(self, n):
        session = requests.Session()
        session.headers["Accept-Language"] = "it-IT,it;q=0.9"
        # As a browser does, a GET whose kept-alive connection the server had closed (gunicorn
        # keeps one 5 s; the thank-you page's later reloads wait longer) is sent again on a
        # new one. A POST is never sent twice.
        again = HTTPAdapter(max_retries=Retry(total=1, connect=1, read=1, status=0))
        session.mount("http://", again)
        while True:
            with self.lock:
                k = next(self.counter)
            due = k / self.rate
            now = time.monotonic() - self.monotonic0
            if due >= self.seconds or now >= self.seconds:
                if due < self.seconds:  # no donor thread was free before the window closed
                    with self.lock:
                        self.skipped += 1
                    continue
                return
            if due > now:
                time.sleep(due - now)
            else:
                self.late.append(now - due)
            session.cookies.clear()
            try:
                self.give(session, k)
            except Exception as exc:  # counted, shown, and the audit decides
                step = self.gifts.get(k, {}).get("step", "?")
                self.errors[f"{step}: {type(exc).__name__}: {str(exc)[:120]}"] += 1

    def timed(self, step, call, *args, **kwargs):
        began = time.perf_counter()
        response = call(*args, timeout=60, **kwargs)
        self.timings[step].append(time.perf_counter() - began)
        return response

    def give(self, session, k):
        rng = random.Random(k)
        path, _pk = self.campaigns[k % len(self.campaigns)]
        ip = f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"
        address = f"donor{k}.{self.run_id}@example.org"
        gift = {"email": address, "step": "page"}
        self.gifts[k] = gift
        forwarded = {"X-Forwarded-For": ip}
        page = self.timed("campaign page GET", session.get, self.base + path, headers=forwarded)
        if page.status_code != 200:
            raise RuntimeError(f"campaign page {page.status_code}")
        token = TOKEN.search(page.text).group(1)
        action = ACTION.search(page.text).group(1)
        if token == CACHED_PAGE_TOKEN:
            # A page from the page cache (cms.pagecache): its script asks for the visitor's own
            # token (static/js/forms.js), which also sets the cookie it belongs to.
            asked = self.timed("CSRF token GET", session.get, self.base + TOKEN_PATH)
            asked.raise_for_status()
            token = asked.json()["token"]
        cookie = session.cookies.get("csrftoken")
        gift["step"] = "form"
        started = self.timed(
            "donation form POST",
            session.post,
            self.base + action,
            data={
                "csrfmiddlewaretoken": token,
                "amount": "other",
                "other_amount": rng.choice(AMOUNTS),
                "frequency": "once",
                "first_name": rng.choice(("Anna", "Marco", "Giulia", "Luca", "Sara")),
                "last_name": rng.choice(("Rossi", "Bianchi", "Colombo", "D'Alò", "Ferrari")),
                "email": address,
                "privacy": "on",
                "wants_receipt": "on",
                "codice_fiscale": codice_fiscale(rng),
                "street_address": f"Via Manzoni {k % 200 + 1}",
                "postal_code": "23900",
                "city": "Lecco",
            },
            headers={
                **forwarded,
                "Cookie": f"csrftoken={cookie}",  # Secure cookie: a browser on HTTPS sends it
                "Referer": self.base + path,
            },
            allow_redirects=False,
        )
        if started.status_code != 303:
            raise RuntimeError(f"form answered {started.status_code}")
        checkout = started.headers["Location"]
        gift["session"] = checkout.rstrip("/").rsplit("/", 1)[-1]
        gift["step"] = "checkout"
        hosted = self.timed("Checkout page GET", session.get, checkout)
        if hosted.status_code != 200:
            raise RuntimeError(f"Checkout page {hosted.status_code}")
        gift["step"] = "pay"
        gift["paying"] = time.time()
        paid = self.timed(
            "pay POST (stand-in)",
            session.post,
            checkout,
            data={"method": "card", "card_number": "4242 4242 4242 4242", "name": "Bench"},
            allow_redirects=False,
        )
        if paid.status_code != 303:
            raise RuntimeError(f"pay answered {paid.status_code}")
        gift["paid"] = True
        thanks = paid.headers["Location"]
        gift["step"] = "thanks"
        watching_until = time.monotonic() + WATCHING
        while True:
            page = self.timed("thank-you page GET", session.get, thanks, headers=forwarded)
            gift["looks"] = gift.get("looks", 0) + 1
            state = STATUS.search(page.text)
            if page.status_code == 200 and state and state.group(1) != "pending":
                gift["seen"] = time.time()
                gift["state"] = state.group(1)
                return
            meta = META_REFRESH.search(page.text)
            if self.refresh == 0 or time.monotonic() >= watching_until:
                return
            if self.refresh is None and meta is None:
                return  # the page does not reload itself: neither does a browser
            wait = self.refresh if self.refresh is not None else float(meta.group(1))
            if self.refresh is None and meta.group(2):
                thanks = urljoin(thanks, html.unescape(meta.group(2)))
            time.sleep(wait)


# --- measuring while it runs ---------------------------------------------------------------------


def process_table():
    """{pid: (ppid, cmdline, cpu seconds incl. reaped children)} of every process."""
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        cpu = sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
        table[int(entry)] = (int(fields[1]), cmd, cpu)
    return table


def descendants(table, root):
    kids = defaultdict(list)
    for pid, (ppid, _cmd, _cpu) in table.items():
        kids[ppid].append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(kids[pid])
    return found


def cpu_by_part(serve_pid, standin_pid, backend_pids):
    table = process_table()
    parts = Counter()
    for pid in descendants(table, serve_pid):
        if pid not in table:
            continue
        cmd = table[pid][1]
        part = (
            "gunicorn"
            if "gunicorn" in cmd
            else "task workers"
            if "run_worker" in cmd
            else "scheduler"
            if "run_scheduler" in cmd
            else "supervisor"
        )
        parts[part] += table[pid][2]
    for pid in descendants(table, standin_pid):
        if pid in table:
            parts["stand-in"] += table[pid][2]
    for pid in backend_pids:
        if pid in table:
            parts["PostgreSQL (this database)"] += table[pid][2]
    self_cpu = sum(os.times()[:2])
    parts["driver + sink (this process)"] = self_cpu
    return parts


class Sampler(threading.Thread):
    """Every `every` seconds: READY tasks by kind, gifts succeeded, emails in the sink."""

    def __init__(self, sink, every=2.0):
        super().__init__(daemon=True)
        self.sink, self.every = sink, every
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        from django.db import connection
        from django.db.models import Count
        from django_tasks_db.models import DBTaskResult

        from crm.models import Donation

        t0 = time.time()
        while not self.halt.wait(self.every):
            ready = dict(
                DBTaskResult.objects.filter(status="READY")
                .values_list("task_path")
                .annotate(n=Count("id"))
                .values_list("task_path", "n")
            )
            running = DBTaskResult.objects.filter(status="RUNNING").count()
            succeeded = Donation.objects.filter(status="succeeded").count()
            self.samples.append(
                (time.time() - t0, ready, running, succeeded, len(self.sink.snapshot()))
            )
        connection.close()

    def backend_pids(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
            return [row[0] for row in cursor.fetchall()]


# --- the audit -----------------------------------------------------------------------------------


def standin_sessions(standin):
    sessions, after = [], None
    while True:
        params = {"limit": 100, **({"starting_after": after} if after else {})}
        page = requests.get(
            f"{standin}/v1/checkout/sessions", params=params, auth=(STRIPE_KEY, ""), timeout=60
        ).json()
        sessions += page["data"]
        if not page["has_more"]:
            return sessions
        after = page["data"][-1]["id"]


def audit(standin, sink, driver):
    from django.db.models import Count

    from crm.models import Donation, DonorEmail, Receipt

    sessions = standin_sessions(standin)
    paid = {s["id"]: s for s in sessions if s["payment_status"] == "paid"}
    donations = defaultdict(list)
    for d in Donation.objects.filter(stripe_checkout_session_id__isnull=False).values(
        "pk", "stripe_checkout_session_id", "status", "donor_details"
    ):
        donations[d["stripe_checkout_session_id"]].append(d)
    succeeded = Donation.objects.filter(status="succeeded")
    receipts = Counter(Receipt.objects.filter(status="issued").values_list("donations", flat=True))
    emails = Counter(
        DonorEmail.objects.filter(
            kind=DonorEmail.Kind.GIFT, status__in=("sent", "delivered")
        ).values_list("donation_id", flat=True)
    )
    mails = Counter(to for _t, to, _id, pdf in sink.snapshot() if pdf)
    bare = sum(1 for _t, _to, _id, pdf in sink.snapshot() if not pdf)
    paid_emails = set()
    no_donation = not_succeeded = receipt_off = email_off = sink_off = 0
    for session_id in paid:
        found = donations.get(session_id, [])
        if len(found) != 1:
            no_donation += 1
            continue
        gift = found[0]
        if gift["status"] != "succeeded":
            not_succeeded += 1
        receipt_off += receipts.get(gift["pk"], 0) != 1
        email_off += emails.get(gift["pk"], 0) != 1
        address = (gift["donor_details"].get("email") or "").lower()
        paid_emails.add(address)
        sink_off += mails.get(address, 0) != 1
    extra_gifts = succeeded.exclude(stripe_checkout_session_id__in=list(paid)).count()
    extra_mail = sum(n for to, n in mails.items() if to not in paid_emails)
    gaps = 0
    series = (
        Receipt.objects.values("network_id", "year")
        .annotate(n=Count("id"))
        .values_list("network_id", "year")
    )
    numbering = {}
    for network_id, year in series:
        sequences = sorted(
            Receipt.objects.filter(network_id=network_id, year=year).values_list(
                "sequence", flat=True
            )
        )
        expected = list(range(1, len(sequences) + 1))
        gaps += sum(1 for a, b in zip(sequences, expected, strict=True) if a != b)
        numbering[(network_id, year)] = len(sequences)
    driver_paid = {g["session"] for g in driver.gifts.values() if g.get("paid")}
    not_on_standin = len(driver_paid - set(paid))
    differences = {
        "paid sessions without exactly one donation": no_donation,
        "paid sessions whose donation is not succeeded": not_succeeded,
        "succeeded gifts that no paid session explains": extra_gifts,
        "paid gifts without exactly one issued receipt": receipt_off,
        "receipt numbers out of 1..N per network and year (gaps, duplicates)": gaps,
        "paid gifts without exactly one gift email sent (database)": email_off,
        "paid gifts without exactly one email with a PDF in the sink": sink_off,
        "emails with a PDF in the sink to nobody who paid": extra_mail,
        "emails without a PDF in the sink": bare,
        "donors who saw Pay succeed whose session is not paid on the stand-in": not_on_standin,
    }
    return paid, differences, numbering


# --- figures ---------------------------------------------------------------------------------


def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def summary(values, unit="s", scale=1.0):
    if not values:
        return "n/a"
    return (
        f"p50 {statistics.median(values) * scale:.2f} {unit}  p99 {pct(values, 0.99) * scale:.2f}"
        f" {unit}  max {max(values) * scale:.2f} {unit}  (n={len(values)})"
    )


def confirmed_times():
    """{session id: time its checkout.session.completed was processed}."""
    from campaigns.models import StripeEvent

    found = {}
    for payload, processed in StripeEvent.objects.filter(
        type="checkout.session.completed", processed_at__isnull=False
    ).values_list("payload", "processed_at"):
        session = (payload.get("data") or {}).get("object") or {}
        found[session.get("id")] = processed.timestamp()
    return found


def report(args, driver, sink, sampler, cpu, paid, differences, numbering, window_end):
    gifts = [g for g in driver.gifts.values() if g.get("paid")]
    by_email = {}
    for arrived, to, _id, pdf in sink.snapshot():
        if pdf:
            by_email.setdefault(to, arrived)
    confirmed = confirmed_times()
    to_confirmed = [
        confirmed[g["session"]] - g["paying"] for g in gifts if g["session"] in confirmed
    ]
    to_email = [by_email[g["email"]] - g["paying"] for g in gifts if g["email"] in by_email]
    to_seen = [g["seen"] - g["paying"] for g in gifts if "seen" in g]
    emailed = sorted(by_email[g["email"]] for g in gifts if g["email"] in by_email)
    duration = args.seconds
    in_window = sum(1 for t in emailed if t <= window_end)
    last = emailed[-1] if emailed else driver.started
    print(
        f"giving day: {duration:.0f} s offered at {args.rate:g} gifts/s, {args.donors} donor"
        f" threads, gunicorn {args.web_workers} workers, {args.task_workers} task workers,"
        f" {args.webhook_concurrency} webhook deliveries at once,"
        f" {'Redis' if args.redis else 'database'} cache; {os.cpu_count()} cores, load average"
        f" {os.getloadavg()[0]:.1f} at the end"
    )
    started = len(driver.gifts)
    late = (
        f"late starts {len(driver.late)} (p99 {pct(driver.late, 0.99):.2f} s)"
        if driver.late
        else "every donor on time"
    )
    print(
        f"donors started {started} ({started / duration:.1f}/s), paid {len(gifts)}"
        f" ({len(gifts) / duration:.1f}/s); {late}; not started (no donor thread free in the"
        f" window): {driver.skipped}"
    )
    span = max(last - driver.started, 1.0)
    print(
        f"COMPLETE GIFTS (email with the receipt in the sink): {len(emailed)}; while driving"
        f" {in_window / duration:.1f}/s; end to end {len(emailed) / span:.1f}/s"
        f" (first donor to last email, {last - driver.started:.0f} s; the drain took"
        f" {max(0.0, last - window_end):.0f} s after the last donor)"
    )
    print(f"pay -> confirmed (webhook processed):  {summary(to_confirmed)}")
    how = "as the page says" if args.refresh is None else f"every {args.refresh:g} s"
    looks = [g.get("looks", 0) for g in gifts]
    print(
        f"pay -> confirmed seen by the donor (reloads {how}, {sum(looks) / max(1, len(looks)):.1f}"
        f" looks per paid gift): {summary(to_seen)}"
    )
    print(f"pay -> receipt email in the sink:     {summary(to_email)}   (target p99 < 30 s)")
    for step, values in driver.timings.items():
        print(f"  {step:<22} {summary(values, 'ms', 1000)}")
    if driver.errors:
        print("donor errors:")
        for error, n in driver.errors.most_common(8):
            print(f"  {n:>6}  {error}")
    if sampler.samples:
        peak = max(sampler.samples, key=lambda s: sum(s[1].values()))
        tail = sampler.samples[-1]
        depth = [sum(s[1].values()) for s in sampler.samples]
        print(
            f"task queue (READY): max {max(depth)} at {peak[0]:.0f} s,"
            f" mean {statistics.mean(depth):.0f},"
            f" at the end {depth[-1]}; at the peak: "
            + ", ".join(
                f"{path.rsplit('.', 1)[-1]} {n}"
                for path, n in sorted(peak[1].items(), key=lambda x: -x[1])[:5]
            )
        )
        marks = sampler.samples[:: max(1, len(sampler.samples) // 8)] + [tail]
        print("  t(s)  queued  running  succeeded  emailed")
        for t, ready, running, succeeded, sent in marks:
            print(f"  {t:4.0f}  {sum(ready.values()):6}  {running:7}  {succeeded:9}  {sent:7}")
    cpu, idle, cpu_seconds = cpu
    if cpu and gifts:
        total = sum(cpu.values())
        # The processes' idle cost (polls, heartbeats: measured before the donors came) is
        # not the gifts'; the driver's own is.
        net = Counter({k: max(0.0, v - idle.get(k, 0.0) * cpu_seconds) for k, v in cpu.items()})
        per_gift = sum(net.values()) / len(gifts)
        print(
            f"CPU from the first donor to the end of the drain ({cpu_seconds:.0f} s):"
            f" {total:.0f} CPU-s; per paid gift, less each process's idle use:"
        )
        for part, seconds in net.most_common():
            print(
                f"  {part:<28} {seconds / len(gifts) * 1000:6.1f} ms/gift"
                f"  ({cpu[part]:6.1f} CPU-s, idle {idle.get(part, 0.0) * 100:4.1f}% of a core)"
            )
        print(
            f"  all parts {per_gift * 1000:.0f} ms/gift: {os.cpu_count()} cores busy with nothing"
            f" else would complete at most {os.cpu_count() / per_gift:.1f} gifts/s"
        )
    print(
        "receipts per network and year: "
        + ", ".join(f"network {n}/{y}: {c}" for (n, y), c in sorted(numbering.items()))
    )
    print(f"AUDIT of {len(paid)} paid Checkout Sessions on the stand-in:")
    for what, n in differences.items():
        print(f"  {n:>6}  {what}")
    bad = sum(differences.values())
    print(f"audit differences: {bad} ({'none' if not bad else 'NON-ZERO'})")
    return bad


# --- main ----------------------------------------------------------------------------------------


def setup_django(env):
    sys.path.insert(0, str(ROOT))
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    # The donors' re-sent GETs (a kept-alive connection gunicorn had closed) are expected.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


def campaign_pages():
    from campaigns.models import CampaignPage

    pages = [
        (page.url, page.pk)
        for page in CampaignPage.objects.live().public().order_by("pk")
        if page.is_open
    ]
    if not pages:
        sys.exit("no open campaign in the demo content")
    return pages


def drain(sink, expected, timeout, settle):
    """Wait until `expected` emails with a PDF arrived, or none arrived for `settle` seconds,
    or `timeout` passed."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = sum(1 for m in sink.snapshot() if m[3])
        if count >= expected:
            return
        if count != seen:
            seen, since = count, time.monotonic()
        elif time.monotonic() - since > settle:
            return
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=45, help="how long donors arrive")
    parser.add_argument("--minutes", type=float, help="the same in minutes (e.g. 10)")
    parser.add_argument("--rate", type=float, default=20, help="gifts started per second")
    parser.add_argument("--donors", type=int, default=120, help="donor threads at most")
    parser.add_argument(
        "--refresh",
        type=float,
        default=None,
        help="seconds between two looks at the thank-you page while pending (default: as its"
        " <meta refresh> says; 0: one look)",
    )
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--task-workers", type=int, default=2)
    parser.add_argument(
        "--webhook-concurrency", type=int, default=8, help="stand-in deliveries in flight"
    )
    parser.add_argument("--campaign-limit", type=int, default=1_000_000)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--redis", help="REDIS_URL for the cache (a database of its own)")
    parser.add_argument("--drain", type=float, default=600, help="max seconds to wait for emails")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    args = parser.parse_args()
    if args.minutes:
        args.seconds = args.minutes * 60
    tmp = Path(tempfile.mkdtemp(prefix="trama-bench-giving-day-"))
    db_url = database_url(args)
    recreate_database(db_url)
    standin_process = serve = sink = sampler = None
    run_id = f"{int(time.time()) % 100000}"
    try:
        sink = SmtpSink()
        standin_process, standin = start_standin(tmp, free_port(), args.webhook_concurrency)
        bind = f"127.0.0.1:{free_port()}"
        env = server_env(args, tmp, db_url, bind, standin, sink.port)
        log = tmp / "serve.log"
        run_checked([ENTRYPOINT, "migrate", "-v0"], env, log)
        run_checked([ENTRYPOINT, "manage", "seed_demo"], env, log)
        requests.post(
            f"{standin}/_config/webhooks/bench",
            data={"url": f"http://{bind}/stripe/webhook/", "secret": WEBHOOK_SECRET},
            timeout=10,
        ).raise_for_status()
        with open(log, "ab") as out:
            serve = subprocess.Popen(
                [ENTRYPOINT, "serve"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://{bind}"
        wait_until(
            lambda: requests.get(f"{base}/healthz", timeout=10).status_code == 200,
            "/healthz green",
            240,
            log,
        )
        setup_django(env)
        campaigns = campaign_pages()
        for path, _pk in campaigns * 3:  # each gunicorn worker renders each page once
            requests.get(base + path, timeout=30)
        sampler = Sampler(sink)
        backends = sampler.backend_pids()
        idle_start = cpu_by_part(serve.pid, standin_process.pid, backends)
        time.sleep(IDLE_SECONDS)  # what the processes burn with no donor (polls, beats)
        before = cpu_by_part(serve.pid, standin_process.pid, backends)
        idle = Counter(
            {k: max(0.0, before[k] - idle_start.get(k, 0.0)) / IDLE_SECONDS for k in before}
        )
        sampler.start()
        driver = Driver(base, campaigns, run_id, args.rate, args.seconds, args.donors)
        driver.refresh = args.refresh
        print(
            f"driving {args.rate:g} gifts/s for {args.seconds:.0f} s over {len(campaigns)}"
            f" campaigns (logs in {tmp}, kept with --keep)",
            flush=True,
        )
        driver.run()
        window_end = driver.started + args.seconds
        paid_count = sum(1 for g in driver.gifts.values() if g.get("paid"))
        drain(sink, paid_count, args.drain, settle=max(120.0, args.seconds / 5))
        backends = sorted(set(backends) | set(sampler.backend_pids()))
        after = cpu_by_part(serve.pid, standin_process.pid, backends)
        cpu = Counter({k: after[k] - before.get(k, 0.0) for k in after})
        cpu_seconds = time.time() - driver.started
        sampler.halt.set()
        sampler.join(10)
        paid, differences, numbering = audit(standin, sink, driver)
        bad = report(
            args,
            driver,
            sink,
            sampler,
            (cpu, idle, cpu_seconds),
            paid,
            differences,
            numbering,
            window_end,
        )
    finally:
        stop(serve)
        stop(standin_process, 10)
        if sink:
            sink.close()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if not args.keep:
            with contextlib.suppress(Exception):
                recreate_database(db_url, drop_only=True)
            shutil.rmtree(tmp, ignore_errors=True)
    if args.keep:
        print(f"kept: database {db_url}, logs in {tmp}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
