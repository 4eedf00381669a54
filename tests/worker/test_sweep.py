"""The sweep's rules one by one: what a dead worker or a lost task left behind goes back on the
queue, decided from Trama's own rows (never the tasks backend's), and nothing is sent twice
however often it is enqueued.

Most run on the Immediate backend (an enqueued task runs at once) inside the test transaction,
where `on_commit` never fires: a gift's render and send tasks are "lost" as if the worker had
died before they ran. Others count what lands in a real queue (database or RQ), or run real
worker processes.

Before, the sweep put tasks stuck RUNNING back to READY by rewriting django-tasks-db's table
and skipped emails whose task it found there; those tests are replaced by the ones on claims
(`in_flight_since`) and on the time of the last enqueue (`enqueued_at`)."""

import datetime

import pytest
from django.core import mail as django_mail
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm import tasks
from crm.models import DonorEmail, Receipt
from crm.receipts import void_receipt
from crm.sweep import (
    enqueue_missing_pdfs,
    enqueue_unsent_emails,
    release_stale_emails,
    run_sweep,
)

from .conftest import DEADLINE_SECONDS, mail_recipients, redis_queue

LOST_AFTER = 600
LATER = datetime.timedelta(seconds=LOST_AFTER + 1)


@pytest.fixture(autouse=True)
def _empty_outbox(settings):
    settings.TASKS_LOST_AFTER = LOST_AFTER
    settings.CLAIM_STALE_AFTER = 120
    django_mail.outbox = []


def queued_sends(backend):
    """How many send tasks wait in the queue (the test looks; the sweep never does)."""
    if backend == "db":
        return DBTaskResult.objects.filter(
            task_path=tasks.send_donor_email.module_path, status=TaskResultStatus.READY
        ).count()
    path = tasks.send_donor_email.module_path
    return sum(job.func_name == path for job in redis_queue().jobs)


@pytest.mark.django_db
def test_a_long_backlog_gets_one_more_task_per_email_not_one_per_sweep(give, tasks_backend):
    # given two emails queued long ago whose tasks may be lost (or waiting in a long queue)
    give(2)
    now = timezone.now() + LATER
    # (on the database queue each email's own task was written with it, in its transaction)
    queued_at_first = queued_sends(tasks_backend)

    # when the sweep runs many times, on this machine and another (same rows)
    counts = [enqueue_unsent_emails(now) for _ in range(5)]

    # then each email got one more task, not one per sweep, on either backend
    assert counts == [2, 0, 0, 0, 0]
    assert queued_sends(tasks_backend) == queued_at_first + 2
    # and only after TASKS_LOST_AFTER more do they get another
    assert enqueue_unsent_emails(now + datetime.timedelta(seconds=LOST_AFTER - 1)) == 0
    assert enqueue_unsent_emails(now + LATER) == 2


@pytest.mark.django_db
def test_an_email_left_in_flight_by_a_dead_worker_is_sent_again_when_its_claim_is_stale(give):
    # given an email a worker claimed, then died before recording the outcome
    (address,) = give(1)
    email = DonorEmail.objects.get()
    claimed_at = timezone.now()
    DonorEmail.objects.filter(pk=email.pk).update(
        claimed_by="dead-worker", in_flight_since=claimed_at, attempts=1
    )

    # when the sweep runs while the claim is fresh: the email is the worker's
    assert release_stale_emails(claimed_at + datetime.timedelta(seconds=60)) == 0
    assert enqueue_unsent_emails(claimed_at + LATER) == 0  # in flight: not for this rule

    # and once the claim is stale (no heartbeat for CLAIM_STALE_AFTER)
    assert release_stale_emails(claimed_at + datetime.timedelta(seconds=121)) == 1

    # then it is sent again (at least once), with the same Message-ID, and released
    email.refresh_from_db()
    assert (email.status, email.attempts, email.claimed_by) == (DonorEmail.Status.SENT, 2, "")
    assert [m.to for m in django_mail.outbox] == [[address]]
    assert release_stale_emails(claimed_at + LATER) == 0


@pytest.mark.django_db
def test_a_second_worker_cannot_send_an_email_in_flight(give):
    # given an email another worker is sending right now
    give(1)
    email = DonorEmail.objects.get()
    DonorEmail.objects.filter(pk=email.pk).update(
        claimed_by="other-worker", in_flight_since=timezone.now(), attempts=1
    )

    # when its send task runs here too
    tasks.send_donor_email.call(email.pk)

    # then nothing is sent by this one, and the other's claim stands
    assert django_mail.outbox == []
    email.refresh_from_db()
    assert (email.claimed_by, email.attempts) == ("other-worker", 1)


