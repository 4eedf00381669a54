"""Background tasks of messages to donors (Django's tasks API; `manage.py run_worker` runs
them). Queued after commit; each is safe to run twice (`outreach.mailing`)."""

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from . import mailing
from .models import Message


@task()
def prepare_message(message_id):
    """Write the deliveries of a message being sent (or start a due scheduled one) and queue
    the workers that send them."""
    created = mailing.prepare(message_id)
    if created is not None:
        queue_workers(message_id)
    return created


@task()
def deliver_message(message_id):
    """Send a message's pending deliveries (`mailing.deliver`), sharing them with the other
    runs queued for it. A run that used up its time queues its successor; one that only has
    retries left queues itself for the first retry where the queue can defer (else the sweep
    does it)."""
    sent, state = mailing.deliver(message_id)
    if state == "more":
        deliver_message.enqueue(message_id)
    elif state == "waiting" and deliver_message.get_backend().supports_defer:
        due = mailing.next_retry(message_id)
        if due is not None:
            deliver_message.using(run_after=due).enqueue(message_id)
    return {"sent": sent, "state": state}


@task()
def start_due_messages():
    """The periodic job (settings.PERIODIC_JOBS) that starts scheduled messages at their time:
    each due one is switched to sending by compare-and-set, and only the run that switched it
    queues its preparation. Returns how many it started."""
    started = mailing.start_due()
    for message_id in started:
        prepare_message.enqueue(message_id)
    return len(started)


def queue_workers(message_id, count=None):
    """Queue the runs that share the sending of a message (OUTREACH_SEND_WORKERS)."""
    Message.objects.filter(pk=message_id).update(heartbeat_at=timezone.now())
    for _i in range(count or settings.OUTREACH_SEND_WORKERS):
        deliver_message.enqueue(message_id)
