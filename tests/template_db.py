"""The test database migrated once per run, then copied for each xdist worker.

Every migration of every app (Wagtail's included) takes tens of seconds on a loaded 2-core
machine, and pytest-django runs them in each worker. Under xdist the first worker that needs the
database migrates a template database while holding a file lock; each worker (that one too) then
gets its own copy: `CREATE DATABASE … TEMPLATE` on PostgreSQL, SQLite's backup API on SQLite
(the database is in WAL mode: a plain file copy could miss pages). The copies hold exactly what
the migrations made, as before; only who runs them changes. The run's controller drops the
template at the end (`drop_template`).

One run is told from another by RUN_VARIABLE, set by the controller before the workers start
(they inherit it), so two runs on one machine (SQLite templates live in the temporary folder)
never share a template."""

import fcntl
import os
import sqlite3
import tempfile
import uuid
from pathlib import Path

RUN_VARIABLE = "TRAMA_TEST_RUN"


def new_run():
    os.environ[RUN_VARIABLE] = uuid.uuid4().hex


def run_files():
    """The lock, and the file naming the template once it is migrated (None outside xdist)."""
    run = os.environ.get(RUN_VARIABLE)
    if not run or not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    base = Path(tempfile.gettempdir()) / f"trama-test-template-{run}"
    return base.with_suffix(".lock"), base.with_suffix(".made")


def template_name(connection):
    run = os.environ[RUN_VARIABLE]
    if connection.vendor == "sqlite":
        return os.path.join(tempfile.gettempdir(), f"trama-test-template-{run}.sqlite3")
    # One PostgreSQL database per DATABASE_URL (as the workers' own test_<name>_gwN).
    return f"test_{connection.settings_dict['NAME']}_template"[:63]


def setup_worker_database(connection, verbosity):
    """Give this worker its copy of the template, migrating the template first if no worker
    has yet. Returns the name of the database to restore at teardown."""
    lock_path, made_path = run_files()
    worker_name = connection.creation._get_test_db_name()
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait here while one migrates
        try:
            if not made_path.exists():
                make_template(connection, verbosity)
                made_path.write_text(f"{connection.vendor}\n{template_name(connection)}\n")
            return copy_template(connection, worker_name)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def make_template(connection, verbosity):
    """Django's own test database creation (create, migrate, cache table), under the template's
    name; its settings are put back afterwards."""
    old_name = connection.settings_dict["NAME"]
    test = connection.settings_dict.setdefault("TEST", {})
    worker_test_name = test.get("NAME")
    test["NAME"] = template_name(connection)
    try:
        connection.creation.create_test_db(verbosity=verbosity, autoclobber=True)
    finally:
        connection.close()
        test["NAME"] = worker_test_name
        connection.settings_dict["NAME"] = old_name
        from django.conf import settings

        settings.DATABASES[connection.alias]["NAME"] = old_name


def copy_template(connection, worker_name):
    """Replace this worker's database with a copy of the template; point the connection at it."""
    from django.conf import settings

    old_name = connection.settings_dict["NAME"]
    template = template_name(connection)
    connection.close()
    if connection.vendor == "sqlite":
        Path(worker_name).unlink(missing_ok=True)
        source, target = sqlite3.connect(template), sqlite3.connect(worker_name)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    else:
        quote = connection.ops.quote_name
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(worker_name)}")
            cursor.execute(f"CREATE DATABASE {quote(worker_name)} TEMPLATE {quote(template)}")
            # A test database need not survive a crash of the server: its commits (thousands
            # per run, many in processes the tests start) return without waiting for the disk
            # (issue 22). Each commit is still atomic and seen by every other connection.
            cursor.execute(f"ALTER DATABASE {quote(worker_name)} SET synchronous_commit = off")
    settings.DATABASES[connection.alias]["NAME"] = worker_name
    connection.settings_dict["NAME"] = worker_name
    connection.ensure_connection()
    return old_name


def drop_template(connection):
    """In the controller, after the workers: remove the template this run made, if any."""
    run = os.environ.get(RUN_VARIABLE)
    if not run:
        return
    base = Path(tempfile.gettempdir()) / f"trama-test-template-{run}"
    lock_path, made_path = base.with_suffix(".lock"), base.with_suffix(".made")
    if made_path.exists():
        vendor, name = made_path.read_text().split("\n")[:2]
        if vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)
        else:
            quote = connection.ops.quote_name
            with connection.creation._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
            connection.close()
        made_path.unlink()
    lock_path.unlink(missing_ok=True)
