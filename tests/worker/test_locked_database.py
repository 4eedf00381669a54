"""SQLite lets one process write at a time; the others wait for the busy timeout, then get
"database is locked". A long write (a 5,000-row import) used to kill the worker: now it waits,
says so once, and carries on. The workers here wait 1 s (SQLITE_TIMEOUT) instead of 20 s."""

import sqlite3
import time

import pytest
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from crm.imports import apply_import, plan_import
from crm.models import Donor, Receipt

from .conftest import (
    DEADLINE_SECONDS,
    all_done,
    assert_each_receipt_stored_and_mailed_once,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

STALL = "waiting for the other writer"  # the worker's one warning per stall
SHORT_TIMEOUT = {"SQLITE_TIMEOUT": "1"}


@pytest.fixture(autouse=True)
def _sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's database-wide write lock")


def take_write_lock_mid_task(worker):
    """Another writer (its own connection, as another process would have) takes SQLite's write
    lock at a moment the worker runs a task. Returns the connection, holding the lock, and the
    id of the task caught running."""
    writer = sqlite3.connect(connection.settings_dict["NAME"], timeout=5, isolation_level=None)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        writer.execute("BEGIN IMMEDIATE")
        # Under the lock nothing changes: a task RUNNING now meets the lock at its next write.
        running = DBTaskResult.objects.running().values_list("pk", flat=True).first()
        if running:
            return writer, running
        writer.execute("ROLLBACK")
        time.sleep(0.01)
    pytest.fail(f"the worker never ran a task\n{worker.log()}")


def test_the_worker_waits_out_a_writer_holding_the_lock_mid_task(give, start_worker, mail_dir):
    # given gifts whose receipts and emails the worker is working through
    addresses = give(8)
    worker = start_worker(**SHORT_TIMEOUT)
    wait_for(lambda: Receipt.objects.exclude(pdf_sha256="").exists(), "a first PDF", worker)

    # when another process holds the write lock, while a task runs, past the busy timeout
    writer, caught = take_write_lock_mid_task(worker)
    wait_for(lambda: STALL in worker.log(), "the worker to meet the lock", worker)
    assert worker.alive
    writer.execute("ROLLBACK")
    writer.close()

    # then the worker carries on: the task caught by the lock runs again, everything is done
    wait_for(all_done, "every receipt rendered and mailed", worker)
    assert worker.alive
    assert DBTaskResult.objects.get(pk=caught).status == TaskResultStatus.SUCCESSFUL
    assert_each_receipt_stored_and_mailed_once(addresses, mail_dir)
    # and it said so once for the stall, not once per attempt
    assert worker.log().count(STALL) == 1


def bank_file(rows):
    lines = ["Nome;Cognome;Email;Importo;Data;Metodo"]
    lines += [
        f"Nome{i};Cognome{i};import{i}@example.org;25;02/02/2026;bonifico" for i in range(rows)
    ]
    return "\n".join(lines).encode()


def test_the_worker_outlasts_a_5000_row_import(network, give, start_worker, mail_dir):
    # given gifts whose receipts and emails wait in the queue, and a 5,000-row bank file checked
    addresses = give(5)
    plan = plan_import(bank_file(5000), "banca.csv", network)
    assert plan.is_clean, plan.errors[:3]

    # when the import is applied (one transaction: SQLite's write lock for all of it) and the
    # worker starts meanwhile
    with transaction.atomic():
        counts = apply_import(plan)
        worker = start_worker(**SHORT_TIMEOUT)
        # ... kept open until the worker has met the lock, however fast this machine imports
        wait_for(lambda: STALL in worker.log(), "the worker to meet the import's lock", worker)
        assert worker.alive
        # nothing ran while the import held the lock
        assert not DBTaskResult.objects.exclude(status=TaskResultStatus.READY).exists()

    # then the import is whole and the worker, still alive, does what was queued
    assert counts == {"donors": 5000, "gifts": 5000}
    assert Donor.objects.filter(email__startswith="import").count() == 5000
    wait_for(all_done, "every receipt rendered and mailed", worker)
    assert worker.alive
    assert_each_receipt_stored_and_mailed_once(addresses, mail_dir)
