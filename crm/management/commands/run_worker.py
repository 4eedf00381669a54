"""`manage.py run_worker`: the task worker of production and of the demo.

django-tasks-db's own worker loop (`db_worker`), made to survive two things that stopped it:
- SQLite's "database is locked" when another process holds a write for longer than the busy
  timeout (a 5,000-row import did it): the worker logs one warning, waits for the other writer
  to finish, and carries on; a task whose outcome could not be written goes back to READY.
- a worker killed mid-task: the sweep (crm.sweep), at start and every WORKER_SWEEP_INTERVAL
  seconds, puts back what it left behind.
SIGTERM and SIGINT stop it gracefully after the current task, as `db_worker` does.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connections, router
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME, TaskResultStatus
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import (
    Worker,
    valid_backend_name,
    valid_interval,
    valid_max_tasks,
    validate_worker_id,
)
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from crm.sweep import run_sweep

logger = logging.getLogger(__name__)

# How often a stalled worker checks whether the database takes writes again (each check also
# waits up to the busy timeout).
LOCK_POLL_SECONDS = 1.0


class LockedDatabase:
    """Waits out "database is locked" (SQLite: another process holds the write lock for longer
    than the busy timeout). One warning per stall, not per attempt."""

    def __init__(self, using):
        self.using = using

    def wait_out(self, error, then=None):
        """Retry `then` (by default: take and release the write lock) until the database lets
        it through, and return its result."""
        action = then or self.take_write_lock
        started = time.monotonic()
        logger.warning("database is locked (%s): waiting for the other writer to finish", error)
        while True:
            time.sleep(LOCK_POLL_SECONDS)
            try:
                result = action()
            except OperationalError as exc:
                if not is_locked_database_exception(exc):
                    raise
                continue
            logger.info("database unlocked after %.0f s", time.monotonic() - started)
            return result

    def take_write_lock(self):
        # The lock the worker's own claim takes (BEGIN EXCLUSIVE on SQLite).
        with exclusive_transaction(self.using):
            pass


class SurvivingWorker(Worker):
    """django-tasks-db's Worker that waits out a locked database instead of dying."""

    def __init__(self, **options):
        super().__init__(**options)
        self.locks = LockedDatabase(router.db_for_write(DBTaskResult))

    def run(self):
        while True:
            try:
                return super().run()
            except OperationalError as exc:
                # Raised where the loop claims a task (BEGIN EXCLUSIVE timed out).
                if not is_locked_database_exception(exc):
                    raise
                self.locks.wait_out(exc)
                self.startup_delay = False

    def run_task(self, db_task_result):
        try:
            super().run_task(db_task_result)
        except OperationalError as exc:
            # Recording the outcome timed out: the row is still RUNNING.
            if not is_locked_database_exception(exc):
                raise
            error = exc
        else:
            if not failed_on_locked_database(db_task_result):
                return
            # The task's own write timed out: nothing is wrong with the task.
            error = last_line(db_task_result.traceback)
        self.locks.wait_out(error, then=lambda: requeue(db_task_result))


def failed_on_locked_database(db_task_result):
    """The library records a failed task's exception as a class path and a traceback."""
    if db_task_result.status != TaskResultStatus.FAILED:
        return False
    if db_task_result.exception_class_path != "django.db.utils.OperationalError":
        return False
    return "is locked" in last_line(db_task_result.traceback).lower()


def last_line(text):
    """The exception's own line, at the end of a traceback."""
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def requeue(db_task_result):
    """Put a task back on the queue (our tasks are idempotent). Left alone if it finished
    meanwhile."""
    DBTaskResult.objects.filter(
        pk=db_task_result.pk, status__in=(TaskResultStatus.RUNNING, TaskResultStatus.FAILED)
    ).update(
        status=TaskResultStatus.READY,
        started_at=None,
        finished_at=None,
        exception_class_path="",
        traceback="",
    )


class Sweeper(threading.Thread):
    """Runs the sweep every `interval` seconds beside the worker loop, on its own database
    connection, so a long task does not delay it. A daemon: it stops with the worker."""

    def __init__(self, interval):
        super().__init__(name="sweep", daemon=True)
        self.interval = interval

    def run(self):
        locked = False
        while True:
            time.sleep(self.interval)
            locked = sweep_once(locked)


def sweep_once(locked=False):
    """One sweep, logged when it did something. Never raises: the worker must outlive a bad
    sweep. Returns whether the database was locked (to warn once per stall)."""
    try:
        counts = run_sweep()
    except OperationalError as exc:
        if not is_locked_database_exception(exc):
            logger.exception("sweep failed")
            return False
        if not locked:
            logger.warning("sweep skipped: database is locked (%s)", exc)
        return True
    except Exception:
        logger.exception("sweep failed")
        return False
    finally:
        connections.close_all()  # this thread's connections only: none stays open idle
    if any(counts.values()):
        logger.warning("sweep put work back on the queue: %s", counts)
    return False


class Command(BaseCommand):
    help = "Run the task worker (django-tasks-db's, surviving a locked database) and the sweep."
    # Django's checks probe SQLite's JSON support in a write transaction: behind another
    # process's long write they time out and report "SQLite does not support JSONFields" (and
    # stop the worker). `manage.py check` runs at deploy; the worker starts regardless.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue-name",
            default=DEFAULT_TASK_QUEUE_NAME,
            help="Queues to process, comma-separated; '*' for all (default: %(default)r).",
        )
        parser.add_argument(
            "--interval",
            default=1,
            type=valid_interval,
            help="Seconds to wait when the queue is empty (default: %(default)r).",
        )
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Sweep once, run every outstanding task, then exit (tests, cron).",
        )
        parser.add_argument(
            "--max-tasks",
            type=valid_max_tasks,
            default=None,
            help="Exit after running this many tasks.",
        )
        parser.add_argument(
            "--backend",
            dest="backend_name",
            default=DEFAULT_TASK_BACKEND_ALIAS,
            type=valid_backend_name,
            help="The database task backend (default: %(default)r).",
        )
        parser.add_argument(
            "--worker-id",
            type=validate_worker_id,
            default=None,
            help="Unique across the running workers (default: a random one).",
        )

    def handle(self, *, queue_name, interval, batch, max_tasks, backend_name, worker_id, **_):
        if not queue_name:
            raise CommandError("--queue-name must name at least one queue")
        worker = SurvivingWorker(
            queue_names=queue_name.split(","),
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=not batch,
            max_tasks=max_tasks,
            worker_id=worker_id or get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        # First what a dead worker left behind, then every interval beside the loop.
        sweep_once()
        if not batch and settings.WORKER_SWEEP_INTERVAL > 0:
            Sweeper(settings.WORKER_SWEEP_INTERVAL).start()
        worker.run()
