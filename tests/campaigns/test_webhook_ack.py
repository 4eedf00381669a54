"""Acknowledge first, apply in the worker (issue 21): the request stores the event and its task,
the worker applies it. Nothing lost when the task is (a worker killed mid-apply, a flushed
Redis, a worker down for a while), nothing doubled when it runs twice, at once on two
machines."""

import datetime
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns.models import StripeEvent
from campaigns.stripe_handlers import checkout_completed
from campaigns.webhooks import apply_event, requeue_unapplied
from crm.models import Donation, DonorEmail, Receipt

from . import payloads
from .conftest import APPLY_TASK, event, run_queued


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _later(settings, seconds):
    return timezone.now() + datetime.timedelta(seconds=settings.TASKS_LOST_AFTER + seconds)


def _acknowledged(deliver, pending_donation):
    donation = pending_donation(2500, codice_fiscale="RSSMRA80A01H501U")
    completed = event(
        "checkout.session.completed", payloads.checkout_session(donation, pi="pi_test_ack")
    )
    assert deliver(completed).status_code == 200
    return donation, completed


def test_a_task_lost_between_the_ack_and_the_apply_is_queued_again_by_the_sweep(
    deliver, pending_donation, effects, database_queue, settings
):
    # given a gift's payment acknowledged, and its task claimed by a worker killed mid-apply
    # (its transaction rolled back: the event is still pending, the task never finishes)
    donation, completed = _acknowledged(deliver, pending_donation)
    DBTaskResult.objects.update(status="RUNNING")
    # when the sweep runs before TASKS_LOST_AFTER: the task may just be waiting in a long queue
    assert requeue_unapplied(_later(settings, -5)) == {"stripe_events_queued": 0}
    # then nothing is queued; after it, the event is queued again, by one sweep only
    later = _later(settings, 5)
    assert requeue_unapplied(later) == {"stripe_events_queued": 1}
    assert requeue_unapplied(later) == {"stripe_events_queued": 0}
    # and the worker applies it, once
    assert run_queued() == 1
    donation.refresh_from_db()
    assert donation.status == "succeeded"
    assert Receipt.objects.filter(donations=donation).count() == 1
    assert DonorEmail.objects.filter(donation=donation).count() == 1
    stored = StripeEvent.objects.get(event_id=completed["id"])
    assert (stored.outcome, stored.attempts) == ("applied", 1)
    # and once applied, no sweep queues it again
    assert requeue_unapplied(_later(settings, 10_000)) == {"stripe_events_queued": 0}


def test_a_worker_down_for_a_while_leaves_the_events_waiting_and_applies_each_once(
    deliver, pending_donation, effects, database_queue, settings
):
    # given a gift's payment acknowledged while no worker runs, long enough for the sweep
    donation, completed = _acknowledged(deliver, pending_donation)
    assert requeue_unapplied(_later(settings, 5)) == {"stripe_events_queued": 1}
    assert DBTaskResult.objects.ready().filter(task_path=APPLY_TASK).count() == 2
    # when the worker comes back and runs both tasks
    assert run_queued() == 2
    # then the gift is recorded and receipted once
    assert Donation.objects.get(pk=donation.pk).status == "succeeded"
    assert Receipt.objects.filter(donations=donation).count() == 1
    assert DonorEmail.objects.filter(donation=donation).count() == 1
    assert effects == [("succeeded", donation.pk)]


def test_a_failed_event_is_retried_by_the_sweep_for_three_days(
    deliver, pending_donation, database_queue, settings
):
    # given a paid gift, and a refund larger than the gift: its apply fails
    donation, _completed = _acknowledged(deliver, pending_donation)
    assert run_queued() == 1
    too_much = payloads.charge("ch_X", "pi_test_ack", amount=9000, amount_refunded=9000)
    assert deliver(event("charge.refunded", too_much)).status_code == 200
    assert run_queued() == 1
    assert StripeEvent.objects.get(type="charge.refunded").outcome == "failed"
    # then the sweep queues it again while Stripe itself would still retry it, and it fails
    # again, changing nothing
    assert requeue_unapplied(_later(settings, 5)) == {"stripe_events_queued": 1}
    assert run_queued() == 1
    stored = StripeEvent.objects.get(type="charge.refunded")
    assert (stored.outcome, stored.attempts) == ("failed", 2)
    assert Donation.objects.get(pk=donation.pk).refunded_cents == 0
    # and not once three days are over: a person applies it again from its page
    assert requeue_unapplied(_later(settings, 3 * 86400 + 60)) == {"stripe_events_queued": 0}


def test_a_waiting_event_delivered_again_is_applied_again(deliver, pending_donation):
    # given a refund whose payment we have not recorded yet: it waits
    donation = pending_donation(5000)
    refund = event(
        "charge.refunded", payloads.charge("ch_Y", "pi_Y", amount=5000, amount_refunded=5000)
    )
    assert deliver(refund).status_code == 200
    assert StripeEvent.objects.get().outcome == "waiting"
    # when the payment is recorded another way (`stripe_reconcile`, which applies no waiting
    # event), then Stripe delivers the refund again
    session = payloads.checkout_session(donation, pi="pi_Y")
    with transaction.atomic():
        checkout_completed(session, "")
    assert deliver(refund).status_code == 200
    # then that delivery applied it (no second event)
    assert StripeEvent.objects.get().outcome == "applied"
    assert Donation.objects.get(pk=donation.pk).status == "refunded"


def _waiting_on_locks():
    with connection.cursor() as cursor:
        # (inside a transaction the activity view is read once: a fresh look each time)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_applying_the_same_event_at_once_record_one_gift(
    campaign, pending_donation, effects, settings, deliver
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # given a gift's payment acknowledged (committed) and its task run by two workers at once
    # (the sweep queued it again while the first was still queued)
    donation, completed = _acknowledged(deliver, pending_donation)
    outcomes = []

    def worker():
        try:
            outcomes.append(apply_event.call(completed["id"]))
        finally:
            connection.close()

    # both read the event as pending, then queue on its row lock (held here meanwhile)
    with transaction.atomic():
        StripeEvent.objects.select_for_update().get(event_id=completed["id"])
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while _waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_locks() == 2
    for thread in threads:
        thread.join(timeout=60)
    # then one gift, one receipt, one email: the second found the event applied
    assert sorted(outcomes) == ["applied", "applied"]
    assert Donation.objects.get(pk=donation.pk).status == "succeeded"
    assert Receipt.objects.filter(donations=donation).count() == 1
    assert DonorEmail.objects.filter(donation=donation).count() == 1
    assert effects == [("succeeded", donation.pk)]
    stored = StripeEvent.objects.get(event_id=completed["id"])
    assert (stored.outcome, stored.attempts) == ("applied", 1)
