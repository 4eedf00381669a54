"""On a phone, the form that opens a personal page keeps every box inside its card and each
tick box beside its words, as the donation form does."""

from urllib.parse import urlsplit

import pytest


@pytest.fixture
def site(live_server, demo):
    from wagtail.models import Site

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    return live_server.url


@pytest.mark.django_db(transaction=True)
def test_the_personal_page_form_fits_a_phone(site, page, screenshot):
    from campaigns.models import CampaignPage

    # found walking the demo on a phone: the "why" box ran past the card's right edge, and
    # the privacy tick box stood alone on a line above its words
    campaign = CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")
    page.goto(site + f"/fundraise/{campaign.pk}/")
    card = page.locator("#fundraiser-form").bounding_box()
    for box in ("#id_owner_name", "#id_story", "#id_goal_cents"):
        found = page.locator(box).bounding_box()
        assert found["x"] + found["width"] <= card["x"] + card["width"], box
    tick = page.locator("#id_privacy").bounding_box()
    words = page.locator('label[for="id_privacy"]').bounding_box()
    assert words["y"] <= tick["y"] + tick["height"] / 2 <= words["y"] + words["height"]
    assert tick["x"] < words["x"] + words["width"]
    screenshot("personal-page-form-phone")


@pytest.mark.django_db(transaction=True)
def test_the_ticket_quantities_are_boxes_a_thumb_can_use(site, demo, page, screenshot):
    from cms.models import NetworkPage
    from tests.events.conftest import make_event

    # found walking the demo on a phone: "Adulto: quanti" was a box 18 px tall, a third of
    # what a thumb needs (44 px, as every other box of the form)
    event = make_event(NetworkPage.objects.get(network=demo["oltre-il-ponte"]))
    page.goto(site + event.url)
    quantities = page.locator('#tickets input[type="number"]')
    assert quantities.count() == 3
    for index in range(3):
        box = quantities.nth(index).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 64, box
    screenshot("ticket-form-phone")
