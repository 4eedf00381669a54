"""A message to donors reaches exactly the consenting members of its segment, once; the
one-click unsubscribe (RFC 8058) and the provider's bounces keep the next message away."""

import base64
import datetime
import json

import pytest
from django.core import mail as django_mail
from django.test import Client
from django.utils import timezone
from wagtail.rich_text import RichText

from campaigns.models import CampaignPage
from crm.models import Donation, Donor, DonorEmail, SuppressedAddress
from crm.offline import record_offline_gift
from outreach import mailing
from outreach.models import Delivery, Message, Segment
from outreach.sending import (
    SendingError,
    cancel_schedule,
    recipients_for,
    send_test,
    start_sending,
)
from outreach.tasks import start_due_messages

CONFIRMED = {
    "newsletter": True,
    "newsletter_confirmed_at": datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC),
}


@pytest.fixture
def world(db, network_factory, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    network = network_factory("rete-notizie", email="notizie@rete.example")
    other = network_factory("altra-rete")

    def donor(name, net=network, **fields):
        fields.setdefault("email", f"{name}@example.org")
        return Donor.objects.create(
            network=net, first_name=name.title(), last_name="Test", **fields
        )

    members = [
        donor("anna", **CONFIRMED),
        donor("bruno", **CONFIRMED),
        donor("carla", **CONFIRMED, language="en"),
    ]
    donor("dario")  # never asked for news
    donor("elena", newsletter=True)  # asked, never confirmed
    donor("fabio", email="", **CONFIRMED)  # no address
    suppressed = donor("gina", **CONFIRMED)
    SuppressedAddress.objects.create(network=network, email="GINA@example.org", reason="bounced")
    donor("ugo", net=other, **CONFIRMED)  # another network's
    keeper = donor("ivo", **CONFIRMED, email="ivo2@example.org")
    donor("ivo", **CONFIRMED, email="ivo@example.org", merged_into=keeper)
    donor("leo", **CONFIRMED, anonymised_at=timezone.now())
    members.append(keeper)
    segment = Segment.objects.create(network=network, name="Tutti")
    return {"network": network, "segment": segment, "members": members, "suppressed": suppressed}


def new_message(world, **fields):
    return Message.objects.create(
        network=world["network"],
        segment=world["segment"],
        subject="Ciao {nome}",
        body=[("paragraph", RichText("<p>Notizie per {nome}.</p>"))],
        **fields,
    )


def send(message, capture, user=None):
    with capture(execute=True):
        return start_sending(message, user)


def addresses():
    return sorted(address for email in django_mail.outbox for address in email.to)


def test_a_message_reaches_exactly_the_consenting_members_once(
    world, django_capture_on_commit_callbacks
):
    # given a message to a segment of every donor of the network
    message = new_message(world)

    # when it is sent (the worker's tasks run at once in the tests)
    count = send(message, django_capture_on_commit_callbacks)

    # then each consenting member gets one email, nobody else gets any
    expected = sorted(d.email for d in world["members"])
    assert count == len(expected)
    assert addresses() == expected
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.recipients == len(expected)
    assert message.finished_at is not None
    email = next(e for e in django_mail.outbox if e.to == ["anna@example.org"])
    delivery = Delivery.objects.get(message=message, donor__first_name="Anna")
    assert email.subject == "Ciao Anna"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/news/unsubscribe/{delivery.token}/>" in email.extra_headers["List-Unsubscribe"]
    # the Message-ID travels with forwards and replies: the attribution marker, not the key
    assert delivery.attribution in email.extra_headers["Message-ID"]
    assert delivery.token not in email.extra_headers["Message-ID"]
    assert delivery.token not in email.body.replace(f"/{delivery.token}/", "")
    assert email.metadata == {"delivery": delivery.token}
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1

    # and running the worker's steps again sends nothing more
    assert mailing.prepare(message.pk) is None
    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENDING)
    mailing.prepare(message.pk)
    mailing.deliver(message.pk)
    assert addresses() == expected
    assert Delivery.objects.filter(message=message).count() == len(expected)


