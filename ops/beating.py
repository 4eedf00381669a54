"""A long-running process's heartbeat, written from a background thread (ops.heartbeat): a
task that runs for minutes does not silence its worker."""

import logging
import threading

from django.conf import settings
from django.db import connections

from . import heartbeat

logger = logging.getLogger(__name__)


class Beating(threading.Thread):
    """Beats as `name` at once and every HEARTBEAT_SECONDS until `stop()`, on its own database
    connection (closed after each beat: none stays open idle), then forgets the process if
    asked to (a graceful stop). A daemon: a killed process simply stops beating."""

    def __init__(self, name, kind):
        super().__init__(name=f"heartbeat-{kind}", daemon=True)
        self.process_name, self.kind = name, kind
        self.stopping = threading.Event()

    def run(self):
        while True:
            try:
                heartbeat.beat(self.process_name, self.kind)
            except Exception as exc:  # noqa: BLE001  (a missed beat must not stop the process)
                logger.warning("heartbeat of %s failed: %s", self.process_name, exc)
            finally:
                connections.close_all()  # this thread's connections only
            if self.stopping.wait(settings.HEARTBEAT_SECONDS):
                return

    def stop(self, *, forget=True):
        """Stop beating; `forget` removes the row (a graceful stop leaves nothing silent)."""
        self.stopping.set()
        self.join(timeout=settings.HEARTBEAT_SECONDS + 5)
        if forget:
            heartbeat.forget(self.process_name)
