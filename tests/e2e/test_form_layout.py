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