@pytest.mark.django_db
def test_an_issued_receipt_without_its_pdf_is_rendered(give):
    # given two receipts whose render task was lost, one of them since voided
    give(2)
    kept, voided = Receipt.objects.order_by("pk")
    void_receipt(voided, reason="duplicate")
    assert not kept.pdf_sha256

    # when the sweep runs: at once it leaves them to their own task, later it renders them
    # (once: a second sweep finds the time of its enqueue on the receipt)
    assert enqueue_missing_pdfs(timezone.now()) == 0
    assert enqueue_missing_pdfs(timezone.now() + LATER) == 1
    assert enqueue_missing_pdfs(timezone.now() + LATER) == 0

    # then the issued one has its PDF; a void receipt is not the sweep's business
    kept.refresh_from_db()
    voided.refresh_from_db()
    assert kept.pdf_sha256 and kept.pdf.storage.exists(kept.pdf.name)
    assert not voided.pdf_sha256


@pytest.mark.django_db
def test_a_queued_email_whose_task_was_lost_is_sent_once(give):
    # given a receipt email still queued: its worker died before sending
    (address,) = give(1)
    email = DonorEmail.objects.get()
    assert email.status == DonorEmail.Status.QUEUED

    # when the sweep runs: at once it leaves it to its own task, later it sends it
    assert enqueue_unsent_emails(timezone.now()) == 0
    assert enqueue_unsent_emails(timezone.now() + LATER) == 1

    # then it is sent; sweeping again sends nothing more
    email.refresh_from_db()
    assert (email.status, email.attempts) == (DonorEmail.Status.SENT, 1)
    assert enqueue_unsent_emails(timezone.now() + LATER) == 0
    assert [m.to for m in django_mail.outbox] == [[address]]


@pytest.mark.django_db
def test_a_failed_email_is_retried_when_due_and_sent_once(give):
    # given an email whose first attempt failed, next attempt in a minute
    give(1)
    now = timezone.now()
    DonorEmail.objects.update(
        status=DonorEmail.Status.FAILED,
        attempts=1,
        next_attempt_at=now + datetime.timedelta(minutes=1),
    )

    # when the sweep runs before and after it is due
    assert enqueue_unsent_emails(now) == 0
    assert enqueue_unsent_emails(now + datetime.timedelta(minutes=1)) == 1

    # then it is sent on its second attempt, once
    email = DonorEmail.objects.get()
    assert (email.status, email.attempts) == (DonorEmail.Status.SENT, 2)
    assert len(django_mail.outbox) == 1


@pytest.mark.django_db
def test_the_sweep_reports_each_rule(give):
    # given two emails queued long ago whose tasks were lost, and their receipts' renders
    give(2)

    # when the sweep runs
    counts = run_sweep(timezone.now() + LATER)

    # then each rule says what it queued
    assert counts == {
        "emails_released": 0,
        "pdfs_enqueued": 2,
        "emails_enqueued": 2,
        "statement_runs_resumed": 0,
        # outreach's rules (settings.WORKER_SWEEPS): no message to donors here
        "message_claims_released": 0,
        "messages_started": 0,
        "messages_resumed": 0,
        # campaigns' rules: Stripe events stored but not applied (task lost, or failed),
        "stripe_events_queued": 0,
        # and those waiting for their plan or payment
        "stripe_events_applied": 0,
        # and its end: Stripe events waiting longer than Stripe retries, given up
        "stripe_events_given_up": 0,
    }


@pytest.mark.django_db(transaction=True)
def test_an_email_enqueued_twice_is_sent_once(give, tasks_backend, start_worker, mail_dir):
    # given a receipt email whose send task is in the queue twice (the sweep and a resend
    # button, say)
    (address,) = give(1)
    email = DonorEmail.objects.get()
    tasks.send_donor_email.enqueue(email.pk)
    assert queued_sends(tasks_backend) == 2

    # when two workers work through the queue side by side
    workers = [start_worker("--batch"), start_worker("--batch")]
    for worker in workers:
        assert worker.process.wait(timeout=DEADLINE_SECONDS) == 0, worker.log()

    # then both tasks ran, and the donor got one email
    assert queued_sends(tasks_backend) == 0
    email.refresh_from_db()
    assert (email.status, email.attempts, email.claimed_by) == (DonorEmail.Status.SENT, 1, "")
    assert mail_recipients(mail_dir) == {address: 1}
