"""The test database migrated once, then copied for each test process (each xdist worker).

Every migration of every app (Wagtail's included, 322 in all) takes 90 s on a loaded 2-core
machine, and pytest-django runs them in each worker of each run. Here the first worker that needs
the database migrates a template database while holding a file lock; each worker (that one too)
then gets its own copy: `CREATE DATABASE … TEMPLATE` on PostgreSQL, SQLite's backup API on SQLite
(the database is in WAL mode: a plain file copy could miss pages). The copies hold exactly what
the migrations made, as before; only who runs them changes.

The template is kept between runs, named by a digest of every migration file of every installed
app (and the database cache tables `create_test_db` adds): a run after a change to any migration
makes a new one, and removes those unused for a day. Once per run the first worker sends
`post_migrate` to the template again, so permissions that code alone declares (Wagtail
snippets) are as a fresh migrate would make them. `pytest --create-db` makes the template again.

One run is told from another by RUN_VARIABLE, set by the controller before the workers start
(they inherit it); the lock is per template, so runs on one machine never make one at once."""

import fcntl
import hashlib
import os
import sqlite3
import tempfile
import time
import uuid
from importlib import import_module
from pathlib import Path

RUN_VARIABLE = "TRAMA_TEST_RUN"


def new_run():
    os.environ[RUN_VARIABLE] = uuid.uuid4().hex


def run_files():
    """This run's file saying the template is ready for it (None outside a pytest run)."""
    run = os.environ.get(RUN_VARIABLE)
    if not run:
        return None
    return Path(tempfile.gettempdir()) / f"trama-test-run-{run}.ready"


def migrations_digest(connection):
    """What the template is made of: every migration file, and the cache tables."""
    from django.apps import apps
    from django.conf import settings

    digest = hashlib.sha256(connection.vendor.encode())
    for app in sorted(apps.get_app_configs(), key=lambda app: app.label):
        try:
            module = import_module(f"{app.name}.migrations")
        except ImportError:
            continue
        for path in sorted(Path(next(iter(module.__path__))).glob("*.py")):
            digest.update(f"{app.label}/{path.name}\n".encode())
            digest.update(path.read_bytes())
    tables = sorted(
        cache["LOCATION"]
        for cache in settings.CACHES.values()
        if cache["BACKEND"].endswith("DatabaseCache")
    )
    digest.update(repr(tables).encode())
    return digest.hexdigest()[:12]


def template_name(connection, digest):
    if connection.vendor == "sqlite":
        return os.path.join(tempfile.gettempdir(), f"trama-test-template-{digest}.sqlite3")
    # One PostgreSQL template per DATABASE_URL (as the workers' own test_<name>_gwN).
    return f"test_{connection.settings_dict['NAME'][:36]}_tpl_{digest}"


def setup_worker_database(connection, verbosity, fresh=False):
    """Give this worker its copy of the template, making the template first if there is none
    (or `fresh`), and sending it post_migrate once per run. Returns the name of the database to
    restore at teardown."""
    ready = run_files()
    digest = migrations_digest(connection)
    template = template_name(connection, digest)
    worker_name = connection.creation._get_test_db_name()
    lock_path = lock_path_of(digest)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers (and runs) wait while one migrates
        os.utime(lock_path)  # used now (see is_stale)
        try:
            if not ready.exists():
                if fresh or not template_exists(connection, template):
                    make_template(connection, template, verbosity)
                    drop_other_templates(connection, template)
                else:
                    refresh_template(connection, template)
                ready.write_text(f"{connection.vendor}\n{template}\n")
            return copy_template(connection, template, worker_name)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def template_exists(connection, template):
    if connection.vendor == "sqlite":
        return Path(template).exists()
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        return cursor.fetchone() is not None


def templates_like(connection, template):
    """Every template of this kind on the machine (other digests included)."""
    prefix = template.rsplit("_tpl_", 1)[0] + "_tpl_"
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix])
        return [row[0] for row in cursor.fetchall()]


STALE_AFTER = 24 * 3600  # seconds since a template was last used (its lock file touched)


def lock_path_of(digest):
    return Path(tempfile.gettempdir()) / f"trama-test-template-{digest}.lock"


def is_stale(digest):
    """Unused for a day, or never used here: another worktree's run may still be using a
    template of other migrations, so a new template never removes a recent one."""
    try:
        return time.time() - lock_path_of(digest).stat().st_mtime > STALE_AFTER
    except FileNotFoundError:
        return True


def drop_other_templates(connection, template):
    """Templates of earlier migrations, once stale, are of no more use."""
    if connection.vendor == "sqlite":
        for path in Path(tempfile.gettempdir()).glob("trama-test-template-*.sqlite3"):
            digest = path.name.removeprefix("trama-test-template-").removesuffix(".sqlite3")
            if str(path) != template and is_stale(digest):
                path.unlink(missing_ok=True)
        return
    quote = connection.ops.quote_name
    for name in templates_like(connection, template):
        if name != template and is_stale(name.rsplit("_tpl_", 1)[1]):
            try:
                with connection.creation._nodb_cursor() as cursor:
                    cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
            except Exception:  # noqa: BLE001 - in use after all: left for a later run
                pass


def make_template(connection, template, verbosity):
    """Django's own test database creation (create, migrate, cache table) under a temporary
    name, renamed to the template's once complete (a run killed midway leaves no half template);
    the connection's settings are put back afterwards."""
    building = f"{template}_new" if connection.vendor == "postgresql" else f"{template}.new"
    old_name = connection.settings_dict["NAME"]
    test = connection.settings_dict.setdefault("TEST", {})
    worker_test_name = test.get("NAME")
    test["NAME"] = building
    try:
        connection.creation.create_test_db(verbosity=verbosity, autoclobber=True)
    finally:
        connection.close()
        test["NAME"] = worker_test_name
        connection.settings_dict["NAME"] = old_name
        from django.conf import settings

        settings.DATABASES[connection.alias]["NAME"] = old_name
    if connection.vendor == "sqlite":
        backup_sqlite(building, f"{template}.tmp")
        os.replace(f"{template}.tmp", template)
        for suffix in ("", "-wal", "-shm"):
            Path(building + suffix).unlink(missing_ok=True)
    else:
        quote = connection.ops.quote_name
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(template)}")
            cursor.execute(f"ALTER DATABASE {quote(building)} RENAME TO {quote(template)}")


def refresh_template(connection, template):
    """post_migrate on the kept template: what code declares beside the migrations."""
    from django.conf import settings
    from django.core.management.sql import emit_post_migrate_signal

    old_name = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = template
    try:
        emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = old_name
        settings.DATABASES[connection.alias]["NAME"] = old_name


def backup_sqlite(source_path, target_path):
    Path(target_path).unlink(missing_ok=True)
    source, target = sqlite3.connect(source_path), sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def copy_template(connection, template, worker_name):
    """Replace this worker's database with a copy of the template; point the connection at it."""
    from django.conf import settings

    old_name = connection.settings_dict["NAME"]
    connection.close()
    if connection.vendor == "sqlite":
        backup_sqlite(template, worker_name)
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


def forget_run():
    """In the controller, after the workers: this run's file goes; the template stays."""
    ready = Path(tempfile.gettempdir()) / f"trama-test-run-{os.environ.get(RUN_VARIABLE)}.ready"
    ready.unlink(missing_ok=True)
