"""A donor on a phone gives on a campaign page, pays on (stand-in) Stripe Checkout, and sees
the thank-you page turn confirmed once the webhook arrives; the treasurer then finds the gift.
"""

import time
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import translation

CAMPAIGN_PATH = "/oltre-il-ponte/un-doposcuola-per-ogni-quartiere/"
WEBHOOK_ENDPOINT = "e2e-live-server"


@pytest.fixture
def giving_site(live_server, demo, stripe_standin, settings):
    """The live server as the site, with the stand-in delivering webhooks to it."""
    from wagtail.models import Site

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "form-action": [*settings.SECURE_CSP["form-action"], stripe_standin],
    }
    requests.post(
        f"{stripe_standin}/_config/webhooks/{WEBHOOK_ENDPOINT}",
        data={
            "url": f"{live_server.url}/stripe/webhook/",
            "secret": settings.STRIPE_WEBHOOK_SECRET,
        },
        timeout=5,
    ).raise_for_status()
    yield live_server.url
    # The stand-in runs in this process: drop the endpoint so later events don't chase a
    # server that is gone.
    from localstripe import webhooks

    webhooks._webhooks.pop(WEBHOOK_ENDPOINT, None)


def _fill_donor(page, first="Giulia", last="D'Alò", email="giulia@example.org"):
    page.fill("#id_first_name", first)
    page.fill("#id_last_name", last)
    page.fill("#id_email", email)
    page.check("#id_privacy")


@pytest.mark.django_db(transaction=True)
def test_monthly_gift_of_25_euro_is_confirmed_and_visible_to_the_treasurer(
    giving_site, page, screenshot
):
    from crm.models import Donation, RecurringPlan

    # given a donor on the campaign page who chooses 25 € every month
    page.goto(giving_site + CAMPAIGN_PATH)
    page.check('input[name=amount][value="2500"]')
    page.check("input[name=frequency][value=monthly]")
    _fill_donor(page)
    screenshot("giving-form")
    page.click("#give-button")
    # when they pay on Checkout
    page.wait_for_selector("#card-number")
    page.click("#pay")
    # then the thank-you page turns from pending to confirmed by itself
    page.wait_for_url("**/give/thanks/**")
    page.wait_for_selector('[data-status="confirmed"]', timeout=15_000)
    screenshot("giving-thanks")
    donation = Donation.objects.select_related("donor").get()
    assert (donation.status, donation.amount_cents) == ("succeeded", 2500)
    assert donation.donor.last_name == "D'Alò"
    assert RecurringPlan.objects.get().status == "active"
    # and the treasurer finds the gift and the donor in the admin
    page.goto(giving_site + "/admin/login/")
    page.fill("#id_username", "tesoreria-oltre-il-ponte")
    page.fill("#id_password", "demo-oltre-il-ponte-tes")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(giving_site + "/admin/crm/donations/")
    listing = page.locator("main").inner_text()
    assert "25,00" in listing and "D'Alò" in listing


@pytest.mark.django_db(transaction=True)
def test_one_off_gift_with_receipt_then_a_cancelled_checkout(giving_site, page):
    from crm.models import Donation

    # given a donor asking for a receipt, with an Italian amount
    page.goto(giving_site + CAMPAIGN_PATH)
    page.check("input[name=amount][value=other]")
    page.fill("#id_other_amount", "40,50")
    _fill_donor(page, first="Marco", last="Bianchi", email="marco@example.org")
    page.check("#id_wants_receipt")
    page.fill("#id_codice_fiscale", "rssmra80a01h501u")
    page.fill("#id_street_address", "Via Manzoni 5")
    page.fill("#id_postal_code", "23900")
    page.fill("#id_city", "Lecco")
    page.click("#give-button")
    page.wait_for_selector("#card-number")
    page.click("#pay")
    page.wait_for_selector('[data-status="confirmed"]', timeout=15_000)
    gift = Donation.objects.select_related("donor").get()
    assert (gift.amount_cents, gift.wants_receipt) == (4050, True)
    assert gift.donor.codice_fiscale == "RSSMRA80A01H501U"
    assert gift.donor.city == "Lecco"
    # when another donor starts a gift and cancels on Checkout
    page.goto(giving_site + CAMPAIGN_PATH)
    page.check('input[name=amount][value="1000"]')
    _fill_donor(page, first="Sara", last="Verdi", email="sara@example.org")
    page.click("#give-button")
    page.wait_for_selector("#cancel")
    page.click("#cancel")
    # then they are back with us and nothing was charged; the page changed nothing (a GET: the
    # Checkout stays open until it expires, the donor may still go back and pay)
    page.wait_for_selector('[data-testid="cancelled"]')
    left = Donation.objects.exclude(pk=gift.pk).get()
    assert (left.status, left.amount_cents) == ("pending", 1000)
    # when Stripe expires the Checkout, its event marks the gift cancelled
    from campaigns import stripe_api

    assert stripe_api.expire_checkout_session(left.network, left.stripe_checkout_session_id) == (
        "expired"
    )
    deadline = time.monotonic() + 15
    while left.status == "pending" and time.monotonic() < deadline:
        time.sleep(0.2)
        left.refresh_from_db()
    assert (left.status, left.amount_cents) == ("cancelled", 1000)


@pytest.mark.django_db(transaction=True)
def test_a_gift_from_a_page_served_from_the_cache(giving_site, page):
    """Issue 21: the campaign page comes whole from the page cache, without a token of the
    donor's own; the page's script fetches one, errors are shown, the gift goes through and the
    cached page's figures follow it."""
    from campaigns.models import CampaignPage
    from crm.models import Donation
    from crm.money import format_amount

    # given the page stored by an earlier visitor
    assert requests.get(giving_site + CAMPAIGN_PATH, timeout=10).headers["X-Page-Cache"] == "miss"
    # when a donor opens it from the cache and sends the form without ticking the privacy box
    opened = page.goto(giving_site + CAMPAIGN_PATH)
    assert opened.headers["x-page-cache"] == "hit"
    page.check('input[name=amount][value="2500"]')
    page.fill("#id_first_name", "Carla")
    page.fill("#id_last_name", "Neri")
    page.fill("#id_email", "carla@example.org")
    page.click("#give-button")
    # then the error is shown in Italian (a page of their own, with their token)
    page.wait_for_selector("#error-summary")
    assert "Correggi" in page.locator("#error-summary").inner_text()
    # and once corrected, the gift goes through Checkout and is confirmed
    page.check("#id_privacy")
    page.click("#give-button")
    page.wait_for_selector("#card-number")
    page.click("#pay")
    page.wait_for_selector('[data-status="confirmed"]', timeout=15_000)
    assert Donation.objects.get().amount_cents == 2500
    # and the cached page, still served from the cache, shows the new total by itself
    campaign = CampaignPage.objects.get(url_path__endswith="/un-doposcuola-per-ogni-quartiere/")
    with translation.override("it"):
        raised = format_amount(campaign.get_progress()["raised_cents"])
    again = page.goto(giving_site + CAMPAIGN_PATH)
    assert again.headers["x-page-cache"] == "hit"
    page.wait_for_function(
        "(raised) => document.querySelector('[data-testid=raised]').textContent === raised",
        arg=raised,
        # what the page promises: a refresh every LIVE_FIGURES_REFRESH (10 s) of figures at
        # most LIVE_FIGURES_MAX_AGE (5 s) old, with a margin for a loaded machine
        timeout=20_000,
    )
