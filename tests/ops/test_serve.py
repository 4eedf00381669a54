"""`make serve` for real: the supervisor (`bin/trama serve`) with gunicorn, two task workers
and the scheduler as processes, on PostgreSQL and Redis, with the Stripe stand-in delivering
its webhooks to gunicorn and an SMTP server of the test receiving the mail.

A donor gives on the campaign page, pays on Checkout, the webhook confirms the gift, a worker
renders the receipt and mails it; /healthz is green. A worker SIGKILLed turns /healthz red
until the supervisor has restarted it under the same name. PostgreSQL only (the production
database; SQLite serves one machine's demo)."""

import email
import email.policy
import os
import re
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
import requests
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ENTRYPOINT = Path(django_settings.BASE_DIR) / "bin" / "trama"
CAMPAIGN_PATH = "/oltre-il-ponte/un-doposcuola-per-ogni-quartiere/"
REDIS_URL = "redis://127.0.0.1:6379/5"  # this branch's own Redis database
WEBHOOK_SECRET = "whsec_serve_test"
METRICS_TOKEN = "serve-test-metrics-token"
DONOR = "marco.serve@example.org"
DEADLINE = 300  # generous: returns as soon as the condition holds (a loaded 2-core machine starts
# five Django processes slowly: 120 s was seen short under load)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


def database_url():
    """The test database, for the processes (config.settings reads DATABASE_URL)."""
    db = connection.settings_dict
    user = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}@" if db["USER"] else ""
    return f"postgres://{user}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """Just enough SMTP (RFC 5321) for Django's SMTP backend: keeps each message's bytes."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                self.reply("220 sink ESMTP")
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        self.reply("250-sink")
                        self.reply("250 8BITMIME")
                    elif verb == b"DATA":
                        self.reply("354 go ahead")
                        body = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                            body.append(data[1:] if data.startswith(b".") else data)
                        with sink.lock:
                            sink.messages.append(b"".join(body))
                        self.reply("250 queued")
                    elif verb == b"QUIT":
                        self.reply("221 bye")
                        return
                    else:  # HELO, MAIL, RCPT, RSET, NOOP
                        self.reply("250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, address):
        with self.lock:
            raw = list(self.messages)
        parsed = [email.message_from_bytes(m, policy=email.policy.default) for m in raw]
        return [m for m in parsed if address in m["To"]]


@pytest.fixture
def smtp():
    sink = SmtpSink()
    yield sink
    sink.server.shutdown()


class Serve:
    """`bin/trama serve` in its own process group, its output in a log file."""

    def __init__(self, env, log_path):
        self.log_path = log_path
        self.base = f"http://{env['WEB_BIND']}"
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(ENTRYPOINT), "serve"],
                cwd=django_settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self):
        return self.log_path.read_text(errors="replace")[-6000:]

    def wait_for(self, condition, what, timeout=DEADLINE):
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"bin/trama serve exited while waiting for {what}\n{self.log()}")
            try:
                if result := condition():
                    return result
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}\n--- serve log ---\n{self.log()}")
            time.sleep(0.2)

    def health(self):
        response = requests.get(f"{self.base}/healthz", timeout=10)
        return response.status_code, response.json()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def kill_all(self):
        """After a failure: the supervisor stops its children (each in its own process
        group); only if it does not, it is killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
def serve(standin_url, smtp, tmp_path):
    """Start `bin/trama serve` as production would run it (DEBUG off, secrets from the
    environment), on the test database, with the stand-in as Stripe and the sink as SMTP."""
    started = []
    # No rate-limit counts from an earlier run (the cache's keys only: the RQ test in
    # test_metrics.py may be using this database at the same time).
    cache = redis.Redis.from_url(REDIS_URL)
    for key in cache.scan_iter("trama:*"):
        cache.delete(key)
    requests.delete(f"{standin_url}/_config/data", timeout=5).raise_for_status()

    def start():
        bind = f"127.0.0.1:{free_port()}"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "PYTHON": sys.executable,
            "DEBUG": "0",
            "SECRET_KEY": "serve-test-" + "k" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"http://{bind}",
            # The front server would redirect to HTTPS; here the stand-in calls gunicorn itself.
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url(),
            "REDIS_URL": REDIS_URL,
            "STRIPE_API_BASE": standin_url,
            "STRIPE_SECRET_KEY": "sk_test_serve",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "ANYMAIL_WEBHOOK_SECRET": "tracking:serve-test",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "WEB_BIND": bind,
            "WEB_WORKERS": "2",
            "TASK_WORKERS": "2",
            "HEARTBEAT_SECONDS": "1",
            "HEARTBEAT_SILENT_AFTER": "3",
            "QUEUE_PROBE_SECONDS": "2",
            # Long enough that the killed worker's row goes silent before its successor beats.
            "RESTART_DELAY": "6",
            "STATIC_ROOT": str(Path(django_settings.BASE_DIR) / "var" / "serve-test-static"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "PRIVATE_ROOT": str(tmp_path / "private"),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
            "METRICS_TOKEN": METRICS_TOKEN,
            "OTP_REQUIRED_FOR": "",
        }
        process = Serve(env, tmp_path / "serve.log")
        started.append(process)
        # Stripe delivers events to the endpoint of its dashboard: here, gunicorn.
        requests.post(
            f"{standin_url}/_config/webhooks/serve-test",
            data={"url": f"{process.base}/stripe/webhook/", "secret": WEBHOOK_SECRET},
            timeout=5,
        ).raise_for_status()
        return process

    yield start
    requests.delete(f"{standin_url}/_config/webhooks/serve-test", timeout=5)
    for process in started:
        process.kill_all()


def green(serve):
    status, body = serve.health()
    return status == 200 and body


def give(base):
    """A donor on the campaign page gives 40,50 € asking for a receipt, and pays on Checkout.
    Returns the thank-you page's address."""
    donor = requests.Session()
    page = donor.get(base + CAMPAIGN_PATH, timeout=30)
    assert page.status_code == 200, page.text[:2000]
    action = re.search(r'<form[^>]*action="([^"]*/give/\d+/)"', page.text).group(1)
    # The page may come from the page cache, without a token: the donor's browser asks for its
    # own, as the page's script does (static/js/forms.js).
    token_url = re.search(r'data-csrf-url="([^"]+)"', page.text).group(1)
    fetched = donor.get(base + token_url, timeout=30)
    token = fetched.json()["token"]
    # The CSRF cookie is Secure (production): a browser behind HTTPS sends it back.
    cookie = fetched.cookies["csrftoken"]
    started = donor.post(
        base + action,
        data={
            "csrfmiddlewaretoken": token,
            "amount": "other",
            "other_amount": "40,50",
            "frequency": "once",
            "first_name": "Marco",
            "last_name": "Bianchi",
            "email": DONOR,
            "privacy": "on",
            "wants_receipt": "on",
            "codice_fiscale": "RSSMRA80A01H501U",
            "street_address": "Via Manzoni 5",
            "postal_code": "23900",
            "city": "Lecco",
        },
        headers={"Cookie": f"csrftoken={cookie}", "Referer": base + CAMPAIGN_PATH},
        allow_redirects=False,
        timeout=30,
    )
    assert started.status_code == 303, started.text[:2000]
    checkout = started.headers["Location"]
    paid = requests.post(
        checkout,
        data={"method": "card", "card_number": "4242 4242 4242 4242", "name": "Marco"},
        allow_redirects=False,
        timeout=30,
    )
    assert paid.status_code == 303, paid.text[:2000]
    return paid.headers["Location"]


