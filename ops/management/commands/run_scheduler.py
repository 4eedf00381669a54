"""`manage.py run_scheduler`: enqueues the periodic jobs (settings.PERIODIC_JOBS) when due, on
the configured tasks backend (ops.scheduler). Run one per machine or several: each due run is
enqueued once. It beats as a SCHEDULER (ops.heartbeat) and stops on SIGTERM or SIGINT."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from ops import heartbeat, scheduler
from ops.beating import Beating
from ops.models import ProcessBeat

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue the periodic jobs (settings.PERIODIC_JOBS) when due; safe on many machines."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--name",
            default=None,
            help="This process's heartbeat name (default: scheduler@host:pid).",
        )
        parser.add_argument(
            "--tick",
            type=float,
            default=1.0,
            help="Seconds between two looks at the jobs (default: %(default)r).",
        )
        parser.add_argument(
            "--once", action="store_true", help="Enqueue what is due now, then exit (cron)."
        )

    def handle(self, *, name, tick, once, **_):
        jobs = scheduler.periodic_jobs()
        scheduler.ensure_rows(jobs)
        if once:
            self.stdout.write(" ".join(scheduler.enqueue_due(jobs)))
            return
        name = name or heartbeat.default_name(ProcessBeat.Kind.SCHEDULER)
        stopping = threading.Event()

        def stop(signum, frame):
            logger.info("scheduler %s: stopping (signal %s)", name, signum)
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        beating = Beating(name, ProcessBeat.Kind.SCHEDULER)
        beating.start()
        logger.info("scheduler %s: %s", name, ", ".join(f"{t.name} every {s}s" for t, s in jobs))
        try:
            while not stopping.is_set():
                try:
                    for path in scheduler.enqueue_due(jobs):
                        logger.info("scheduler %s: enqueued %s", name, path)
                except Exception:
                    logger.exception("scheduler %s: a tick failed", name)
                stopping.wait(tick)
        finally:
            beating.stop(forget=True)
