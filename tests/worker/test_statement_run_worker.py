"""A yearly-statement run carried out by a real `manage.py run_worker`, killed (SIGKILL) mid-run
and taken over by another worker once its heartbeat went stale: every donor gets one
statement, emailed once. On the database queue and on RQ; on SQLite and on PostgreSQL."""

import datetime

import pytest
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm.models import Donation, Donor, DonorEmail, Receipt, StatementRun
from crm.statement_runs import carry_out
from crm.statement_tasks import start_run

from .conftest import mail_recipients, queue_idle, wait_for
from .test_killed_worker import drop_dead_connections, worker_writes_held

pytestmark = pytest.mark.django_db(transaction=True)

LAST_YEAR = timezone.localdate().year - 1


def donors_with_gifts(network, count):
    """`count` donors with a codice fiscale, an address and a gift of last year asking for a
    receipt: each gets a statement. Returns their addresses."""
    addresses = []
    for i in range(count):
        donor = Donor.objects.create(
            network=network,
            first_name=f"Nome{i}",
            last_name="Rossi",
            email=f"statement{i}@example.org",
            codice_fiscale="RSSMRA85T10A562S",
            street_address="Via Roma 1",
            city="Lecco",
        )
        Donation.objects.create(
            network=network,
            donor=donor,
            amount_cents=5000 + i,
            received_on=datetime.date(LAST_YEAR, 3, 1),
            status=Donation.Status.SUCCEEDED,
            method=Donation.Method.BANK_TRANSFER,
            wants_receipt=True,
        )
        addresses.append(donor.email)
    return addresses


def run_finished(run, backend):
    def done():
        return (
            StatementRun.objects.filter(pk=run.pk, status=StatementRun.Status.DONE).exists()
            and not DonorEmail.objects.exclude(status=DonorEmail.Status.SENT).exists()
            and not Receipt.objects.filter(pdf_sha256="").exists()
            and queue_idle(backend)
        )

    return done


def test_a_worker_killed_mid_run_emails_no_statement_twice(
    network, tasks_backend, start_worker, start_scheduler, mail_dir
):
    # given a run of 20 donors' statements, started by the treasurer, worked by one worker
    # whose time limit hands the run over to a fresh task every ten donors
    addresses = donors_with_gifts(network, 20)
    run = start_run(network, LAST_YEAR, None)
    first = start_worker(STATEMENT_RUN_SECONDS="0")
    # (from the first statement on: a loaded machine leaves the test little time to catch one)
    wait_for(lambda: Receipt.objects.count() >= 1, "the first statement issued", first)

    # when the worker is killed mid-run (between two of its writes, no email in flight)
    models = [StatementRun, Receipt, DonorEmail] + ([DBTaskResult] if tasks_backend == "db" else [])

    def killed():
        try:
            with worker_writes_held(*models):
                # (claimed: mid-slice, not between two slices of the handover)
                running = StatementRun.objects.filter(
                    pk=run.pk, status=StatementRun.Status.RUNNING
                ).exclude(claimed_by="")
                if running.exists() and not DonorEmail.objects.exclude(claimed_by="").exists():
                    first.kill()
                    drop_dead_connections()
                    return True
        except OperationalError:  # PostgreSQL broke a deadlock with the worker: try again
            pass
        return False

    wait_for(killed, "a moment with no email in flight", first)
    run.refresh_from_db()
    assert run.status == StatementRun.Status.RUNNING and run.claimed_by

    # and another worker starts with the scheduler: the sweep finds the run's heartbeat
    # stale and queues it; the new worker takes it over and goes on
    lost = {"CLAIM_STALE_AFTER": "2", "TASKS_LOST_AFTER": "2", "SWEEP_INTERVAL": "1"}
    second = start_worker(**lost)
    scheduler = start_scheduler(**lost)
    wait_for(
        run_finished(run, tasks_backend),
        "the run done and every statement mailed",
        second,
        timeout=180,  # twenty PDFs rendered on a busy machine
    )

    # then every donor has one statement, in the run, emailed once
    run.refresh_from_db()
    assert run.attempts >= 2 and run.claimed_by == ""
    assert Receipt.objects.count() == 20 == run.receipts.count()
    assert sorted(Receipt.objects.values_list("sequence", flat=True)) == list(range(1, 21))
    assert DonorEmail.objects.count() == 20
    assert mail_recipients(mail_dir) == dict.fromkeys(addresses, 1)
    assert second.stop() == 0 and scheduler.stop() == 0


@pytest.mark.django_db
def test_a_statement_cannot_be_emailed_twice_by_the_database(network):
    # given a statement with its email queued
    donors_with_gifts(network, 1)
    run = StatementRun.objects.create(network=network, year=LAST_YEAR, send_email=False)
    assert carry_out(run) == "done"
    receipt = Receipt.objects.get()
    DonorEmail.objects.create(receipt=receipt, to="statement0@example.org")

    # when a second worker (or a run taken over while it still ran) writes the same email
    # then the database refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        DonorEmail.objects.create(receipt=receipt, to="statement0@example.org")
    # while a resend asked for by a treasurer is another email
    DonorEmail.objects.create(receipt=receipt, to="statement0@example.org", resend=1)
