"""The admin as its Italian users meet it, in a real browser: a communicator types a goal in
euros as they write it, and a treasurer voids a receipt through the page that asks first."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .test_treasurer import log_in

COMMUNICATOR = ("comunicazione-oltre-il-ponte", "demo-oltre-il-ponte-com")
TREASURER = ("tesoreria-oltre-il-ponte", "demo-oltre-il-ponte-tes")


@pytest.mark.django_db(transaction=True)
def test_communicator_types_the_goal_in_euros(live_server, demo, page, screenshot):
    from wagtail.models import Site

    from campaigns.models import CampaignPage
    from cms.models import NetworkPage

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    base = live_server.url
    network_page = NetworkPage.objects.get(network=demo["oltre-il-ponte"])
    # given the communicator of Oltre il Ponte, signed in
    log_in(page, base, *COMMUNICATOR)
    # when they add a campaign under their network's page, typing the goal as "5.000"
    # (Wagtail's scripts connected first: the slug follows the title when the title is left)
    page.goto(
        f"{base}/admin/pages/add/campaigns/campaignpage/{network_page.pk}/",
        wait_until="networkidle",
    )
    page.fill("#id_title", "Un tetto per tutti")
    page.locator("#id_title").press("Tab")
    expect(page.locator("#id_slug")).to_have_value("un-tetto-per-tutti")
    goal = page.locator("#id_goal_cents")
    goal.fill("5.000")
    # and publish it (the publish button hides in the footer's dropdown)
    page.locator("footer .dropdown-toggle, footer [data-w-dropdown-target='toggle']").first.click()
    page.locator("button[name=action-publish]").click()
    page.wait_for_url(re.compile(r".*/admin/pages/\d+/"))
    campaign = CampaignPage.objects.get(title="Un tetto per tutti")
    assert campaign.live and campaign.goal_cents == 500000
    # then the published page shows the goal as € 5.000,00
    page.goto(base + campaign.url)
    assert "€\u00a05.000,00" in page.locator("body").inner_text()
    screenshot("campaign-goal-in-euros")


@pytest.mark.django_db(transaction=True)
def test_treasurer_voids_a_receipt_through_the_question(live_server, demo, page, screenshot):
    from crm.models import Donation, Donor, Receipt
    from crm.receipts import issue_receipt

    base = live_server.url
    donor = Donor.objects.create(
        network=demo["oltre-il-ponte"], first_name="Carla", last_name="Neri", email="c@example.org"
    )
    gift = Donation.objects.create(
        network=donor.network,
        donor=donor,
        amount_cents=2500,
        status=Donation.Status.SUCCEEDED,
        method=Donation.Method.BANK_TRANSFER,
        channel=Donation.Channel.OFFLINE,
    )
    receipt = issue_receipt([gift], enqueue_render=False)
    # given the treasurer on the receipt's page
    log_in(page, base, *TREASURER)
    page.goto(f"{base}/admin/crm/receipts/inspect/{receipt.pk}/")
    # when they choose to void it
    page.get_by_role("link", name="Annulla", exact=True).click()
    page.wait_for_url(f"**/crm/receipts/{receipt.pk}/void/")
    # then a page asks the question, says what will happen, and offers to go back
    body = page.locator("body").inner_text()
    assert f"Annullare la ricevuta n. {receipt.number}?" in body
    assert "il numero non sarà più usato" in body and "Il donatore non riceve email" in body
    assert page.get_by_role("link", name="Torna indietro").is_visible()
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.ISSUED  # asking changed nothing
    screenshot("void-receipt-question")
    # and once they give a reason and confirm, the receipt is void
    page.fill("#id_reason", "Importo errato")
    page.get_by_role("button", name="Annulla la ricevuta").click()
    page.wait_for_url(f"**/crm/receipts/inspect/{receipt.pk}/")
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.VOID and receipt.void_reason == "Importo errato"
