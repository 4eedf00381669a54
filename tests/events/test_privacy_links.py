"""A form that asks "I have read the privacy notice" links the notice: the ticket form of an
event and the form that opens a personal page, like the donation form, in both languages."""

import pytest
from django.urls import reverse
from django.utils import translation

from cms.models import StandardPage
from tests.campaigns.conftest import campaign  # noqa: F401

pytestmark = pytest.mark.django_db


def _notice_of(page):
    return StandardPage.objects.live().child_of(page.get_parent()).get(slug="privacy")


@pytest.mark.parametrize(("language", "words"), [("it", "Leggi l'informativa"), ("en", "Read the")])
def test_the_personal_page_form_links_the_networks_privacy_notice(
    client,
    campaign,  # noqa: F811
    language,
    words,
):
    # found walking the demo: "Ho letto l'informativa sulla privacy *" with nothing to read
    notice = _notice_of(campaign)
    with translation.override(language):
        url = reverse("events:fundraiser_start", args=[campaign.pk])
        notice_url = notice.url
    html = client.get(url).content.decode()
    assert f'href="{notice_url}"' in html and words in html


@pytest.mark.parametrize(("language", "words"), [("it", "Leggi l'informativa"), ("en", "Read the")])
def test_the_ticket_form_links_the_networks_privacy_notice(client, event, language, words):
    notice = _notice_of(event)
    with translation.override(language):
        event_url, notice_url = event.url, notice.url
    html = client.get(event_url).content.decode()
    assert 'name="privacy"' in html
    assert f'href="{notice_url}"' in html and words in html
