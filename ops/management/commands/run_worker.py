"""`manage.py run_worker`: the task worker of production and of the demo, for the configured
tasks backend:
- the database queue (django-tasks-db): its own worker loop (`db_worker`), made to survive
  SQLite's "database is locked" when another process holds a write for longer than the busy
  timeout (a 5,000-row import did it): the worker logs one warning, waits for the other writer
  to finish, and carries on; a task whose outcome could not be written goes back to READY.
- RQ on Redis (django-tasks-rq, several machines): RQ's worker, as django-rq's `rqworker`
  starts it, with django-tasks-rq's job class and RQ's scheduler for deferred tasks (retries,
  scheduled messages). A `SimpleWorker`: each task runs in this process, not in a forked
  child that would outlive a killed worker and go on sending.
Either way it beats (ops.heartbeat, as a WORKER, from a background thread) every
HEARTBEAT_SECONDS, and SIGTERM or SIGINT stop it gracefully after the current task, after
which its heartbeat row is forgotten. What a killed worker leaves behind is found by the sweep
(crm.sweep, a periodic job of `manage.py run_scheduler`) from Trama's own rows.
"""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, close_old_connections, router
from django.tasks import (
    DEFAULT_TASK_BACKEND_ALIAS,
    DEFAULT_TASK_QUEUE_NAME,
    TaskResultStatus,
    task_backends,
)
from django.tasks.exceptions import InvalidTaskBackend
from django.urls import get_resolver
from django.utils import translation
from django.utils.crypto import get_random_string
from django_rq.workers import get_worker
from django_tasks_db import DatabaseBackend
from django_tasks_db.management.commands.db_worker import (
    Worker,
    valid_interval,
    valid_max_tasks,
    validate_worker_id,
)
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception
from rq.logutils import setup_loghandlers
from rq.worker import SimpleWorker

from crm.pdf import prepare_renderer
from ops import heartbeat
from ops.beating import Beating
from ops.models import ProcessBeat

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


def warm_up():
    """Load at start what the first tasks would otherwise load while a donor waits for their
    receipt: the URLconf (the gift email's links: importing every app's views and Wagtail's
    admin, then reversing in each language) and the receipt renderer (WeasyPrint, its fonts and
    stylesheet). bench/giving_day.py's py-spy saw the URLconf alone take a third of the task
    workers' CPU in a 40 s giving day."""
    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            resolver.app_dict  # noqa: B018 (populates the reverse tables of this language)
    prepare_renderer()


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


class DjangoSimpleWorker(SimpleWorker):
    """RQ's in-process worker, with Django's connection hygiene around each task (as a request
    has): a connection the database dropped meanwhile is not reused."""

    def perform_job(self, job, queue, *args, **kwargs):
        close_old_connections()
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            close_old_connections()


def backend_kind(backend_name):
    """ "db" or "rq": which worker the configured backend needs."""
    try:
        backend = task_backends[backend_name]
    except InvalidTaskBackend as exc:
        raise CommandError(exc.args[0]) from exc
    if isinstance(backend, DatabaseBackend):
        return "db"
    if type(backend).__module__.startswith("django_tasks_rq"):
        return "rq"
    raise CommandError(
        f"run_worker runs the database queue or RQ, not {type(backend).__name__}"
        f" (TASKS[{backend_name!r}])"
    )


def run_rq_worker(*, queue_names, batch, max_tasks, name, verbosity):
    level = "DEBUG" if verbosity >= 2 else "WARNING" if verbosity == 0 else "INFO"
    setup_loghandlers(level)
    worker = get_worker(
        *queue_names,
        job_class="django_tasks_rq.Job",
        worker_class=DjangoSimpleWorker,
        name=name,
    )
    close_old_connections()
    worker.work(burst=batch, with_scheduler=True, logging_level=level, max_jobs=max_tasks)


class Command(BaseCommand):
    help = "Run the task worker of the configured backend (database queue or RQ), beating."
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
            type=str,
            help="The task backend (default: %(default)r).",
        )
        parser.add_argument(
            "--name",
            default=None,
            help="This process's heartbeat name (default: worker@host:pid).",
        )
        parser.add_argument(
            "--worker-id",
            type=validate_worker_id,
            default=None,
            help="Unique across the running workers (default: a random one).",
        )

    def handle(
        self, *, queue_name, interval, batch, max_tasks, backend_name, worker_id, name, **options
    ):
        if not queue_name:
            raise CommandError("--queue-name must name at least one queue")
        kind = backend_kind(backend_name)
        name = name or heartbeat.default_name(ProcessBeat.Kind.WORKER)
        beating = Beating(name, ProcessBeat.Kind.WORKER)
        beating.start()
        warm_up()
        try:
            if kind == "rq":
                queues = queue_name.split(",")
                if queues == ["*"]:
                    queues = sorted(task_backends[backend_name].queues)
                run_rq_worker(
                    queue_names=queues,
                    batch=batch,
                    max_tasks=max_tasks,
                    name=name,
                    verbosity=options["verbosity"],
                )
            else:
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
                worker.run()
        finally:
            # Reached on a graceful stop (SIGTERM, SIGINT, --batch done): nothing left silent.
            beating.stop(forget=True)
