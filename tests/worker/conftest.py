"""Worker fixtures: real `manage.py run_worker` processes on the test database, gifts whose
receipts and emails go through the database queue, and the mail those processes write to files.

The worker processes see what the test commits, so the tests that start one are transactional
(`django_db(transaction=True)`); on SQLite the test database is a file (tests/settings.py)."""

import datetime
import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from wagtail.models import Collection

from crm.models import Donation, Donor, DonorEmail, Receipt
from crm.offline import record_offline_gift

DEADLINE_SECONDS = 45
# The separator Django's file mail backend writes after each message.
MESSAGE_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def wait_for(condition, what, worker=None, timeout=DEADLINE_SECONDS):
    """Poll `condition` until true; fail with the worker's log after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            log = f"\n--- worker log ---\n{worker.log()}" if worker else ""
            pytest.fail(f"timed out waiting for {what}{log}")
        time.sleep(0.05)


def database_url():
    """The URL of the test database, for the worker processes (config.settings reads it)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}@" if db["USER"] else ""
    return f"postgres://{user}{db['HOST']}:{db['PORT']}/{quote(db['NAME'])}"


class WorkerProcess:
    """One `manage.py run_worker` process, its output in a log file."""

    def __init__(self, args, env, log_path):
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", *args],
                cwd=django_settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self):
        return self.log_path.read_text(errors="replace")

    @property
    def alive(self):
        return self.process.poll() is None

    def kill(self):
        """SIGKILL: no cleanup, no goodbye, as the OOM killer or a power cut would."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self):
        """SIGTERM, as systemd stops it; returns the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=DEADLINE_SECONDS)


@pytest.fixture
def queue_in_database(settings, tmp_path):
    """Tasks go through the database queue (receipt PDFs go to the private test storage)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def mail_dir(tmp_path):
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def start_worker(queue_in_database, settings, mail_dir, tmp_path):
    """Start `manage.py run_worker` on the test database; extra environment as keywords.
    Every worker still running at the end is killed."""
    started = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker.worker_settings",
        "DATABASE_URL": database_url(),
        "WORKER_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "WORKER_TEST_MAIL_DIR": str(mail_dir),
    }

    def start(*args, **extra_env):
        log_path = tmp_path / f"worker-{len(started) + 1}.log"
        worker = WorkerProcess(["--interval", "0.1", *args], {**env, **extra_env}, log_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.alive:
            worker.kill()


@pytest.fixture
def network(network_factory):
    # A transactional test before this one flushed the root collection the migrations made.
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    return network_factory("rete-worker", email="tesoreria@rete-worker.example")


@pytest.fixture
def give(network):
    """Record `count` offline gifts from as many donors, each asking for a receipt: every gift
    queues a receipt's rendering and its email (after commit). Returns the donors' addresses."""

    def record(count, first=0):
        addresses = []
        for i in range(first, first + count):
            donor = Donor.objects.create(
                network=network,
                first_name="Donatore",
                last_name=f"N{i}",
                email=f"donor{i}@example.org",
            )
            record_offline_gift(
                network=network,
                donor=donor,
                amount_cents=1000 + i,
                received_on=timezone.localdate() - datetime.timedelta(days=1),
                method=Donation.Method.BANK_TRANSFER,
                wants_receipt=True,
            )
            addresses.append(donor.email)
        return addresses

    return record


def all_done():
    """Every receipt stored, every email sent, nothing waiting or running in the queue."""
    return (
        not Receipt.objects.filter(pdf_sha256="").exists()
        and not DonorEmail.objects.exclude(status=DonorEmail.Status.SENT).exists()
        and not DBTaskResult.objects.filter(
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
        ).exists()
    )


def mail_recipients(mail_dir):
    """How many messages each address got, read back from the mail files."""
    recipients = Counter()
    for path in mail_dir.iterdir():
        for raw in path.read_bytes().split(MESSAGE_SEPARATOR):
            if raw.strip():
                recipients[email.message_from_bytes(raw)["To"]] += 1
    return recipients


def assert_each_receipt_stored_and_mailed_once(addresses, mail_dir):
    receipts = list(Receipt.objects.all())
    assert len(receipts) == len(addresses)
    for receipt in receipts:
        assert receipt.pdf_sha256 and receipt.pdf.storage.exists(receipt.pdf.name)
    assert mail_recipients(mail_dir) == Counter(addresses)
    assert sorted(DonorEmail.objects.values_list("status", "attempts")) == [
        (DonorEmail.Status.SENT, 1)
    ] * len(addresses)
    assert not DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists()
