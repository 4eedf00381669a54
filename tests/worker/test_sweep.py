"""The sweep's rules one by one: what a dead worker or a lost task left behind goes back on the
queue, and nothing is sent twice however often it is enqueued.

Most run on the Immediate backend (an enqueued task runs at once) inside the test transaction,
where `on_commit` never fires: a gift's render and send tasks are "lost" as if the worker had
died before they ran. The last one runs two real worker processes on the database queue."""

import datetime
from uuid import UUID

import pytest
from django.core import mail as django_mail
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm import tasks
from crm.models import DonorEmail, Receipt
from crm.receipts import void_receipt
from crm.sweep import (
    STALE_AFTER,
    enqueue_missing_pdfs,
    enqueue_unsent_emails,
    queue_backlog,
    requeue_stuck_tasks,
    run_sweep,
)

from .conftest import DEADLINE_SECONDS, mail_recipients

LATER = STALE_AFTER + datetime.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _empty_outbox():
    django_mail.outbox = []


@pytest.mark.django_db
def test_a_task_running_longer_than_tasks_stuck_after_goes_back_to_ready(
    queue_in_database, settings
):
    # given three tasks: one a killed worker left RUNNING 16 minutes ago, one running for a
    # minute, one finished long ago
    settings.TASKS_STUCK_AFTER = 15 * 60
    now = timezone.now()
    stuck, busy, done = (UUID(tasks.render_receipt_pdf.enqueue(n).id) for n in (1, 2, 3))
    DBTaskResult.objects.filter(pk=stuck).update(
        status=TaskResultStatus.RUNNING, started_at=now - datetime.timedelta(minutes=16)
    )
    DBTaskResult.objects.filter(pk=busy).update(
        status=TaskResultStatus.RUNNING, started_at=now - datetime.timedelta(minutes=1)
    )
    DBTaskResult.objects.filter(pk=done).update(
        status=TaskResultStatus.SUCCESSFUL, started_at=now - datetime.timedelta(hours=1)
    )

    # when the sweep runs
    assert requeue_stuck_tasks(now) == 1

    # then only the stuck one is ready to run again
    status = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert status == {
        stuck: TaskResultStatus.READY,
        busy: TaskResultStatus.RUNNING,
        done: TaskResultStatus.SUCCESSFUL,
    }
    assert queue_backlog(now)["ready"] == 1


@pytest.mark.django_db
def test_an_issued_receipt_without_its_pdf_is_rendered(give):
    # given two receipts whose render task was lost, one of them since voided
    give(2)
    kept, voided = Receipt.objects.order_by("pk")
    void_receipt(voided, reason="duplicate")
    assert not kept.pdf_sha256

    # when the sweep runs: at once it leaves them to their own task, later it renders them
    assert enqueue_missing_pdfs(timezone.now()) == 0
    assert enqueue_missing_pdfs(timezone.now() + LATER) == 1

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
def test_an_email_already_waiting_in_the_queue_is_not_enqueued_again(give, queue_in_database):
    # given two emails queued long ago: one still has its send task waiting, one lost it
    give(2)
    waiting, lost = DonorEmail.objects.order_by("pk")
    tasks.send_donor_email.enqueue(waiting.pk)

    # when the sweep runs
    counts = run_sweep(timezone.now() + LATER)

    # then only the lost one gets a task (and each receipt its render task)
    assert counts == {
        "stuck_tasks_requeued": 0,
        "pdfs_enqueued": 2,
        "emails_enqueued": 1,
        # outreach's rules (settings.WORKER_SWEEPS): no message to donors here
        "message_claims_released": 0,
        "messages_started": 0,
        "messages_resumed": 0,
        # campaigns' rule: Stripe events waiting for their plan or payment
        "stripe_events_applied": 0,
    }
    sends = DBTaskResult.objects.filter(task_path=tasks.send_donor_email.module_path)
    assert sorted(r.args_kwargs["args"][0] for r in sends) == [waiting.pk, lost.pk]


@pytest.mark.django_db(transaction=True)
def test_an_email_enqueued_twice_is_sent_once(give, start_worker, mail_dir):
    # given a receipt email whose send task is in the queue twice (the sweep and a resend
    # button, say)
    (address,) = give(1)
    email = DonorEmail.objects.get()
    tasks.send_donor_email.enqueue(email.pk)
    assert DBTaskResult.objects.filter(task_path=tasks.send_donor_email.module_path).count() == 2

    # when two workers work through the queue side by side
    workers = [start_worker("--batch"), start_worker("--batch")]
    for worker in workers:
        assert worker.process.wait(timeout=DEADLINE_SECONDS) == 0, worker.log()

    # then both tasks ran, and the donor got one email
    assert not DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (DonorEmail.Status.SENT, 1)
    assert mail_recipients(mail_dir) == {address: 1}
