"""Prometheus metrics for /metrics.

Requests are counted in the web process (ops.middleware.MetricsMiddleware). Under gunicorn
each worker is its own process: with PROMETHEUS_MULTIPROC_DIR set (bin/trama sets it before
gunicorn starts) prometheus-client keeps the counts in files there and the scrape adds up
every worker's; without it (runserver, tests) the counts are this process's own.
Everything else (tasks, emails, webhooks, processes) is read from the database at scrape time,
so any web worker answers the same.
"""

import os

from django.conf import settings
from django.db.models import Count
from django.tasks import TaskResultStatus, task_backends
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from campaigns.models import StripeEvent
from crm.models import DonorEmail

from . import heartbeat, queue_probe

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

# Not registered globally: each scrape builds its registry (multiprocess or not).
REQUESTS = Counter(
    "trama_http_requests",
    "HTTP requests answered, by view name, method and status.",
    ["view", "method", "status"],
    registry=None,
)
LATENCY = Histogram(
    "trama_http_request_duration_seconds",
    "Time to answer an HTTP request, by view name.",
    ["view"],
    registry=None,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def observe_request(view, method, status, seconds):
    method = method if method in METHODS else "other"
    REQUESTS.labels(view=view, method=method, status=str(status)).inc()
    LATENCY.labels(view=view).observe(seconds)


def multiprocess():
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def scrape():
    """The metrics in Prometheus' text format."""
    registry = CollectorRegistry()
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


class DatabaseCollector:
    """What the database says about the work waiting and done, read at each scrape."""

    def collect(self):
        now = timezone.now()
        yield from task_metrics()

        waiting = GaugeMetricFamily(
            "trama_emails_waiting", "Emails to donors not sent yet (queued or to retry)."
        )
        waiting.add_metric(
            [],
            DonorEmail.objects.filter(
                status__in=(DonorEmail.Status.QUEUED, DonorEmail.Status.FAILED)
            ).count(),
        )
        yield waiting
        gave_up = GaugeMetricFamily(
            "trama_emails_gave_up", "Emails to donors that failed every attempt."
        )
        gave_up.add_metric([], DonorEmail.objects.filter(status=DonorEmail.Status.GAVE_UP).count())
        yield gave_up

        events = GaugeMetricFamily(
            "trama_stripe_events",
            "Stripe webhook events kept, by outcome (applied, failed, waiting, given up...).",
            labels=["outcome"],
        )
        counts = dict(StripeEvent.objects.values_list("outcome").annotate(n=Count("pk")).order_by())
        for outcome in StripeEvent.Outcome.values:
            events.add_metric([outcome], counts.get(outcome, 0))
        yield events

        probe = GaugeMetricFamily(
            "trama_queue_oldest_wait_seconds",
            "Seconds the oldest waiting probe task has waited (0: none waiting).",
        )
        probe.add_metric([], queue_probe.oldest_wait(now).total_seconds())
        yield probe

        alive = GaugeMetricFamily(
            "trama_processes_alive", "Task workers and schedulers beating.", labels=["kind"]
        )
        for kind, n in count_by_kind(heartbeat.alive(now)).items():
            alive.add_metric([kind], n)
        yield alive
        silent = GaugeMetricFamily(
            "trama_processes_silent",
            "Task workers and schedulers that stopped beating (died).",
            labels=["kind"],
        )
        for kind, n in count_by_kind(heartbeat.silent(now)).items():
            silent.add_metric([kind], n)
        yield silent


def count_by_kind(beats):
    counts = dict.fromkeys(("worker", "scheduler"), 0)
    counts.update(dict(beats.values_list("kind").annotate(n=Count("pk")).order_by()))
    return counts


def task_metrics():
    """Tasks waiting and failed, from the tasks backend in use: django-tasks-db's table or
    RQ's queues. Nothing for a backend that keeps no queue (Immediate, Dummy)."""
    counts = task_counts()
    if counts is None:
        return
    for name, help_text, value in (
        ("trama_tasks_waiting", "Tasks waiting for a worker.", counts[0]),
        ("trama_tasks_failed", "Tasks that failed (kept by the backend).", counts[1]),
    ):
        family = GaugeMetricFamily(name, help_text)
        family.add_metric([], value)
        yield family


def task_counts():
    backend = task_backends["default"]
    path = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if path.startswith("django_tasks_db."):
        from django_tasks_db.models import DBTaskResult

        rows = DBTaskResult.objects.filter(
            status__in=(TaskResultStatus.READY, TaskResultStatus.FAILED)
        )
        counts = dict(rows.values_list("status").annotate(n=Count("pk")).order_by())
        return counts.get(TaskResultStatus.READY, 0), counts.get(TaskResultStatus.FAILED, 0)
    if path.startswith("django_tasks_rq."):
        import django_rq

        queues = [django_rq.get_queue(name) for name in backend.queues]
        return (
            sum(q.count for q in queues),
            sum(q.failed_job_registry.count for q in queues),
        )
    return None


def token_matches(header):
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time."""
    token = settings.METRICS_TOKEN
    scheme, _, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and constant_time_compare(given, token)
