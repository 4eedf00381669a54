"""Newsletter consent is the donor's, given from the link we email to their current address
(double opt-in). A treasurer re-ticking "newsletter" for someone who unsubscribed, ticking it
for a new donor, or changing the address of a donor who receives the news starts a new double
opt-in: the donor gets the confirmation email, outreach writes to them only once they confirm,
and every step is in the donor's consent log (their history)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.log_actions import registry as log_registry
from wagtail.rich_text import RichText

from crm.merging import merge_donors
from crm.models import Donor, DonorEmail
from crm.portal import set_newsletter
from outreach.models import Message, Segment
from outreach.recipients import consenting, recipients_for
from tests.security.test_identity_claims import donor_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def treasurer(users, demo):
    return users["tesoreria-oltre-il-ponte"], demo["oltre-il-ponte"]


@pytest.fixture
def subscriber(treasurer):
    """Maria, who confirmed the newsletter from our link a while ago."""
    _user, network = treasurer
    return Donor.objects.create(
        network=network,
        first_name="Maria",
        last_name="Bianchi",
        email="maria@example.org",
        newsletter=True,
        newsletter_confirmed_at=timezone.now() - timezone.timedelta(days=400),
    )


def reachable(donor):
    """Whether outreach may write to the donor now: a consenting donor (what every send checks
    again) and a recipient of a message to all the network's donors."""
    segment = Segment.objects.create(network=donor.network, name=f"Tutti {Segment.objects.count()}")
    message = Message.objects.create(
        network=donor.network,
        segment=segment,
        subject="Notizie",
        body=[("paragraph", RichText("<p>Notizie.</p>"))],
    )
    consents = consenting(Donor.objects.filter(pk=donor.pk)).exists()
    receives = recipients_for(message).filter(pk=donor.pk).exists()
    assert consents == receives
    return receives


def consent_log(donor):
    entries = log_registry.get_logs_for_instance(donor).filter(action__startswith="crm.consent.")
    return [(e.action, e.data.get("email"), e.user_id) for e in entries.order_by("pk")]


def confirmation_path(message):
    found = re.search(r"https?://[^\s]+(/crm/newsletter/[^\s/]+/)", message.body)
    assert found, message.body
    return found.group(1)


