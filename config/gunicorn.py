"""gunicorn's settings for `bin/trama web` (read from the environment, like config/settings/).

WEB_BIND (default 127.0.0.1:8000; 0.0.0.0:8000 in the image), WEB_WORKERS processes (default
2 per CPU core + 1), WEB_TIMEOUT seconds before a stuck request's worker is replaced.
"""

import multiprocessing
import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
# Threads serve slow clients and outbound calls without blocking a whole worker.
threads = int(os.environ.get("WEB_THREADS", "2"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (bounded memory growth), not all at once. Not
# too few: a giving day's 1,000 cached pages a second would replace each worker every few
# seconds, and each new one loads the whole application again (see config/wsgi.py).
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Django logs one line per request with its id (ops.middleware); no second access log here.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Heartbeat files in memory, not on a container's overlay disk.
SHARED_MEMORY = "/dev/shm"  # noqa: S108 (gunicorn's documented choice in containers)
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
proc_name = "trama-web"
# No control socket (gunicorn 24+): unused, and several servers on one machine would share
# its default path in $HOME.
control_socket_disable = True


def child_exit(server, worker):
    """prometheus-client's multiprocess mode: forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
