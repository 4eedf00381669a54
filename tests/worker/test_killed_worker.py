"""A worker killed mid-task (SIGKILL) and started again: every receipt is rendered and mailed,
and no donor gets the same email twice. On the database queue and on RQ; on SQLite and on
PostgreSQL. (Before, the sweep put the killed task back by rewriting django-tasks-db's own
row; now the sweep, run by the scheduler, queues new tasks from Trama's own rows.)"""

from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from crm.models import DonorEmail, Receipt

from .conftest import (
    all_done,
    assert_each_receipt_stored_and_mailed_once,
    beating,
    running_tasks,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def worker_writes_held(*models):
    """Nothing the worker writes to `models` can commit until the block ends: on SQLite this
    transaction holds the database's write lock (it BEGINs IMMEDIATE); on PostgreSQL those
    tables are locked EXCLUSIVE (reads go on). Taking it waits for the worker's open
    transaction to commit, so a kill inside the block lands between two of its writes."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
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


def kill_mid_task(worker, backend):
    """SIGKILL the worker while it runs a task, but not while an email is in flight: that
    window (sent, outcome not yet recorded) is the one where an email goes out again, by
    design (at least once, crm.mail). Returns the ids of the tasks it was running."""
    models = (DonorEmail, Receipt, DBTaskResult) if backend == "db" else (DonorEmail, Receipt)
    left_running = []

    def killed():
        with worker_writes_held(*models):
            running = running_tasks(backend)
            if running and not DonorEmail.objects.exclude(claimed_by="").exists():
                worker.kill()
                drop_dead_connections()
                left_running.extend(running)
        return bool(left_running)

    wait_for(killed, "the worker to be running a task", worker)
    return left_running


def test_a_worker_killed_mid_task_leaves_nothing_unsent_and_sends_nothing_twice(
    give, tasks_backend, start_worker, start_scheduler, mail_dir
):
    # given 15 gifts whose receipts wait to be rendered and mailed by the worker
    addresses = give(15)
    first = start_worker()
    wait_for(lambda: Receipt.objects.exclude(pdf_sha256="").exists(), "a first PDF", first)

    # when the worker is killed mid-task, leaving its task unfinished for ever
    assert kill_mid_task(first, tasks_backend)

    # and a new one starts, with the scheduler whose sweep finds what the dead one left
    lost = {"TASKS_LOST_AFTER": "2", "CLAIM_STALE_AFTER": "2", "SWEEP_INTERVAL": "1"}
    second = start_worker(**lost)
    scheduler = start_scheduler(**lost)
    wait_for(lambda: all_done(tasks_backend), "every receipt rendered and mailed", second)

    # then every receipt has its PDF and every donor exactly one email, sent once
    assert_each_receipt_stored_and_mailed_once(addresses, mail_dir)
    # and the dead worker stopped beating while the new one beats
    assert beating().count() == 2
    # and both stop gracefully on SIGTERM, as systemd stops them, leaving no heartbeat behind
    assert second.stop() == 0, second.log()
    assert scheduler.stop() == 0, scheduler.log()
    assert beating().count() == 1  # the killed one's, silent: /healthz shows it
    assert not beating("scheduler@").exists()