def receipt_mail(smtp):
    for message in smtp.to(DONOR):
        pdfs = [
            part
            for part in message.iter_attachments()
            if part.get_content_type() == "application/pdf"
        ]
        if pdfs:
            return message, pdfs[0].get_content()
    return None


def test_make_serve_gives_a_gift_end_to_end_and_restarts_a_killed_worker(serve, smtp):
    from crm.models import Donation, DonorEmail, Receipt
    from ops.models import ProcessBeat

    # given the demo network and its campaign, and Trama started as `make serve` does
    call_command("seed_demo", verbosity=0)
    trama = serve()
    first = trama.wait_for(lambda: green(trama), "/healthz to turn green")
    processes = first["checks"]["processes"]
    assert (processes["workers_alive"], processes["schedulers_alive"]) == (2, 1)

    # when a donor gives through gunicorn and pays on (stand-in) Stripe Checkout
    thanks = give(trama.base)
    assert "/give/thanks/" in thanks

    # then the webhook confirms the gift, a worker renders the receipt and mails it
    message, pdf = trama.wait_for(lambda: receipt_mail(smtp), "the receipt email")
    assert pdf.startswith(b"%PDF")
    gift = Donation.objects.get(donor__email=DONOR)
    assert (gift.status, gift.amount_cents) == ("succeeded", 4050)
    receipt = Receipt.objects.get(donations=gift)
    assert receipt.pdf_sha256
    assert DonorEmail.objects.get(receipt=receipt).status == DonorEmail.Status.SENT
    assert len([m for m in smtp.to(DONOR) if receipt_mail_of(m)]) == 1
    # and the service says it is healthy, and counts what it did
    trama.wait_for(lambda: green(trama), "/healthz green after the gift")
    metrics = requests.get(
        f"{trama.base}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=10,
    ).text
    assert re.search(r'^trama_stripe_events\{outcome="applied"\} [1-9]', metrics, re.M)
    assert re.search(r'^trama_http_requests_total\{[^}]*view="campaigns:give"', metrics, re.M)
    assert re.search(r"^trama_emails_waiting 0\.0$", metrics, re.M)

    # when a task worker is killed (SIGKILL: no goodbye)
    victim = ProcessBeat.objects.get(name__startswith="worker-1@")
    os.kill(victim.pid, signal.SIGKILL)

    # then /healthz turns red, naming the silent worker
    def red():
        status, body = trama.health()
        return status == 503 and body

    body = trama.wait_for(red, "/healthz to turn red")
    assert body["checks"]["processes"]["silent"] == [victim.name]
    # and green again once the supervisor restarted it under the same name
    trama.wait_for(lambda: green(trama), "/healthz green after the restart")
    restarted = ProcessBeat.objects.get(name=victim.name)
    assert restarted.pid != victim.pid

    # and the supervisor stops everything gracefully on SIGTERM
    assert trama.stop() == 0


def receipt_mail_of(message):
    return any(part.get_content_type() == "application/pdf" for part in message.iter_attachments())
