"""Every email to a donor goes out by one path (`crm.sending`): a gift's email with its receipt
and a newsletter are retried by the same policy while the provider is down, carry the same
Message-ID rule, and the one suppression list stops each as the law allows (a bounce stops the
emails a donor is owed too, a complaint only newsletters, nothing stops what the donor asked
for just now)."""

import datetime
import re

from django.core import mail as django_mail
from django.utils import timezone

from crm import mail
from crm.mail_policy import MAX_ATTEMPTS, backoff
from crm.models import Donation, Donor, DonorEmail, SuppressedAddress
from crm.offline import record_offline_gift
from crm.outbox import queue_donor_portal_email
from outreach import mailing
from outreach.models import Delivery, Message
from tests.receipts.flaky_mail import FlakyBackend

from .test_message_sending import new_message, postmark, send, world  # noqa: F401

MESSAGE_ID = re.compile(r"^<trama\.[a-z_]+\.\d+\.[\w-]+@[\w.-]+>$")


def gift_for(donor, capture, day=2):
    with capture(execute=True):
        gift = record_offline_gift(
            network=donor.network,
            donor=donor,
            amount_cents=2500,
            received_on=datetime.date(2026, 3, day),
            method=Donation.Method.BANK_TRANSFER,
        )
    return DonorEmail.objects.get(donation=gift)


def test_a_provider_outage_is_retried_by_one_policy_for_a_receipt_and_a_newsletter(
    world,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    # given a provider that is down
    settings.MAILERS = {"default": {"BACKEND": "tests.receipts.flaky_mail.FlakyBackend"}}
    FlakyBackend.failures = 1000
    bruno = Donor.objects.get(network=world["network"], first_name="Bruno")
    before = timezone.now()

    # when a gift's email (its receipt attached) and a newsletter are sent
    email = gift_for(bruno, django_capture_on_commit_callbacks)
    message = new_message(world)
    send(message, django_capture_on_commit_callbacks)
    after = timezone.now()

    # then both wait for the same retry, with the same error, by the same policy
    delivery = Delivery.objects.get(message=message, donor=bruno)
    for row in (email, delivery):
        assert (row.status, row.attempts) == ("failed", 1)
        assert row.last_error == "AnymailAPIError: provider down: 503 Service Unavailable"
        assert before + backoff(1) <= row.next_attempt_at <= after + backoff(1)
    assert django_mail.outbox == []

    # and after the last attempt both give up, the same way
    DonorEmail.objects.filter(pk=email.pk).update(attempts=MAX_ATTEMPTS - 1)
    Delivery.objects.filter(message=message).update(
        attempts=MAX_ATTEMPTS - 1, next_attempt_at=timezone.now()
    )
    mail.deliver_email(email.pk)
    mailing.deliver(message.pk)
    email.refresh_from_db()
    delivery.refresh_from_db()
    for row in (email, delivery):
        assert (row.status, row.attempts, row.next_attempt_at) == ("gave_up", MAX_ATTEMPTS, None)

    # once the provider is back, both carry a Message-ID of the one rule
    FlakyBackend.failures = 0
    gift_for(bruno, django_capture_on_commit_callbacks, day=3)
    send(new_message(world), django_capture_on_commit_callbacks)
    headers = [m.extra_headers["Message-ID"] for m in django_mail.outbox]
    assert len(headers) == 1 + len(world["members"])
    assert all(MESSAGE_ID.match(header) for header in headers), headers


def test_a_bounce_on_a_newsletter_stops_the_next_receipt_email_a_complaint_does_not(
    world,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    # given a newsletter sent to Bruno and Carla
    message = new_message(world)
    send(message, django_capture_on_commit_callbacks)
    bruno, carla = (
        Delivery.objects.get(message=message, donor__first_name=name) for name in ("Bruno", "Carla")
    )

    # when Bruno's bounces and Carla marks hers as spam
    for delivery, record in ((bruno, "Bounce"), (carla, "SpamComplaint")):
        event = {
            "RecordType": record,
            "Type": "HardBounce" if record == "Bounce" else "SpamComplaint",
            "TypeCode": 1 if record == "Bounce" else 512,
            "MessageID": f"pm-{delivery.pk}",
            "Email": delivery.to,
            "BouncedAt": "2026-03-15T16:09:19Z",
            "Metadata": {"delivery": delivery.token},
        }
        assert postmark(event).status_code == 200
    reasons = dict(SuppressedAddress.objects.values_list("email", "reason"))
    assert reasons["bruno@example.org"] == "bounced"
    assert reasons["carla@example.org"] == "complained"
    django_mail.outbox = []

    # then the email owed for Bruno's next gift is not sent to an address that takes no mail,
    # and says why
    skipped = gift_for(bruno.donor, django_capture_on_commit_callbacks)
    assert skipped.status == DonorEmail.Status.SKIPPED and skipped.attempts == 1
    assert "bounced" in skipped.last_error and not skipped.message_id
    assert django_mail.outbox == []
    # the one Carla is owed still goes: a complaint withdraws consent to news, not to receipts
    owed = gift_for(carla.donor, django_capture_on_commit_callbacks)
    assert owed.status == DonorEmail.Status.SENT
    assert [m.to for m in django_mail.outbox] == [["carla@example.org"]]
    # what Bruno asks for now (the link to his page) goes: newer than the bounce
    with django_capture_on_commit_callbacks(execute=True):
        asked = queue_donor_portal_email(bruno.donor)
    asked.refresh_from_db()
    assert asked.status == DonorEmail.Status.SENT
    # and the next newsletter goes to neither
    django_mail.outbox = []
    send(new_message(world), django_capture_on_commit_callbacks)
    assert Message.objects.filter(status=Message.Status.SENT).count() == 2
    to = [address for m in django_mail.outbox for address in m.to]
    assert to and not {"bruno@example.org", "carla@example.org"} & set(to)
