"""Receipt emails: sent with the PDF by a task, retried with backoff while the provider is down,
never lost, and their delivery status updated from anymail's tracking webhooks."""

import base64
import datetime
import json

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from crm import tasks
from crm.mail import MAX_ATTEMPTS, backoff
from crm.models import DonorEmail, Receipt
from crm.outbox import queue_receipt_email
from crm.receipts import receipt_gift_if_due
from crm.sweep import enqueue_unsent_emails

from .flaky_mail import FlakyBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def flaky_provider(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.receipts.flaky_mail.FlakyBackend"}}
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    FlakyBackend.failures = 0
    FlakyBackend.attempts = 0
    django_mail.outbox = []
    return FlakyBackend


def give(gift, capture):
    with capture(execute=True):
        receipt_gift_if_due(gift)


def test_with_the_provider_down_the_receipt_is_issued_and_the_email_retried_until_sent(
    flaky_provider, donor_factory, gift_factory, django_capture_on_commit_callbacks
):
    # given a provider that fails three times
    flaky_provider.failures = 3
    gift = gift_factory(donor_factory(), wants_receipt=True)

    # when the gift succeeds
    give(gift, django_capture_on_commit_callbacks)

    # then the receipt is issued and rendered, and the email waits for a retry
    receipt = Receipt.objects.get()
    assert receipt.pdf_sha256
    email = receipt.emails.get()
    assert (email.status, email.attempts) == (DonorEmail.Status.FAILED, 1)
    assert "provider down" in email.last_error
    assert email.next_attempt_at > timezone.now()
    assert django_mail.outbox == []

    # nothing is retried before it is due
    assert enqueue_unsent_emails(timezone.now()) == 0

    # when the retries come due, with growing gaps, until the provider recovers
    gaps = []
    while email.status == DonorEmail.Status.FAILED:
        before = email.next_attempt_at
        assert enqueue_unsent_emails(before) == 1
        email.refresh_from_db()
        if email.next_attempt_at:
            gaps.append(email.next_attempt_at - before)

    # then it is sent once, with the PDF, after four attempts
    assert (email.status, email.attempts, email.last_error) == ("sent", 4, "")
    assert email.message_id.startswith("esp-")
    assert gaps[0] < gaps[1]
    assert len(django_mail.outbox) == 1
    assert django_mail.outbox[0].attachments[0][2] == "application/pdf"

    # and running the task again sends nothing more
    tasks.send_donor_email.enqueue(email.pk)
    assert len(django_mail.outbox) == 1
    assert flaky_provider.attempts == 4


def test_after_too_many_failures_it_gives_up_visibly_and_resend_is_one_call(
    flaky_provider, donor_factory, gift_factory, django_capture_on_commit_callbacks
):
    flaky_provider.failures = MAX_ATTEMPTS
    give(gift_factory(donor_factory(), wants_receipt=True), django_capture_on_commit_callbacks)
    email = DonorEmail.objects.get()
    while email.status == DonorEmail.Status.FAILED:
        enqueue_unsent_emails(email.next_attempt_at)
        email.refresh_from_db()
    assert (email.status, email.attempts, email.next_attempt_at) == ("gave_up", MAX_ATTEMPTS, None)

    # when a treasurer clicks "resend" once the provider is back
    with django_capture_on_commit_callbacks(execute=True):
        again = queue_receipt_email(email.receipt)

    again.refresh_from_db()
    assert again.status == "sent"
    assert len(django_mail.outbox) == 1


def test_backoff_grows_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff(30) == datetime.timedelta(hours=6)


def _postmark(client, event):
    auth = base64.b64encode(b"hook:s3cret").decode()
    return client.post(
        "/crm/anymail/postmark/tracking/",
        data=json.dumps(event),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def test_delivery_and_bounce_webhooks_update_the_email_status(
    client, flaky_provider, donor_factory, gift_factory, django_capture_on_commit_callbacks
):
    # given a sent receipt email
    give(gift_factory(donor_factory(), wants_receipt=True), django_capture_on_commit_callbacks)
    email = DonorEmail.objects.get()
    assert email.status == "sent"

    # when Postmark reports the delivery (shape from Postmark's delivery webhook docs)
    response = _postmark(
        client,
        {
            "RecordType": "Delivery",
            "ServerID": 23,
            "MessageStream": "outbound",
            "MessageID": email.message_id,
            "Recipient": email.to,
            "Tag": "receipt",
            "DeliveredAt": "2026-03-14T16:33:54.9070259Z",
            "Details": "Test delivery webhook details",
            "Metadata": {"receipt_email": str(email.pk)},
        },
    )
    assert response.status_code == 200
    email.refresh_from_db()
    assert email.status == "delivered"

    # and a bounce arrives later
    _postmark(
        client,
        {
            "RecordType": "Bounce",
            "ID": 4323372036854775807,
            "Type": "HardBounce",
            "TypeCode": 1,
            "MessageID": email.message_id,
            "Email": email.to,
            "BouncedAt": "2026-03-15T16:09:19Z",
            "Description": "The server was unable to deliver your message (ex: unknown user).",
            "Details": "smtp;550 5.1.1 unknown user",
            "Metadata": {},
        },
    )
    email.refresh_from_db()
    assert email.status == "bounced"
    assert "unable to deliver" in email.last_error


def test_a_webhook_without_the_secret_changes_nothing(
    client, flaky_provider, donor_factory, gift_factory, django_capture_on_commit_callbacks
):
    give(gift_factory(donor_factory(), wants_receipt=True), django_capture_on_commit_callbacks)
    email = DonorEmail.objects.get()
    response = client.post(
        "/crm/anymail/postmark/tracking/",
        data=json.dumps({"RecordType": "Delivery", "MessageID": email.message_id}),
        content_type="application/json",
    )
    assert response.status_code == 400
    email.refresh_from_db()
    assert email.status == "sent"
