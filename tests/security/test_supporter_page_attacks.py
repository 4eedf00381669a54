"""Supporters' personal pages (attack pass, 5 December 2026): a page shows its campaign, so it
is public only while its campaign is (a campaign unpublished, or behind a password, no longer
shows through its supporters' pages); a page put behind a password is no longer served from
the page cache either; and what a stranger types on a page is text, on the page and on the
leaderboard."""

import pytest
from django.urls import reverse
from wagtail.models import PageViewRestriction

from events import fundraisers
from events.models import Fundraiser
from tests.campaigns.conftest import campaign  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def approved(campaign, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        page = fundraisers.open_page(
            campaign,
            team_name=f"Squadra {SCRIPT}",
            owner_name=f"Luca {SCRIPT}",
            email="luca@example.org",
            title=f"Corro {SCRIPT}",
            story=f"Aiutatemi {SCRIPT}",
            goal_cents=50000,
        )
        Fundraiser.objects.filter(pk=page.pk).update(status=Fundraiser.Status.PENDING)
        assert fundraisers.moderate(page.pk, "approve", by="comunicazione")
    return Fundraiser.objects.get(pk=page.pk)


def test_a_strangers_words_are_text_on_the_page_and_the_leaderboard(client, approved):
    page = client.get(reverse("events:fundraiser", args=[approved.slug])).content.decode()
    board = client.get(reverse("events:leaderboard", args=[approved.campaign_id]))
    for html in (page, board.content.decode()):
        assert SCRIPT not in html
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("how", ["unpublished", "password"])
def test_a_page_of_a_campaign_no_longer_public_is_not_shown(
    client,
    campaign,  # noqa: F811
    approved,
    how,
    django_capture_on_commit_callbacks,
):
    url = reverse("events:fundraiser", args=[approved.slug])
    assert client.get(url).status_code == 200  # and now in the page cache
    assert client.get(campaign.url)["X-Page-Cache"] == "miss"
    assert client.get(campaign.url)["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        if how == "unpublished":
            campaign.unpublish()
        else:
            PageViewRestriction.objects.create(
                page=campaign, restriction_type=PageViewRestriction.PASSWORD, password="x"
            )
    response = client.get(url)
    assert response.status_code == 404
    assert campaign.title not in response.content.decode()
    # nor the campaign's own page from the cache (a password means: private from now on)
    response = client.get(campaign.url)
    assert response.get("X-Page-Cache") != "hit"
    assert 'class="donation-form"' not in response.content.decode()  # a password form, a 404