def save_form(client, donor, **changes):
    response = client.post(
        reverse("crm_donor:edit", args=[donor.pk]), donor_form_data(donor, **changes)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    donor.refresh_from_db()


def test_re_ticking_news_for_someone_who_unsubscribed_needs_their_new_confirmation(
    client, treasurer, subscriber, mailoutbox, django_capture_on_commit_callbacks
):
    user, _network = treasurer
    # given Maria unsubscribed (from a message's link or her own page)
    set_newsletter(subscriber, False)
    subscriber.refresh_from_db()
    assert not reachable(subscriber)
    client.force_login(user)
    page = client.get(reverse("crm_donor:inspect", args=[subscriber.pk])).content.decode()
    assert "waiting for the confirmation" not in page

    # when the treasurer ticks "newsletter" again on her record and saves
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        save_form(client, subscriber, newsletter=True)

    # then outreach still may not write to her: the old confirmation does not count
    assert not reachable(subscriber)
    # and her page says the news wait for her confirmation (not a bare "no")
    page = client.get(reverse("crm_donor:inspect", args=[subscriber.pk])).content.decode()
    assert "no, waiting for the confirmation emailed on" in page
    assert subscriber.newsletter_confirmed_at is None
    # and she was sent a new confirmation email, at her address
    (message,) = [m for m in mailoutbox if "/crm/newsletter/" in m.body]
    assert message.to == ["maria@example.org"]
    # and the consent log says: withdrawn by her, then asked again by the treasurer
    assert consent_log(subscriber) == [
        ("crm.consent.withdrawn", "maria@example.org", None),
        ("crm.consent.requested", "maria@example.org", user.pk),
    ]

    # when she confirms from the link, outreach may write to her again, and the log says so
    client.logout()
    assert client.post(confirmation_path(message)).status_code == 200
    subscriber.refresh_from_db()
    assert reachable(subscriber)
    assert consent_log(subscriber)[-1] == ("crm.consent.confirmed", "maria@example.org", None)


def test_changing_the_address_of_a_subscriber_starts_a_new_double_opt_in(
    client, treasurer, subscriber, mailoutbox, django_capture_on_commit_callbacks
):
    user, _network = treasurer
    assert reachable(subscriber)
    client.force_login(user)

    # when the treasurer changes Maria's email, leaving "newsletter" ticked
    with django_capture_on_commit_callbacks(execute=True):
        save_form(client, subscriber, email="maria.nuova@example.org")

    # then nothing goes to the new address until it confirms; the confirmation went there
    assert subscriber.email == "maria.nuova@example.org"
    assert not reachable(subscriber)
    (message,) = [m for m in mailoutbox if "/crm/newsletter/" in m.body]
    assert message.to == ["maria.nuova@example.org"]
    entry = log_registry.get_logs_for_instance(subscriber).get(action="crm.consent.requested")
    assert entry.user == user and entry.data["reason"] == "email_changed"
    assert entry.data["email"] == "maria.nuova@example.org"

    # when the new mailbox confirms, the news start again
    client.logout()
    assert client.post(confirmation_path(message)).status_code == 200
    subscriber.refresh_from_db()
    assert reachable(subscriber)


def test_a_new_donor_ticked_by_the_treasurer_waits_for_the_confirmation(
    client, treasurer, mailoutbox, django_capture_on_commit_callbacks
):
    user, network = treasurer
    client.force_login(user)
    probe = Donor(network=network, first_name="Nora", last_name="Nuova", email="nora@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("crm_donor:add"), donor_form_data(probe, newsletter=True))
    assert response.status_code == 302, response.content.decode()[:3000]
    nora = Donor.objects.get(email="nora@example.org")
    assert not reachable(nora) and nora.newsletter is False
    assert [m.to for m in mailoutbox if "/crm/newsletter/" in m.body] == [["nora@example.org"]]
    assert DonorEmail.objects.filter(kind=DonorEmail.Kind.NEWSLETTER_CONFIRM, donor=nora).exists()


def test_unticking_withdraws_and_an_edit_of_other_fields_changes_no_consent(
    client, treasurer, subscriber, mailoutbox
):
    user, _network = treasurer
    client.force_login(user)
    # when the treasurer edits only Maria's city, her confirmed consent stays as it was
    confirmed_at = subscriber.newsletter_confirmed_at
    save_form(client, subscriber, city="Bologna")
    assert reachable(subscriber) and subscriber.newsletter_confirmed_at == confirmed_at
    assert mailoutbox == [] and consent_log(subscriber) == []
    # when they untick it, the consent and its confirmation are gone, in the log
    save_form(client, subscriber, newsletter=False)
    assert not reachable(subscriber) and subscriber.newsletter_confirmed_at is None
    assert consent_log(subscriber) == [("crm.consent.withdrawn", "maria@example.org", user.pk)]


def test_a_merge_carries_the_news_only_to_the_address_that_confirmed_them(
    treasurer, subscriber, mailoutbox, django_capture_on_commit_callbacks
):
    user, network = treasurer
    # given Maria's other record, with another address and no news
    keep = Donor.objects.create(
        network=network, first_name="Maria", last_name="Bianchi", email="m.bianchi@example.org"
    )
    # when the treasurer merges the subscribed record into it (keeping its address)
    with django_capture_on_commit_callbacks(execute=True):
        merge_donors(keep, subscriber, user=user)

    # then the kept address, which never confirmed, gets no message until it confirms
    keep.refresh_from_db()
    assert keep.email == "m.bianchi@example.org" and not reachable(keep)
    assert [m.to for m in mailoutbox if "/crm/newsletter/" in m.body] == [["m.bianchi@example.org"]]
    entry = log_registry.get_logs_for_instance(keep).get(action="crm.consent.requested")
    assert entry.user == user and entry.data["reason"] == "merged"

    # while a record with the very address that confirmed carries the consent over as given
    twin = Donor.objects.create(
        network=network,
        first_name="Maria",
        email="m.bianchi@example.org",
        newsletter=True,
        newsletter_confirmed_at=timezone.now(),
    )
    merge_donors(keep, twin, user=user)
    keep.refresh_from_db()
    assert reachable(keep)
