"""The supervisor of `bin/trama serve` (ops/supervisor.py) on stand-in children: shell
scripts in the entrypoint's place that record each start. The real children run in
test_serve.py."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings

CHILD = """#!/bin/sh
sleep 1000 &
echo "$!" > "$STARTS.$$.grandchild"
echo "$1 ${PROCESS_NAME:-} $$" >> "$STARTS"
trap 'echo "$1 stopped" >> "$STARTS"; exit 0' TERM
while true; do sleep 0.1; done
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers: look at its state
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


def test_a_dead_child_is_restarted_under_its_name_and_sigterm_stops_all(tmp_path):
    entry = tmp_path / "entry"
    entry.write_text(CHILD)
    entry.chmod(0o755)
    starts = tmp_path / "starts"
    starts.touch()
    env = {
        "PATH": "/usr/bin:/bin",
        "TRAMA_ENTRYPOINT": str(entry),
        "STARTS": str(starts),
        "WEB_WORKERS": "1",
        "TASK_WORKERS": "2",
        "RESTART_DELAY": "0.2",
    }
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "ops.supervisor"],
        cwd=settings.BASE_DIR,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def lines():
            return starts.read_text().splitlines()

        # one web, two workers with stable names, one scheduler
        wait_for(lambda: len(lines()) == 4)
        roles = sorted(line.rsplit(" ", 1)[0] for line in lines())
        host = os.uname().nodename
        assert roles == sorted(
            [
                "web ",
                f"worker worker-1@{host}",
                f"worker worker-2@{host}",
                f"scheduler scheduler-1@{host}",
            ]
        )
        # when worker-1 is killed, it is started again under the same name
        (killed,) = [line for line in lines() if "worker-1@" in line]
        killed_pid = int(killed.rsplit(" ", 1)[1])
        grandchild = int((tmp_path / f"starts.{killed_pid}.grandchild").read_text())
        os.kill(killed_pid, signal.SIGKILL)
        wait_for(lambda: len([x for x in lines() if "worker-1@" in x]) == 2)
        assert len(lines()) == 5
        # and what it had started went with it (killed with its process group)
        assert not alive(grandchild)
        # and SIGTERM stops every child gracefully
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=30) == 0
        assert len([x for x in lines() if x.endswith("stopped")]) == 4
        assert "worker-1@" in supervisor.stderr.read()
    finally:
        if supervisor.poll() is None:  # the test failed midway: stop the children too
            supervisor.send_signal(signal.SIGTERM)
            supervisor.wait(timeout=30)