def test_a_donor_who_unsubscribes_after_the_start_is_skipped(world):
    message = new_message(world, status=Message.Status.SENDING)
    mailing.prepare(message.pk)
    Donor.objects.filter(first_name="Bruno").update(newsletter=False)

    mailing.deliver(message.pk)

    assert "bruno@example.org" not in addresses()
    assert Delivery.objects.get(donor__first_name="Bruno").status == Delivery.Status.SKIPPED
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.recipients == 3


def test_a_campaign_update_goes_to_the_campaigns_consenting_donors(
    world, demo, django_capture_on_commit_callbacks
):
    campaign = CampaignPage.objects.first()
    anna, bruno = world["members"][:2]
    for who in (anna, Donor.objects.get(first_name="Dario")):
        Donation.objects.create(
            network=world["network"],
            donor=who,
            amount_cents=1000,
            campaign=campaign,
            status=Donation.Status.SUCCEEDED,
        )
    message = new_message(world, campaign=campaign)
    message.segment = None
    message.save()

    assert list(recipients_for(message)) == [anna]
    send(message, django_capture_on_commit_callbacks)
    assert addresses() == [anna.email]


def test_what_cannot_be_sent_is_refused(world, django_capture_on_commit_callbacks):
    message = new_message(world)
    message.segment = None
    message.save()
    with pytest.raises(SendingError):
        start_sending(message, None)
    message.segment = world["segment"]
    message.save()
    send(message, django_capture_on_commit_callbacks)
    with pytest.raises(SendingError):
        start_sending(message, None)  # already sent
    assert len(django_mail.outbox) == 4


def test_a_test_send_goes_only_to_the_communicator(world):
    message = new_message(world)
    send_test(message, "me@rete.example")
    (email,) = django_mail.outbox
    assert email.to == ["me@rete.example"] and email.subject == "[TEST] Ciao Maria"
    assert not Delivery.objects.exists()


def test_a_scheduled_message_waits_and_can_be_cancelled(world, django_capture_on_commit_callbacks):
    message = new_message(world)
    later = timezone.now() + datetime.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert start_sending(message, None, send_at=later) == 4
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED and not django_mail.outbox

    assert cancel_schedule(message)
    message.refresh_from_db()
    assert message.status == Message.Status.DRAFT

    with django_capture_on_commit_callbacks(execute=True):
        start_sending(message, None, send_at=later)
    # the scheduler's periodic job (settings.PERIODIC_JOBS) starts due messages
    assert start_due_messages.call() == 0
    assert not django_mail.outbox  # not due yet
    # two hours later (the schedule moved back instead of the clock forward)
    Message.objects.filter(pk=message.pk).update(send_at=timezone.now())
    assert start_due_messages.call() == 1
    assert start_due_messages.call() == 0  # started once
    assert len(addresses()) == 4
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


# --- The donor's links --------------------------------------------------------------------


def sent_delivery(world, capture, first_name="Anna"):
    message = new_message(world)
    send(message, capture)
    return Delivery.objects.get(message=message, donor__first_name=first_name)


def test_one_click_unsubscribe_stops_the_next_message(world, django_capture_on_commit_callbacks):
    delivery = sent_delivery(world, django_capture_on_commit_callbacks)
    django_mail.outbox = []

    # the exact RFC 8058 request a mail app makes: POST, that body, no cookie, no CSRF token
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/news/unsubscribe/{delivery.token}/",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.unsubscribed_at is not None
    assert Donor.objects.get(pk=delivery.donor_id).newsletter is False

    send(new_message(world), django_capture_on_commit_callbacks)
    assert "anna@example.org" not in addresses() and len(addresses()) == 3


def test_opening_the_link_does_not_unsubscribe(world, django_capture_on_commit_callbacks):
    delivery = sent_delivery(world, django_capture_on_commit_callbacks)
    client = Client(enforce_csrf_checks=True)
    url = f"/news/unsubscribe/{delivery.token}/"

    response = client.get(url)
    assert response.status_code == 200
    assert world["network"].name in response.content.decode()
    assert Donor.objects.get(pk=delivery.donor_id).newsletter is True

    # a form POST without the CSRF token is refused
    assert client.post(url, {"confirm": "1"}).status_code == 403
    assert Donor.objects.get(pk=delivery.donor_id).newsletter is True

    # the page's own form unsubscribes
    token = response.cookies["csrftoken"].value
    response = client.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert Donor.objects.get(pk=delivery.donor_id).newsletter is False


