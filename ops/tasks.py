"""The ops app's background tasks: the queue probe the scheduler sends (PERIODIC_JOBS)."""

from django.tasks import task

from . import queue_probe


@task()
def probe_queue():
    """Periodic: write a probe and send `answer_probe` through the queue (ops.queue_probe)."""
    queue_probe.send_probe(lambda probe_id: answer_probe.enqueue(probe_id))


@task()
def answer_probe(probe_id):
    queue_probe.answer_probe(probe_id)
