"""A small process supervisor for `make serve` (`bin/trama serve`): one machine, all of Trama.

Starts the web server (gunicorn with WEB_WORKERS workers), TASK_WORKERS task workers and one
scheduler (SCHEDULERS=0 on machines that should run none), each through `bin/trama <role>`,
and restarts any child that dies (after RESTART_DELAY seconds, default 1, doubling up to 30 s
while it keeps dying quickly).
Each child gets a stable PROCESS_NAME (`worker-1@<host>`): a restarted worker beats on its
dead predecessor's heartbeat row, so /healthz turns green again. SIGTERM or SIGINT stops every
child with SIGTERM (they finish their current task) and SIGKILLs what is left after
STOP_TIMEOUT seconds. Each child runs in its own process group, killed whole when the child
dies or stops: nothing it started (RQ's work horse) outlives it.

Standard library only: it runs before (and without) Django.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ENTRYPOINT = str(Path(__file__).resolve().parent.parent / "bin" / "trama")
MAX_DELAY = 30.0
# A child that ran this long before dying is restarted after the first delay again.
STABLE_AFTER = 60.0


def say(message):
    print(f"supervisor: {message}", file=sys.stderr, flush=True)


class Child:
    def __init__(self, name, argv, env):
        self.name, self.argv, self.env = name, argv, env
        self.process = None
        self.started = 0.0
        self.first_delay = float(env.get("RESTART_DELAY", "1"))
        self.delay = self.first_delay
        self.restart_at = 0.0

    def start(self):
        # Its own process group: what it starts (RQ's work horse and scheduler) goes with it.
        self.process = subprocess.Popen(self.argv, env=self.env, start_new_session=True)  # noqa: S603
        self.started = time.monotonic()
        say(f"{self.name} started (pid {self.process.pid})")

    def reap(self, now):
        """If the child died, plan its restart; returns True when it did."""
        if self.process is None or self.process.poll() is None:
            return False
        code = self.process.returncode
        # Nothing it started outlives it (a task half-run by an orphan would run twice).
        kill_group(self.process.pid)
        self.process = None
        if now - self.started >= STABLE_AFTER:
            self.delay = self.first_delay
        self.restart_at = now + self.delay
        say(f"{self.name} exited with {code}; restarting in {self.delay:.0f} s")
        self.delay = min(self.delay * 2, max(MAX_DELAY, self.first_delay))
        return True


def kill_group(pgid):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def children(environ):
    host = socket.gethostname()
    base = {**environ}
    entry = environ.get("TRAMA_ENTRYPOINT", ENTRYPOINT)
    made = []
    if int(environ.get("WEB_WORKERS", "2")) > 0:
        made.append(Child("web", [entry, "web"], base))
    for i in range(1, int(environ.get("TASK_WORKERS", "2")) + 1):
        name = f"worker-{i}@{host}"
        made.append(Child(name, [entry, "worker"], {**base, "PROCESS_NAME": name}))
    for i in range(1, int(environ.get("SCHEDULERS", "1")) + 1):
        name = f"scheduler-{i}@{host}"
        made.append(Child(name, [entry, "scheduler"], {**base, "PROCESS_NAME": name}))
    return made


def supervise(kids, stop_timeout):
    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for kid in kids:
        kid.start()
    while not stopping:
        now = time.monotonic()
        for kid in kids:
            kid.reap(now)
            if kid.process is None and now >= kid.restart_at and not stopping:
                kid.start()
        time.sleep(0.2)

    say("stopping")
    running = [kid.process for kid in kids if kid.process is not None]
    for process in running:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + stop_timeout
    for process in running:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            kill_group(process.pid)
            process.wait()
    for process in running:
        kill_group(process.pid)  # what a child that stopped left running
    say("stopped")
    return 0


def main():
    kids = children(os.environ)
    if not kids:
        say("nothing to run (WEB_WORKERS, TASK_WORKERS and SCHEDULERS are all 0)")
        return 1
    return supervise(kids, float(os.environ.get("STOP_TIMEOUT", "30")))


if __name__ == "__main__":
    sys.exit(main())