def test_an_unknown_token_is_a_404(world):
    assert Client().get("/news/unsubscribe/nope/").status_code == 404
    assert (
        Client()
        .post(
            "/news/unsubscribe/nope/",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        .status_code
        == 404
    )
    assert Client().get("/news/preferences/nope/").status_code == 404


def test_preferences_change_consent_and_language_only(world, django_capture_on_commit_callbacks):
    delivery = sent_delivery(world, django_capture_on_commit_callbacks)
    client = Client()
    url = f"/news/preferences/{delivery.token}/"
    assert client.get(url).status_code == 200

    response = client.post(url, {"language": "en", "first_name": "Hacked", "email": "x@x.org"})
    assert response.status_code == 200
    donor = Donor.objects.get(pk=delivery.donor_id)
    assert (donor.newsletter, donor.language) == (False, "en")
    assert (donor.first_name, donor.email) == ("Anna", "anna@example.org")

    client.post(url, {"language": "it", "newsletter": "on"})
    donor.refresh_from_db()
    assert donor.newsletter is True and donor.newsletter_confirmed_at is not None


# --- What the provider reports ------------------------------------------------------------


def postmark(event):
    auth = base64.b64encode(b"hook:s3cret").decode()
    return Client().post(
        "/crm/anymail/postmark/tracking/",
        data=json.dumps(event),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def test_a_bounce_suppresses_the_next_message(world, django_capture_on_commit_callbacks):
    delivery = sent_delivery(world, django_capture_on_commit_callbacks, "Bruno")
    django_mail.outbox = []

    # Postmark reports the delivery, then an open, then a (late) bounce
    base = {"MessageID": "pm-1", "Recipient": delivery.to, "Metadata": {"delivery": delivery.token}}
    assert (
        postmark(
            {**base, "RecordType": "Delivery", "DeliveredAt": "2026-03-14T16:33:54Z"}
        ).status_code
        == 200
    )
    postmark(
        {**base, "RecordType": "Open", "ReceivedAt": "2026-03-14T17:00:00Z", "FirstOpen": True}
    )
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
    assert delivery.delivered_at is not None and delivery.opened_at is not None
    response = postmark(
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "TypeCode": 1,
            "MessageID": "pm-1",
            "Email": delivery.to,
            "BouncedAt": "2026-03-15T16:09:19Z",
            "Description": "The server was unable to deliver your message (ex: unknown user).",
            "Metadata": {"delivery": delivery.token},
        }
    )
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.BOUNCED
    assert SuppressedAddress.objects.filter(
        network=world["network"], email="bruno@example.org"
    ).exists()

    send(new_message(world), django_capture_on_commit_callbacks)
    assert "bruno@example.org" not in addresses() and len(addresses()) == 3


def test_a_bounce_on_a_gift_email_stops_the_next_newsletter(
    world, django_capture_on_commit_callbacks
):
    # given a gift of Bruno's, confirmed by email with its receipt (one pipeline, one list)
    bruno = Donor.objects.get(network=world["network"], first_name="Bruno")
    with django_capture_on_commit_callbacks(execute=True):
        gift = record_offline_gift(
            network=world["network"],
            donor=bruno,
            amount_cents=2500,
            received_on=datetime.date(2026, 3, 2),
            method=Donation.Method.BANK_TRANSFER,
        )
    email = DonorEmail.objects.get(donation=gift)
    assert email.status == DonorEmail.Status.SENT and email.message_id
    django_mail.outbox = []

    # when the provider reports that this email bounced
    response = postmark(
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "TypeCode": 1,
            "MessageID": email.message_id,
            "Email": "Bruno@example.org",
            "BouncedAt": "2026-03-15T16:09:19Z",
            "Description": "unknown user",
        }
    )

    # then the email shows it, the address is suppressed for the network (not for another)
    assert response.status_code == 200
    email.refresh_from_db()
    assert email.status == DonorEmail.Status.BOUNCED
    suppression = SuppressedAddress.objects.get(email="bruno@example.org")
    assert suppression.network == world["network"]
    assert suppression.source == SuppressedAddress.Source.GIFT_EMAIL
    # and the next newsletter goes to everybody else, not to Bruno
    send(new_message(world), django_capture_on_commit_callbacks)
    assert addresses() == sorted(d.email for d in world["members"] if d.first_name != "Bruno")


