"""A gift while the mail provider hangs: the webhook acknowledges it and the worker confirms
it at once (the email goes through the task queue, as in production), and the worker's attempt
gives up after the mail timeout, leaving the email queued for its next attempt, never lost."""

import signal
import time

import pytest
from django.tasks import default_task_backend

from campaigns.webhooks import apply_event
from config.mailers import SMTP_BACKEND, mailer
from crm.models import Donation, DonorEmail, Receipt
from crm.tasks import send_donor_email

from . import payloads
from .conftest import event

MAIL_TIMEOUT = 1  # seconds (EMAIL_TIMEOUT); production's default is 10


@pytest.fixture
def hanging_mail(settings, hanging_server):
    """Django's SMTP backend, configured as settings.py does, against a server that accepts
    the connection and never says a word; tasks on a queue (a worker runs them), not at once."""
    settings.MAILERS = {
        "default": mailer(
            SMTP_BACKEND,
            timeout=MAIL_TIMEOUT,
            smtp={"host": "127.0.0.1", "port": hanging_server},
        )
    }
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    return hanging_server


@pytest.fixture
def alarm():
    """A hang that the timeout failed to end fails the test instead of stalling the suite."""

    def ring(signum, frame):
        raise AssertionError("the send did not give up: no timeout on the mail connection")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_the_settings_give_every_mail_backend_a_timeout():
    smtp = mailer(SMTP_BACKEND, timeout=7, smtp={"host": "mail.example.org"})
    assert smtp["OPTIONS"] == {"host": "mail.example.org", "timeout": 7}
    brevo = mailer("anymail.backends.brevo.EmailBackend", timeout=7)
    assert brevo["OPTIONS"] == {"timeout": 7}
    ses = mailer(
        "anymail.backends.amazon_ses.EmailBackend",
        timeout=7,
        ses_client_params={"region_name": "eu-south-1"},
    )
    assert ses["OPTIONS"]["client_params"] == {
        "region_name": "eu-south-1",
        "config": {"connect_timeout": 7, "read_timeout": 7},
    }
    assert "OPTIONS" not in mailer("config.console_mail.EmailBackend", timeout=7)


def test_anymail_and_django_take_the_timeout_from_the_mailer_options(settings):
    from django.core.mail import mailers

    settings.MAILERS = {
        "smtp": mailer(SMTP_BACKEND, timeout=3, smtp={"host": "127.0.0.1", "port": 2525}),
        "brevo": mailer("anymail.backends.brevo.EmailBackend", timeout=4),
    }
    settings.ANYMAIL = {"BREVO_API_KEY": "xkeysib-test"}
    assert mailers["smtp"].timeout == 3
    assert mailers["brevo"].timeout == 4


def test_a_gift_confirms_while_the_mail_provider_hangs(
    hanging_mail, alarm, pending_donation, deliver, django_capture_on_commit_callbacks
):
    # given a running site (warm: an earlier gift already went through it) and a mail server
    # that never answers
    earlier = pending_donation(1000, email="primo@example.org")
    warm = event("checkout.session.completed", payloads.checkout_session(earlier, pi="pi_warm"))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(warm)
        apply_event.call(warm["id"])
    # and a donor who asked for a receipt
    donation = pending_donation(2500, wants_receipt=True, codice_fiscale="RSSMRA80A01H501U")
    completed = event("checkout.session.completed", payloads.checkout_session(donation))

    # when Stripe tells us the gift is paid
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(completed)
    elapsed = time.monotonic() - started

    # then the webhook answers at once, its apply queued for the worker
    assert response.status_code == 200
    assert elapsed < 2, f"the webhook took {elapsed:.1f} s"
    assert "apply_event" in [r.task.name for r in default_task_backend.results]

    # when the worker applies it
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        assert apply_event.call(completed["id"]) == "applied"
    elapsed = time.monotonic() - started

    # then it does so at once too: the gift is confirmed and its receipt issued
    assert elapsed < 2, f"the apply took {elapsed:.1f} s"
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    receipt = Receipt.objects.get(donations=donation)
    assert receipt.status == "issued" and receipt.number
    # and the thank-you email is queued for the worker, not sent in the request
    email = DonorEmail.objects.get(donation=donation)
    assert email.status == DonorEmail.Status.QUEUED
    queued = [r.task.name for r in default_task_backend.results]
    assert "send_donor_email" in queued

    # when the worker tries to send it
    started = time.monotonic()
    send_donor_email.call(email.pk)
    elapsed = time.monotonic() - started

    # then it gives up after the mail timeout and the email waits for its next attempt
    email.refresh_from_db()
    assert email.status == DonorEmail.Status.FAILED
    assert email.next_attempt_at is not None and email.attempts == 1
    assert "timed out" in email.last_error.lower() or "Timeout" in email.last_error
    assert elapsed < MAIL_TIMEOUT + 10, f"the send took {elapsed:.1f} s"
    # and the gift and its receipt are untouched
    donation.refresh_from_db()
    receipt.refresh_from_db()
    assert (donation.status, receipt.status) == (Donation.Status.SUCCEEDED, "issued")
