"""A worker killed mid-task (SIGKILL) and started again: every receipt is rendered and mailed,
and no donor gets the same email twice. On SQLite and on PostgreSQL."""

from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from crm.models import DonorEmail, Receipt

from .conftest import all_done, assert_each_receipt_stored_and_mailed_once, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def worker_writes_held():
    """Nothing the worker writes can commit until the block ends: on SQLite this transaction
    holds the database's write lock (it BEGINs IMMEDIATE); on PostgreSQL the tables the worker
    writes are locked EXCLUSIVE (reads go on). Taking it waits for the worker's open
    transaction to commit, so a kill inside the block lands between two of the worker's
    transactions: a message is never handed to the mail backend and then forgotten, the one
    window no queue can close (killed between the provider's "accepted" and the commit)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tables = ", ".join(
                connection.ops.quote_name(model._meta.db_table)
                for model in (DonorEmail, Receipt, DBTaskResult)
            )
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        yield


def drop_dead_connections():
    """PostgreSQL notices a dead client only when it next talks to it: a statement the killed
    worker had sent (waiting for our lock) would still run and commit. End those sessions now,
    as the server would have had the kill come a moment earlier."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def kill_mid_task(worker):
    """SIGKILL the worker while it runs a task. Returns the ids of the tasks it left RUNNING."""
    left_running = []

    def killed():
        with worker_writes_held():
            running = list(DBTaskResult.objects.running().values_list("pk", flat=True))
            if running:
                worker.kill()
                drop_dead_connections()
                left_running.extend(running)
        return bool(left_running)

    wait_for(killed, "the worker to be running a task", worker)
    return left_running


def test_a_worker_killed_mid_task_leaves_nothing_unsent_and_sends_nothing_twice(
    give, start_worker, mail_dir
):
    # given 15 gifts whose receipts wait to be rendered and mailed by the worker
    addresses = give(15)
    first = start_worker()
    wait_for(lambda: Receipt.objects.exclude(pdf_sha256="").exists(), "a first PDF", first)

    # when the worker is killed mid-task, leaving its task RUNNING for ever
    left_running = kill_mid_task(first)
    assert left_running

    # and a new one starts, which finds the stuck task in its sweep
    second = start_worker(TASKS_STUCK_AFTER="2", WORKER_SWEEP_INTERVAL="1")
    wait_for(all_done, "every receipt rendered and mailed", second)

    # then the stuck task was put back and run again by the new worker
    for task in DBTaskResult.objects.filter(pk__in=left_running):
        assert len(task.worker_ids) == 2
    # and every receipt has its PDF and every donor exactly one email, sent once
    assert_each_receipt_stored_and_mailed_once(addresses, mail_dir)
    # and the worker stops gracefully on SIGTERM, as systemd stops it
    assert second.stop() == 0
