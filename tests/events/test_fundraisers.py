"""Personal pages: opened after the email is confirmed, public once approved; gifts through a
page are soft-credited to it and counted once (the campaign's total and the leaderboard);
the owner is told of each gift (the amount only if the donor agreed); moderation with history;
each network's pages its own."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from crm.models import Donation
from events import fundraisers
from events.models import Fundraiser, SoftCredit
from events.tokens import confirm_token
from tests.campaigns.conftest import campaign  # noqa: F401
from tests.campaigns.test_giving import FORM, _pay, give_url

pytestmark = pytest.mark.django_db

PAGE = {
    "owner_name": "Luca Bianchi",
    "email": "luca@example.org",
    "title": "Corro per il doposcuola",
    "story": "Il 6 aprile corro la mezza maratona: aiutatemi a raccogliere 500 euro.",
    "goal_cents": "500",
    "team_name": "Amici del quartiere",
    "privacy": "on",
}


def _user(name):
    return get_user_model().objects.get(username=name)


@pytest.fixture
def opened(client, campaign, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:fundraiser_start", args=[campaign.pk]), PAGE)
    assert response.status_code == 200, response.content.decode()[:3000]
    return Fundraiser.objects.get()


def _confirm_link():
    body = [m for m in mail.outbox if "luca@example.org" in m.to][-1].body
    return re.search(r"https?://\S+", body).group(0)


def test_a_page_is_public_only_once_confirmed_and_approved(
    client, opened, django_capture_on_commit_callbacks
):
    public = reverse("events:fundraiser", args=[opened.slug])
    assert opened.status == "unconfirmed" and client.get(public).status_code == 404
    path = re.sub(r"^https?://[^/]+", "", _confirm_link())
    assert client.get(path).status_code == 200  # opening the link (a mail scanner) shows a button
    opened.refresh_from_db()
    assert opened.status == "unconfirmed"
    assert client.post(path).status_code == 200  # pressing it confirms
    opened.refresh_from_db()
    assert opened.status == "pending" and client.get(public).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert fundraisers.moderate(opened.pk, "approve", by="comunicazione")
    first = client.get(public)
    assert first.status_code == 200 and first["X-Page-Cache"] == "miss"
    assert client.get(public)["X-Page-Cache"] == "hit"  # the whole page from the cache
    # hidden: the cached copy goes with the content version
    with django_capture_on_commit_callbacks(execute=True):
        assert fundraisers.moderate(opened.pk, "hide", by="comunicazione", note="foto")
    assert client.get(public).status_code == 404
    actions = list(opened.history.values_list("action", flat=True))
    assert actions == ["opened", "confirmed", "approve", "hide"]


def test_a_forged_confirmation_link_confirms_nothing(client, opened):
    response = client.get(reverse("events:fundraiser_confirm", args=[str(opened.pk)]))
    assert response.status_code == 404
    opened.refresh_from_db()
    assert opened.status == "unconfirmed"


def _give(client, campaign, page, stripe_events, capture, email, amount, show):  # noqa: F811
    data = {**FORM, "amount": str(amount), "email": email, "fundraiser": page.slug}
    if show:
        data["show_amount"] = "1"
    response = client.post(give_url(campaign), data)
    assert response.status_code == 303
    _pay(response["Location"])
    stripe_events.wait_for("checkout.session.completed")
    with capture(execute=True):
        assert all(r.status_code == 200 for r in stripe_events.relay())


def test_two_friends_give_through_a_page_counted_once(
    client,
    campaign,  # noqa: F811
    opened,
    stripe_events,
    django_capture_on_commit_callbacks,
):
    fundraisers.confirm(confirm_token(opened))
    fundraisers.moderate(opened.pk, "approve", by="comunicazione")
    before = campaign.get_progress()["raised_cents"]
    mail.outbox.clear()
    capture = django_capture_on_commit_callbacks
    _give(client, campaign, opened, stripe_events, capture, "anna@example.org", 2500, True)
    _give(client, campaign, opened, stripe_events, capture, "marco@example.org", 5000, False)
    assert SoftCredit.objects.count() == 2
    assert Donation.objects.filter(campaign=campaign).succeeded().count() >= 2
    from django.core.cache import cache

    cache.clear()
    assert campaign.get_progress()["raised_cents"] == before + 7500
    board = fundraisers.leaderboard(campaign)
    assert [(row["page"].pk, row["raised_cents"], row["gifts"]) for row in board["pages"]] == [
        (opened.pk, 7500, 2)
    ]
    assert [(t["team"].name, t["raised_cents"]) for t in board["teams"]] == [
        ("Amici del quartiere", 7500)
    ]
    told = [m.body for m in mail.outbox if m.to == ["luca@example.org"]]
    assert len(told) == 2
    assert "25,00" in told[0] and "50,00" not in told[1]


def test_a_gift_through_a_page_not_public_is_not_credited(
    client,
    campaign,  # noqa: F811
    opened,
    stripe_standin,
):
    data = {**FORM, "fundraiser": opened.slug}
    assert client.post(give_url(campaign), data).status_code == 303
    assert not SoftCredit.objects.exists()


def test_moderation_is_each_networks_own(client, opened):
    url = reverse("events_fundraiser", args=[opened.pk])
    client.force_login(_user("tesoreria-valle-serena"))
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"action": "approve"}).status_code in (403, 404)
    opened.refresh_from_db()
    assert opened.status == "unconfirmed"
    client.force_login(_user("tesoreria-oltre-il-ponte"))
    assert client.get(url).status_code == 200
    fundraisers.confirm(confirm_token(opened))
    client.post(
        url,
        {
            "action": "edit",
            "title": "Corro!",
            "story": "Nuova storia",
            "goal_cents": "600",
            "photo_alt": "",
        },
    )
    client.post(url, {"action": "approve"})
    opened.refresh_from_db()
    assert (opened.status, opened.title, opened.goal_cents) == ("approved", "Corro!", 60000)
    assert list(opened.history.values_list("action", flat=True))[-2:] == ["edited", "approve"]


def test_the_campaign_page_leads_to_personal_pages_and_their_leaderboard(
    client, opened, django_capture_on_commit_callbacks
):
    campaign_page = opened.campaign.url
    start = reverse("events:fundraiser_start", args=[opened.campaign.pk])
    board = reverse("events:leaderboard", args=[opened.campaign.pk])
    # a supporter finds on the campaign's page how to open their own page
    html = client.get(campaign_page).content.decode()
    assert f'href="{start}"' in html and f'href="{board}"' not in html  # no public page yet
    assert client.get(start).status_code == 200
    # once a page is public, the campaign's page leads to the leaderboard too
    opened.status = Fundraiser.Status.PENDING
    opened.save(update_fields=["status"])
    with django_capture_on_commit_callbacks(execute=True):
        assert fundraisers.moderate(opened.pk, "approve", by="comunicazione")
    html = client.get(campaign_page).content.decode()
    assert f'href="{board}"' in html
    assert client.get(board).status_code == 200