def test_a_complaint_suppresses_and_a_late_delivery_does_not_hide_it(
    world, django_capture_on_commit_callbacks
):
    delivery = sent_delivery(world, django_capture_on_commit_callbacks, "Carla")
    base = {"MessageID": "pm-2", "Metadata": {"delivery": delivery.token}}
    postmark(
        {
            **base,
            "RecordType": "SpamComplaint",
            "Email": delivery.to,
            "BouncedAt": "2026-03-15T16:09:19Z",
        }
    )
    postmark(
        {
            **base,
            "RecordType": "Delivery",
            "Recipient": delivery.to,
            "DeliveredAt": "2026-03-14T16:33:54Z",
        }
    )
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.COMPLAINED and delivery.delivered_at is not None
    assert (
        SuppressedAddress.objects.get(email=delivery.to).reason
        == SuppressedAddress.Reason.COMPLAINED
    )


def test_the_providers_unsubscribe_turns_the_news_off(world, django_capture_on_commit_callbacks):
    from anymail.signals import AnymailTrackingEvent, EventType, tracking

    delivery = sent_delivery(world, django_capture_on_commit_callbacks, "Anna")
    event = AnymailTrackingEvent(
        event_type=EventType.UNSUBSCRIBED,
        message_id="someone-elses-id",
        metadata={"delivery": delivery.token},
        timestamp=timezone.now(),
    )
    tracking.send(sender=object, event=event, esp_name="Test")
    delivery.refresh_from_db()
    assert delivery.unsubscribed_at is not None
    assert Donor.objects.get(pk=delivery.donor_id).newsletter is False


def test_an_address_suppressed_after_the_start_is_skipped(world):
    message = new_message(world, status=Message.Status.SENDING)
    mailing.prepare(message.pk)
    SuppressedAddress.objects.create(
        network=world["network"], email="Anna@Example.org", reason="bounced"
    )

    mailing.deliver(message.pk)

    assert "anna@example.org" not in addresses() and len(addresses()) == 3
    assert Delivery.objects.get(donor__first_name="Anna").status == Delivery.Status.SKIPPED


def test_an_unsubscribe_after_a_merge_stops_the_kept_donor(
    world, django_capture_on_commit_callbacks
):
    """The email went to a donor merged since into another: the kept donor stops the news."""
    from crm.merging import merge_donors

    message = new_message(world)
    send(message, django_capture_on_commit_callbacks)
    anna = world["members"][0]
    delivery = Delivery.objects.get(message=message, donor=anna)
    keeper = Donor.objects.create(
        network=world["network"], first_name="Anna", last_name="Test", **CONFIRMED
    )
    merge_donors(keeper, anna)
    response = Client(enforce_csrf_checks=True).post(
        f"/news/unsubscribe/{delivery.token}/",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    keeper.refresh_from_db()
    assert keeper.newsletter is False


def test_erasing_a_donor_blanks_their_address_on_every_delivery(
    world, django_capture_on_commit_callbacks
):
    # given a message sent to the members, one of whose emails failed with their address in
    # the provider's error, and another message still to send
    from crm.privacy import anonymise_donor

    sent = new_message(world)
    send(sent, django_capture_on_commit_callbacks)
    anna, bruno = world["members"][0], world["members"][1]
    Delivery.objects.filter(message=sent, donor=anna).update(
        last_error="550 anna@example.org: mailbox unavailable"
    )
    waiting = new_message(world)
    Delivery.objects.create(message=waiting, donor=anna, to="anna@example.org")
    assert Delivery.objects.filter(to="anna@example.org").count() == 2
    # when Anna is erased (GDPR art. 17)
    anonymise_donor(anna)
    # then no delivery keeps her address, nor an error naming it, and the one still to send
    # never goes
    rows = Delivery.objects.filter(donor=anna)
    assert rows.count() == 2
    assert set(rows.values_list("to", flat=True)) == {""}
    assert not rows.filter(last_error__icontains="anna@example.org").exists()
    assert rows.get(message=waiting).status == Delivery.Status.SKIPPED
    assert rows.get(message=sent).status != Delivery.Status.SKIPPED  # what happened stays
    # and nobody else's delivery changes
    assert Delivery.objects.get(message=sent, donor=bruno).to == "bruno@example.org"
