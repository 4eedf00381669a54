"""A message as the donor sees it: personalised, English when written in English, our own links
carrying the delivery's token, the footer's links working, no template code from the editor."""

import datetime

import pytest
from wagtail.rich_text import RichText

from campaigns.models import CampaignPage
from crm.models import Donation, Donor
from outreach.models import Delivery, Message
from outreach.rendering import MessageRenderer, render_message


@pytest.fixture
def message(demo):
    network = demo["valle-serena"]
    campaign = CampaignPage.objects.first()
    return Message.objects.create(
        network=network,
        campaign=campaign,
        subject="{nome}, grazie per {ultimo_dono}",
        preheader="Notizie da {campagna}",
        body=[
            (
                "paragraph",
                RichText('<p>Ciao {nome}, <a href="/chi-siamo/">leggi</a> {{ 7|add:1 }}</p>'),
            ),
            (
                "key_figures",
                {"title": "Numeri", "figures": [{"figure": "1.200", "label": "pasti"}]},
            ),
            ("button", {"label": "Dona", "page": campaign, "url": ""}),
            ("button", {"label": "Altrove", "page": None, "url": "https://example.com/x"}),
        ],
        subject_en="{nome}, thank you",
        body_en=[("paragraph", RichText("<p>Hello {nome}</p>"))],
    )


def test_preview_uses_sample_values_and_inert_links(message):
    rendered = render_message(message)
    assert rendered.subject.startswith("Maria, grazie per €\xa025,00")
    assert rendered.subject.endswith("25/11/2026")
    assert rendered.preheader == f"Notizie da {message.campaign.title}"
    assert "Ciao Maria" in rendered.html and "Ciao Maria" in rendered.text
    assert "{{ 7|add:1 }}" in rendered.html  # shown as typed, never run
    assert "?m=" not in rendered.html
    assert "/news/unsubscribe/anteprima/" in rendered.html
    assert "\x01" not in rendered.html + rendered.text + rendered.subject
    assert 'style="' in rendered.html and "<table" in rendered.html
    assert "1.200" in rendered.text and "https://example.com/x" in rendered.text


def test_delivery_personalises_and_tracks_own_links(message, settings):
    donor = Donor.objects.create(
        network=message.network, first_name="Giulia", email="g@example.org", language="it"
    )
    Donation.objects.create(
        network=message.network,
        donor=donor,
        amount_cents=4000,
        received_on=datetime.date(2026, 3, 2),
        status=Donation.Status.SUCCEEDED,
    )
    delivery = Delivery.objects.create(
        message=message, donor=donor, to=donor.email, token="tok123", attribution="att456"
    )
    rendered = MessageRenderer(message).for_delivery(delivery, donor)
    assert rendered.subject.startswith("Giulia, grazie per €\xa040,00")
    assert rendered.subject.endswith("02/03/2026")
    # the links to our pages carry the attribution marker, the footer's pages the token
    assert f"{settings.SITE_URL}/chi-siamo/?m=att456" in rendered.html
    assert 'https://example.com/x"' in rendered.html  # someone else's site: untouched
    assert "/news/unsubscribe/tok123/" in rendered.text
    assert "/news/preferences/tok123/" in rendered.html
    assert "?m=att456" in rendered.text
    assert "m=tok123" not in rendered.html and "m=tok123" not in rendered.text


def test_english_when_written_in_english(message):
    rendered = render_message(message, language="en")
    assert rendered.subject == "Maria, thank you"
    assert "Hello Maria" in rendered.html
    assert "Unsubscribe" in rendered.html and "/news/unsubscribe/anteprima/" in rendered.html
    message.body_en = []
    assert render_message(message, language="en").subject.startswith("Maria, grazie")
