"""What a first delivery of `checkout.session.completed` costs the database: its SQL statements
and commits are counted (a count, not a timing), so that the money path stays at database
speed. Measured with the database queue the production runs (`django_tasks_db`): the tasks the
gift needs are written in the webhook's own transaction, and nothing runs inline."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from campaigns.models import StripeEvent
from crm.models import Donation, DonorEmail, Receipt

from . import payloads
from .conftest import event

# Statements of a receipted first delivery (the test's own savepoint around the webhook's
# transaction included: BEGIN and COMMIT in production). 46 before issue 21, with a Stripe
# call for the fee inside the request and three tasks queued in transactions of their own.
MAX_STATEMENTS = 23


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _paid(deliver, pending_donation, n):
    donation = pending_donation(2500, codice_fiscale="RSSMRA80A01H501U", email=f"d{n}@example.org")
    return donation, event(
        "checkout.session.completed", payloads.checkout_session(donation, pi=f"pi_test_{n}")
    )


def test_a_first_delivery_is_one_transaction_of_few_statements(
    deliver, pending_donation, effects, database_queue, django_capture_on_commit_callbacks
):
    # given the network's counter of the year already started (an earlier gift receipted)
    _first, completed = _paid(deliver, pending_donation, 1)
    assert deliver(completed).status_code == 200
    donation, completed = _paid(deliver, pending_donation, 2)
    # when a new gift's payment arrives
    with (
        CaptureQueriesContext(connection) as ctx,
        django_capture_on_commit_callbacks() as callbacks,
    ):
        assert deliver(completed).status_code == 200
    # then it is applied exactly once: receipted, its confirmation queued with the receipt
    donation.refresh_from_db()
    assert donation.status == "succeeded"
    receipt = Receipt.objects.get(donations=donation)
    assert DonorEmail.objects.get(donation=donation).receipt == receipt
    assert StripeEvent.objects.get(event_id=completed["id"]).outcome == "applied"
    # in one transaction, nothing left for after its commit, in few statements
    statements = [q["sql"] for q in ctx.captured_queries]
    assert callbacks == []
    assert len(statements) <= MAX_STATEMENTS, "\n".join(s[:120] for s in statements)
    assert sum(s.startswith("SAVEPOINT") for s in statements) <= 3
    assert not [s for s in statements if "FOR UPDATE" in s and "receiptcounter" in s]


def test_one_task_renders_and_emails_a_gift_and_one_reads_its_fee(
    deliver, pending_donation, effects, database_queue
):
    # when a receipted gift's payment arrives
    _donation, completed = _paid(deliver, pending_donation, 1)
    assert deliver(completed).status_code == 200
    # then the worker gets the email (which renders the receipt's PDF first, crm.mail) and the
    # fee's reading: no task of its own for the PDF, none for Wagtail's reference index
    paths = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    assert paths == ["campaigns.tasks.read_payment_fee", "crm.tasks.send_donor_email"]


def test_a_repeated_delivery_changes_nothing_and_queues_nothing(
    deliver, pending_donation, effects, database_queue
):
    donation, completed = _paid(deliver, pending_donation, 1)
    assert deliver(completed).status_code == 200
    queued = DBTaskResult.objects.count()
    # when Stripe delivers the same event again
    assert deliver(completed).status_code == 200
    # then nothing more is written or queued
    assert DBTaskResult.objects.count() == queued
    assert Receipt.objects.filter(donations=donation).count() == 1
    assert DonorEmail.objects.filter(donation=donation).count() == 1
    assert Donation.objects.get(pk=donation.pk).status == "succeeded"
