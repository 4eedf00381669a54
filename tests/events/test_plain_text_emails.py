"""The plain-text emails of events and personal pages read names and titles as typed: an
apostrophe or an ampersand is never an HTML entity ('D&#x27;Alò') in a subject or a body."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.campaigns.conftest import campaign  # noqa: F401
from tests.events.conftest import make_event

pytestmark = pytest.mark.django_db


def test_the_ticket_email_of_an_event_named_with_an_apostrophe(
    client, demo, django_capture_on_commit_callbacks
):
    from cms.models import NetworkPage

    # given an event whose title has an apostrophe and an ampersand
    network_page = NetworkPage.objects.get(network=demo["oltre-il-ponte"])
    event = make_event(network_page, title="Cena d'autunno & musica")
    child = event.ticket_types.get(name="Bambino")
    buyer = {"first_name": "Rosa D'Alò", "last_name": "Neri", "email": "rosa@example.org"}

    # when a buyer named D'Alò takes two free tickets
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("events:buy", args=[event.pk]),
            {**buyer, "privacy": "on", f"qty_{child.pk}": "2"},
        )
    assert response.status_code == 303

    # then the email reads every name as typed
    (sent,) = mail.outbox
    assert sent.subject == "I tuoi biglietti per Cena d'autunno & musica"
    assert "Rosa D'Alò" in sent.body and "Cena d'autunno & musica" in sent.body
    assert "&#x27;" not in sent.body and "&amp;" not in sent.body


def test_the_confirmation_of_a_personal_page_titled_with_an_apostrophe(
    client,
    campaign,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    page = {
        "owner_name": "Luca D'Alò",
        "email": "luca@example.org",
        "title": "Corro per l'asilo & la scuola",
        "story": "Il 6 aprile corro la mezza maratona.",
        "goal_cents": "500",
        "privacy": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:fundraiser_start", args=[campaign.pk]), page)
    assert response.status_code == 200

    (sent,) = mail.outbox
    assert "Luca D'Alò" in sent.body and "“Corro per l'asilo & la scuola”" in sent.body
    assert "&#x27;" not in sent.body and "&amp;" not in sent.body
