"""A message to a few hundred donors sent by real `manage.py run_worker` processes: killed
(SIGKILL) mid-send and restarted, or two at once, every consenting member gets exactly one
email. On the database queue and on RQ; on SQLite and on PostgreSQL."""

import datetime
import time
from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from wagtail.rich_text import RichText

from crm.models import Donor
from outreach.models import Delivery, Message, Segment
from outreach.sending import start_sending

from .conftest import mail_recipients, queue_idle, wait_for
from .test_killed_worker import drop_dead_connections

pytestmark = pytest.mark.django_db(transaction=True)

CONFIRMED_AT = datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)


@pytest.fixture
def message_to(network):
    """A message ready to go to `count` consenting donors (and to no one else: two more donors
    did not confirm). Returns (message, their addresses)."""

    def make(count):
        Donor.objects.bulk_create(
            Donor(
                network=network,
                first_name=f"Nome{i}",
                email=f"member{i}@example.org",
                newsletter=True,
                newsletter_confirmed_at=CONFIRMED_AT,
            )
            for i in range(count)
        )
        Donor.objects.create(network=network, first_name="No", email="no@example.org")
        Donor.objects.create(
            network=network, first_name="Forse", email="maybe@example.org", newsletter=True
        )
        message = Message.objects.create(
            network=network,
            segment=Segment.objects.create(network=network, name="Tutti"),
            subject="Notizie per {nome}",
            body=[("paragraph", RichText("<p>Ciao {nome}, ecco cosa abbiamo fatto.</p>"))],
        )
        return message, [f"member{i}@example.org" for i in range(count)]

    return make


@contextmanager
def worker_writes_held():
    """Nothing the worker writes can commit until the block ends (as in test_killed_worker):
    a kill inside lands between two of its writes."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tables = ", ".join(
                connection.ops.quote_name(model._meta.db_table) for model in (Delivery, Message)
            )
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        yield


def message_sent(message, backend):
    def done():
        return Message.objects.filter(
            pk=message.pk, status=Message.Status.SENT
        ).exists() and queue_idle(backend)

    return done


def assert_each_member_mailed_once(message, addresses, mail_dir):
    received = mail_recipients(mail_dir)
    assert sorted(received) == sorted(addresses)
    assert set(received.values()) == {1}
    assert Delivery.objects.filter(message=message, status=Delivery.Status.SENT).count() == len(
        addresses
    )
    message.refresh_from_db()
    assert message.recipients == len(addresses)


def test_a_worker_killed_mid_send_leaves_no_donor_without_and_none_with_two(
    message_to, tasks_backend, start_worker, start_scheduler, mail_dir
):
    # given a message to 400 donors, sent by a worker in small batches
    message, addresses = message_to(400)
    start_sending(message, None)
    first = start_worker(OUTREACH_BATCH_SIZE="10", OUTREACH_SEND_WORKERS="1")
    wait_for(
        lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() >= 20,
        "the first emails sent",
        first,
    )

    # when the worker is killed mid-send (SIGKILL: its claimed batch and task are left behind),
    # at a moment no email is between the mail backend and its SENT mark (that window sends
    # again by design: at least once, outreach.mailing)
    def killed():
        with worker_writes_held():
            # Under the lock the worker soon waits at its next write: once the mail files stop
            # growing, it is blocked there, and if every email written is marked SENT that
            # write is not the SENT mark of an email already out.
            mailed = sum(mail_recipients(mail_dir).values())
            time.sleep(0.3)
            still = sum(mail_recipients(mail_dir).values())
            sent = Delivery.objects.filter(status=Delivery.Status.SENT).count()
            if mailed == still == sent:
                first.kill()
                drop_dead_connections()
                return True
        return False

    wait_for(killed, "a moment between two sends", first)
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).exists()

    # and a new worker starts, with the scheduler whose sweep finds the dead worker's claims
    # (their heartbeat stopped) and the message with no sign of work
    lost = {"CLAIM_STALE_AFTER": "2", "TASKS_LOST_AFTER": "2", "SWEEP_INTERVAL": "1"}
    second = start_worker(**lost)
    scheduler = start_scheduler(**lost)
    wait_for(message_sent(message, tasks_backend), "the message sent", second)

    # then every member got exactly one email, and nobody else any
    assert_each_member_mailed_once(message, addresses, mail_dir)
    assert second.stop() == 0, second.log()[-3000:]
    assert scheduler.stop() == 0, scheduler.log()[-3000:]


def test_two_workers_share_a_message_without_sending_anything_twice(
    message_to, tasks_backend, start_worker, mail_dir
):
    # given a message to 300 donors
    message, addresses = message_to(300)
    start_sending(message, None)

    # when two workers send it at once (two deliver runs are queued: OUTREACH_SEND_WORKERS)
    workers = [start_worker(OUTREACH_BATCH_SIZE="10"), start_worker(OUTREACH_BATCH_SIZE="10")]
    wait_for(message_sent(message, tasks_backend), "the message sent", workers[0])

    # then every member got exactly one email
    assert_each_member_mailed_once(message, addresses, mail_dir)
    for worker in workers:
        assert worker.stop() == 0, worker.log()[-3000:]
