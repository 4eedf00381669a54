"""Worker fixtures: real `manage.py run_worker` (and `run_scheduler`) processes on the test
database, gifts whose receipts and emails go through a real queue, and the mail those
processes write to files.

Every test that uses `start_worker` runs twice: on the database queue (django-tasks-db) and on
RQ (django-tasks-rq) with the machine's Redis, in a Redis database of its own (TEST_REDIS_DB,
12 by default, plus the xdist worker's number), flushed before and after. RQ runs on
PostgreSQL only (several machines share a server database); SQLite runs the database queue.

The worker processes see what the test commits, so the tests that start one are transactional
(`django_db(transaction=True)`); on SQLite the test database is a file (tests/settings.py)."""

import contextlib
import datetime
import email
import email.parser
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
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from wagtail.models import Collection

from crm.models import Donation, Donor, DonorEmail, Receipt
from crm.offline import record_offline_gift
from ops.models import ProcessBeat

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
    """One `manage.py run_worker` (or `command`) process, its output in a log file."""

    def __init__(self, args, env, log_path, command="run_worker"):
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", command, *args],
                cwd=django_settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed whole
            )

    def log(self):
        return self.log_path.read_text(errors="replace")

    @property
    def alive(self):
        return self.process.poll() is None

    def kill(self):
        """SIGKILL: no cleanup, no goodbye, as a power cut or the supervisor would (the whole
        process group: RQ's worker forks a scheduler process beside it)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        """SIGTERM, as systemd stops it; returns the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=DEADLINE_SECONDS)


RQ_BACKEND = "django_tasks_rq.RQBackend"
DB_BACKEND = "django_tasks_db.DatabaseBackend"


def redis_url_for_tests():
    """This test process's own Redis database (xdist workers gw0, gw1, ... get one each)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(os.environ.get("TEST_REDIS_DB", "12")) + int(worker.removeprefix("gw") or 0)
    if number > 15:
        pytest.fail(f"no Redis database {number} for xdist worker {worker}: lower TEST_REDIS_DB")
    base = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
    return f"{base.rstrip('/')}/{number}"


def redis_queue():
    """The RQ queue the tests' workers take from."""
    import django_rq

    return django_rq.get_queue("default")


@pytest.fixture(params=["db", "rq"])
def tasks_backend(request, settings, tmp_path):
    """Tasks go through the database queue or RQ (receipt PDFs go to the private test
    storage). Yields "db" or "rq"."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if request.param == "db":
        settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default"]}}
        yield "db"
        return
    if connection.vendor != "postgresql":
        pytest.skip("RQ runs beside a server database (PostgreSQL)")
    url = redis_url_for_tests()
    settings.TASKS = {"default": {"BACKEND": RQ_BACKEND, "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": url, "DEFAULT_TIMEOUT": 600}}
    settings.TASKS_REDIS_URL = url
    redis_queue().connection.flushdb()
    yield "rq"
    redis_queue().connection.flushdb()


@pytest.fixture
def queue_in_database(settings, tmp_path):
    """Tasks go through the database queue (receipt PDFs go to the private test storage)."""
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND, "QUEUES": ["default"]}}
    settings.MEDIA_ROOT = tmp_path / "media"


def queue_idle(backend):
    """Nothing waiting to run in the queue (tasks a killed worker left RUNNING aside: nobody
    runs those again; the sweep queues new ones from our rows)."""
    if backend == "db":
        return not DBTaskResult.objects.ready().exists()
    return redis_queue().count == 0


def running_tasks(backend):
    """Ids of the tasks a worker is running now (the test looks into the queue; Trama never
    does)."""
    if backend == "db":
        return list(DBTaskResult.objects.running().values_list("pk", flat=True))
    return list(redis_queue().started_job_registry.get_job_ids())


@pytest.fixture
def mail_dir(tmp_path):
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def worker_env(tasks_backend, settings, mail_dir):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker.worker_settings",
        "DATABASE_URL": database_url(),
        "WORKER_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "WORKER_TEST_MAIL_DIR": str(mail_dir),
        "TASKS_BACKEND": settings.TASKS["default"]["BACKEND"],
        "HEARTBEAT_SECONDS": "1",
    }
    if tasks_backend == "rq":
        env["TASKS_REDIS_URL"] = settings.TASKS_REDIS_URL
    return env


@pytest.fixture
def start_worker(worker_env, tmp_path):
    """Start `manage.py run_worker` on the test database; extra environment as keywords.
    Every worker still running at the end is killed."""
    started = []

    def start(*args, **extra_env):
        log_path = tmp_path / f"worker-{len(started) + 1}.log"
        worker = WorkerProcess(["--interval", "0.1", *args], {**worker_env, **extra_env}, log_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()  # and whatever it left in its process group


@pytest.fixture
def start_scheduler(worker_env, tmp_path):
    """Start `manage.py run_scheduler` (the sweep every SWEEP_INTERVAL seconds); extra
    environment as keywords. Killed at the end if still running."""
    started = []

    def start(*args, **extra_env):
        log_path = tmp_path / f"scheduler-{len(started) + 1}.log"
        scheduler = WorkerProcess(
            ["--tick", "0.2", *args], {**worker_env, **extra_env}, log_path, "run_scheduler"
        )
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.kill()


def beating(name_prefix="worker@"):
    return ProcessBeat.objects.filter(name__startswith=name_prefix)


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


def all_done(backend="db"):
    """Every receipt stored, every email sent, nothing waiting in the queue."""
    return (
        not Receipt.objects.filter(pdf_sha256="").exists()
        and not DonorEmail.objects.exclude(status=DonorEmail.Status.SENT).exists()
        and queue_idle(backend)
    )


def mail_recipients(mail_dir):
    """How many messages each address got, read back from the mail files (headers only: the
    tests poll this while a worker sends, and parsing each attached PDF made every look slow)."""
    recipients = Counter()
    headers = email.parser.BytesHeaderParser()
    for path in mail_dir.iterdir():
        for raw in path.read_bytes().split(MESSAGE_SEPARATOR):
            if raw.strip():
                recipients[headers.parsebytes(raw)["To"]] += 1
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
    assert not DonorEmail.objects.exclude(claimed_by="").exists()
