"""What a first delivery of `checkout.session.completed` costs the database: its SQL statements
and commits are counted (a count, not a timing), so that the money path stays at database
speed. Measured with the database queue the production runs (`django_tasks_db`): the request
stores the event and its apply task in one transaction and answers; the worker's apply
(`campaigns.webhooks.apply_event`) records the gift and writes the tasks that follow it in one
transaction of its own; nothing runs inline."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from campaigns.models import StripeEvent
from crm.models import Donation, DonorEmail, Receipt

from . import payloads
from .conftest import APPLY_TASK, event, run_queued

# The request's statements (the test's own savepoint around its transaction included: BEGIN
# and COMMIT in production): the event's network, the event, its task.
MAX_ACK_STATEMENTS = 5
# The worker's apply of a receipted gift (the request's 23 before the acknowledgement came
# first, 46 before issue 21): the stored event read, locked and marked applied, the gift's
# record, receipt and tasks.
MAX_APPLY_STATEMENTS = 22


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _paid(deliver, pending_donation, n):
    donation = pending_donation(2500, codice_fiscale="RSSMRA80A01H501U", email=f"d{n}@example.org")
    return donation, event(
        "checkout.session.completed", payloads.checkout_session(donation, pi=f"pi_test_{n}")
    )


def test_a_first_delivery_is_acknowledged_with_the_event_and_its_task_only(
    deliver, pending_donation, effects, database_queue, django_capture_on_commit_callbacks
):
    # given the network's counter of the year already started (an earlier gift receipted)
    _first, completed = _paid(deliver, pending_donation, 1)
    assert deliver(completed).status_code == 200
    assert run_queued() == 1
    donation, completed = _paid(deliver, pending_donation, 2)
    # when a new gift's payment arrives
    with (
        CaptureQueriesContext(connection) as ctx,
        django_capture_on_commit_callbacks() as callbacks,
    ):
        assert deliver(completed).status_code == 200
    # then the request wrote the event, not applied yet, and its task, in one transaction
    statements = [q["sql"] for q in ctx.captured_queries]
    writes = [s.split(" (")[0] for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == [
        'INSERT INTO "campaigns_stripeevent"',
        'INSERT INTO "django_tasks_database_dbtaskresult"',
    ], statements
    assert len(statements) <= MAX_ACK_STATEMENTS, "\n".join(s[:120] for s in statements)
    assert callbacks == []
    stored = StripeEvent.objects.get(event_id=completed["id"])
    assert (stored.outcome, stored.processed_at) == ("pending", None)
    assert DBTaskResult.objects.ready().filter(task_path=APPLY_TASK).count() == 1
    donation.refresh_from_db()
    assert donation.status == "pending"
    assert not Receipt.objects.filter(donations=donation).exists()
    # when the worker applies it
    with (
        CaptureQueriesContext(connection) as ctx,
        django_capture_on_commit_callbacks() as callbacks,
    ):
        assert run_queued() == 1
    # then it is applied exactly once: receipted, its confirmation queued with the receipt
    donation.refresh_from_db()
    assert donation.status == "succeeded"
    receipt = Receipt.objects.get(donations=donation)
    assert DonorEmail.objects.get(donation=donation).receipt == receipt
    assert StripeEvent.objects.get(event_id=completed["id"]).outcome == "applied"
    # in one transaction, nothing left for after its commit, in few statements (the runner's
    # own mark of the task done is not the apply's)
    statements = [q["sql"] for q in ctx.captured_queries]
    statements = [s for s in statements if "django_tasks_database_dbtaskresult" not in s]
    assert callbacks == []
    assert len(statements) <= MAX_APPLY_STATEMENTS, "\n".join(s[:120] for s in statements)
    assert sum(s.startswith("SAVEPOINT") for s in statements) <= 3
    assert not [s for s in statements if "FOR UPDATE" in s and "receiptcounter" in s]


def test_one_task_renders_and_emails_a_gift_and_one_reads_its_fee(
    deliver, pending_donation, effects, database_queue
):
    # when a receipted gift's payment arrives
    _donation, completed = _paid(deliver, pending_donation, 1)
    assert deliver(completed).status_code == 200
    assert run_queued() == 1
    # then the worker gets the email (which renders the receipt's PDF first, crm.mail) and the
    # fee's reading: no task of its own for the PDF, none for Wagtail's reference index
    paths = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    paths.remove(APPLY_TASK)  # (the apply itself, done)
    assert paths == ["campaigns.tasks.read_payment_fee", "crm.tasks.send_donor_email"]


def test_a_repeated_delivery_changes_nothing_and_queues_nothing(
    deliver, pending_donation, effects, database_queue
):
    donation, completed = _paid(deliver, pending_donation, 1)
    assert deliver(completed).status_code == 200
    assert run_queued() == 1
    queued = DBTaskResult.objects.count()
    # when Stripe delivers the same event again
    assert deliver(completed).status_code == 200
    # then nothing more is written or queued
    assert DBTaskResult.objects.count() == queued
    assert run_queued() == 0
    assert Receipt.objects.filter(donations=donation).count() == 1
    assert DonorEmail.objects.filter(donation=donation).count() == 1
    assert Donation.objects.get(pk=donation.pk).status == "succeeded"


def test_a_repeated_delivery_before_the_worker_applied_the_first_adds_nothing(
    deliver, pending_donation, effects, database_queue
):
    # given a gift's payment acknowledged, its task still waiting for the worker
    donation, completed = _paid(deliver, pending_donation, 1)
    assert deliver(completed).status_code == 200
    # when Stripe delivers it again (its first answer was lost on the way)
    assert deliver(completed).status_code == 200
    # then no second event, no second task
    assert StripeEvent.objects.get().outcome == "pending"
    assert DBTaskResult.objects.count() == 1
    # and the worker applies it once
    assert run_queued() == 1
    assert Receipt.objects.filter(donations=donation).count() == 1
    assert DonorEmail.objects.filter(donation=donation).count() == 1
    assert Donation.objects.get(pk=donation.pk).status == "succeeded"
