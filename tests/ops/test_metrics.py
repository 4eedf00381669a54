"""/metrics: Prometheus' text behind a bearer token."""

import re

import pytest

from campaigns.models import StripeEvent
from crm.models import Donor, DonorEmail
from ops import heartbeat
from ops.models import ProcessBeat

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return {"Authorization": f"Bearer {TOKEN}"}


def value(text, name, **labels):
    """The sample `name{labels}` in Prometheus' text format (labels in any order)."""
    for line in text.splitlines():
        sample, _, number = line.rpartition(" ")
        found, _, rest = sample.partition("{")
        if found != name:
            continue
        pairs = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if pairs == {k: str(v) for k, v in labels.items()}:
            return float(number)
    raise AssertionError(f"{name}{labels} not in\n{text}")


def test_no_metrics_without_a_token_configured(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_a_missing_or_wrong_token_is_refused(client, db, token, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert b"trama_" not in response.content


def test_requests_tasks_emails_webhooks_and_processes(client, token, network_factory):
    # given some requests, emails waiting and sent, webhooks applied and failed, a worker
    network = network_factory("rete-metriche")
    donor = Donor.objects.create(network=network, first_name="Ada", email="ada@example.org")
    for status in ("queued", "queued", "failed", "sent", "gave_up"):
        DonorEmail.objects.create(kind="donor_portal", donor=donor, to=donor.email, status=status)
    for i, outcome in enumerate(["applied", "applied", "applied", "failed"]):
        StripeEvent.objects.create(event_id=f"evt_{i}", type="x", payload={}, outcome=outcome)
    heartbeat.beat("worker-1@test", ProcessBeat.Kind.WORKER)
    client.get("/healthz")
    client.get("/healthz")

    response = client.get("/metrics", headers=token)

    assert response.status_code == 200
    text = response.content.decode()
    assert (
        value(text, "trama_http_requests_total", view="ops:healthz", method="GET", status="503")
        >= 2
    )
    assert value(text, "trama_http_request_duration_seconds_count", view="ops:healthz") >= 2
    assert value(text, "trama_emails_waiting") == 3
    assert value(text, "trama_emails_gave_up") == 1
    assert value(text, "trama_stripe_events", outcome="applied") == 3
    assert value(text, "trama_stripe_events", outcome="failed") == 1
    assert value(text, "trama_processes_alive", kind="worker") == 1
    assert value(text, "trama_processes_alive", kind="scheduler") == 0
    assert value(text, "trama_queue_oldest_wait_seconds") == 0


def test_tasks_waiting_and_failed_on_the_database_queue(client, token, db, settings):
    from django_tasks_db.models import DBTaskResult

    from ops.tasks import answer_probe

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    answer_probe.enqueue(1)
    answer_probe.enqueue(2)
    DBTaskResult.objects.filter(pk=DBTaskResult.objects.first().pk).update(status="FAILED")

    text = client.get("/metrics", headers=token).content.decode()

    assert value(text, "trama_tasks_waiting") == 1
    assert value(text, "trama_tasks_failed") == 1


RQ_SCRIPT = """
import os
import django
django.setup()
import django_rq
from rq import SimpleWorker
from ops.metrics import task_counts
from ops.tasks import answer_probe

queue_name = os.environ["RQ_TEST_QUEUE"]
queue = django_rq.get_queue(queue_name)
try:
    # a task that fails (no such probe id: not a number), run by an RQ worker
    answer_probe.using(queue_name=queue_name).enqueue("not-a-number")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    # and two waiting for a worker
    answer_probe.using(queue_name=queue_name).enqueue(1)
    answer_probe.using(queue_name=queue_name).enqueue(2)
    print("counts", task_counts())
finally:
    queue.empty()
    for job_id in queue.failed_job_registry.get_job_ids():
        queue.failed_job_registry.remove(job_id, delete_job=True)
"""


def test_tasks_waiting_and_failed_on_rq(tmp_path):
    import os
    import subprocess
    import sys
    import uuid

    from django.conf import settings as django_settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.ops.rq_settings",
        "RQ_TEST_QUEUE": f"ops-metrics-{uuid.uuid4().hex}",
        "RQ_TEST_REDIS_URL": "redis://127.0.0.1:6379/5",
    }
    result = subprocess.run(
        [sys.executable, "-c", RQ_SCRIPT],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "counts (2, 1)" in result.stdout, result.stdout + result.stderr
