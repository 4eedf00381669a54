"""Peer-to-peer on a phone (issue 25): a supporter opens a personal page and confirms their
email, the communicator approves it in the admin, two friends give through it on (stand-in)
Checkout; the leaderboard and the campaign's total both count each gift once. The personal
page passes axe-core with no serious or critical violation."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail

from .test_giving import CAMPAIGN_PATH, giving_site  # noqa: F401

SERIOUS = {"serious", "critical"}


def _serious(page):
    results = Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def _give_through(page, url, first, email, amount, show):
    page.goto(url)
    page.check(f'input[name=amount][value="{amount}"]')
    page.fill("#id_first_name", first)
    page.fill("#id_last_name", "Verdi")
    page.fill("#id_email", email)
    page.check("#id_privacy")
    if show:
        page.check("#id_show_amount")
    page.click("#give-button")
    page.wait_for_selector("#card-number")
    page.click("#pay")
    page.wait_for_url("**/give/thanks/**")
    page.wait_for_selector('[data-status="confirmed"]', timeout=15_000)


@pytest.mark.django_db(transaction=True)
def test_a_supporters_page_approved_and_two_friends_give_through_it(
    giving_site,  # noqa: F811
    page,
    screenshot,
):
    from campaigns.models import CampaignPage
    from crm.models import Donation
    from events.models import Fundraiser, SoftCredit

    campaign = CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")
    campaign.suggested_amounts = "10 25 50"
    campaign.save_revision().publish()
    before = Donation.objects.filter(campaign=campaign).succeeded().count()
    axe = {}
    # a supporter opens a page for the campaign
    page.goto(giving_site + f"/fundraise/{campaign.pk}/")
    page.fill("#id_owner_name", "Luca Bianchi")
    page.fill("#id_email", "luca@example.org")
    page.fill("#id_title", "Corro per il doposcuola")
    page.fill("#id_story", "Il 6 aprile corro la mezza maratona: aiutatemi.")
    page.fill("#id_goal_cents", "500")
    page.fill("#id_team_name", "Amici del quartiere")
    page.check("#id_privacy")
    page.click("#open-page")
    page.wait_for_selector('[data-testid="fundraiser-started"]')
    # and confirms their email by the link they got
    body = [m for m in mail.outbox if m.to == ["luca@example.org"]][-1].body
    link = re.search(r"https?://\S+", body).group(0)
    page.goto(giving_site + re.sub(r"^https?://[^/]+", "", link))
    assert Fundraiser.objects.get().status == "unconfirmed"  # opening the link confirms nothing
    page.click("#confirm-email")
    page.wait_for_selector('[data-testid="fundraiser-confirmed"]')
    fundraiser = Fundraiser.objects.get()
    assert fundraiser.status == "pending"
    public_url = giving_site + f"/p/{fundraiser.slug}/"
    assert page.goto(public_url).status == 404
    # the communicator approves it
    page.goto(giving_site + "/admin/login/")
    page.fill("#id_username", "comunicazione-oltre-il-ponte")
    page.fill("#id_password", "demo-oltre-il-ponte-com")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(giving_site + "/admin/events/pages/")
    page.click(f"text={fundraiser.title}")
    page.click("#approve")
    page.wait_for_selector('[data-status="approved"]')
    page.context.clear_cookies()
    # two friends give through it
    page.goto(public_url)
    axe["personal page"] = _serious(page)
    screenshot("fundraiser-page")
    _give_through(page, public_url, "Anna", "anna@example.org", "2500", True)
    page.context.clear_cookies()
    _give_through(page, public_url, "Marco", "marco@example.org", "5000", False)
    # the leaderboard and the campaign's total count each gift once
    page.goto(giving_site + f"/fundraise/{campaign.pk}/leaderboard/")
    screenshot("fundraiser-leaderboard")
    assert (
        page.locator('[data-testid="leaderboard-pages"] [data-raised]').first.get_attribute(
            "data-raised"
        )
        == "7500"
    )
    assert "75,00" in page.inner_text('[data-testid="leaderboard-teams"]')
    gifts = Donation.objects.filter(campaign=campaign).succeeded()
    assert gifts.count() == before + 2
    assert SoftCredit.objects.filter(fundraiser=fundraiser).count() == 2
    from django.core.cache import cache

    cache.clear()
    progress = CampaignPage.objects.get(pk=campaign.pk).get_progress()
    assert progress["raised_cents"] == gifts.raised()
    total = page.inner_text('[data-testid="campaign-total"]')
    assert f"{gifts.raised() // 100:,}".replace(",", ".") in total
    # the page's owner was told it is public, then of both gifts, the amount only where the
    # donor agreed
    owner = [m for m in mail.outbox if m.to == ["luca@example.org"]]
    assert owner[1].subject == "La tua pagina “Corro per il doposcuola” è pubblica"
    assert public_url.removeprefix(giving_site) in owner[1].body
    told = [m.body for m in owner[2:]]
    assert len(told) == 2 and "25,00" in told[0] and "50,00" not in told[1]
    assert {where: found for where, found in axe.items() if found} == {}
