"""Giving on a campaign page: the form, the checkout on the Stripe stand-in, the thank-you
page, the monthly donor's cancel link, and the page's progress."""

import io
import re
import time

import pytest
import requests
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from campaigns.models import invalidate_progress
from crm.links import plan_cancel_url
from crm.models import Donation, RecurringPlan

FORM = {
    "amount": "2500",
    "frequency": "once",
    "first_name": "Anna",
    "last_name": "D'Alò",
    "email": "anna@example.org",
    "privacy": "on",
}


def give_url(campaign, language="it"):
    """The form's address in the donor's language: /give/<id>/ or /en/give/<id>/."""
    with translation.override(language):
        return reverse("campaigns:give", args=[campaign.pk])


# --- the form ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed,message",
    [
        ("-5", "more than zero"),
        ("0", "more than zero"),
        ("1e9", "for example 25 or 10,50"),
        ("abc", "for example 25 or 10,50"),
        ("2", "smallest gift"),
        ("1.000.000", "largest gift"),
        ("10,505", "at most two decimals"),
    ],
)
def test_bad_amounts_are_refused_with_a_clear_message(client, campaign, typed, message):
    response = client.post(
        give_url(campaign, "en"),
        {**FORM, "amount": "other", "other_amount": typed},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Donation.objects.count() == 0


def test_italian_amounts_and_missing_receipt_details(client, campaign):
    # given an Italian amount and a receipt request without codice fiscale nor address
    response = client.post(
        give_url(campaign),
        {**FORM, "amount": "other", "other_amount": "1.000,50", "wants_receipt": "on"},
    )
    # then the form asks for them, and keeps the amount as typed
    assert response.status_code == 400
    form = response.context["form"]
    assert form.cleaned_data["amount_cents"] == 100050
    assert set(form.errors) == {"codice_fiscale", "street_address", "postal_code", "city"}


def test_codice_fiscale_with_a_wrong_check_character_is_refused(client, campaign):
    response = client.post(
        give_url(campaign),
        {
            **FORM,
            "wants_receipt": "on",
            "codice_fiscale": "rssnna80a41f205x",
            "street_address": "Via Roma 1",
            "postal_code": "23900",
            "city": "Lecco",
        },
    )
    assert response.status_code == 400
    assert "codice_fiscale" in response.context["form"].errors


def test_honeypot_stops_bots_before_anything_is_written(client, campaign):
    response = client.post(give_url(campaign), {**FORM, "website": "http://spam.example"})
    assert response.status_code == 400
    assert Donation.objects.count() == 0


def test_card_testing_hits_the_rate_limit_not_stripe(client, campaign, settings):
    # given a limit of 3 checkouts per email and Stripe unreachable (a call would show as 503)
    settings.GIVING_RATE_LIMITS = {"email": (3, 3600)}
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    statuses = [client.post(give_url(campaign), FORM).status_code for _ in range(6)]
    assert statuses == [503, 503, 503, 429, 429, 429]
    assert Donation.objects.count() == 0


def test_stripe_down_leaves_nothing_half_written(client, campaign, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    response = client.post(give_url(campaign, "en"), FORM)
    assert response.status_code == 503
    assert "nothing was charged" in response.content.decode()
    assert Donation.objects.count() == 0


# --- checkout on the stand-in --------------------------------------------------------------------


def _pay(checkout_url, **form):
    data = {"method": "card", "card_number": "4242 4242 4242 4242", "name": "Anna"}
    data.update(form)
    return requests.post(checkout_url, data=data, allow_redirects=False, timeout=5)


def test_one_off_gift_end_to_end(client, campaign, stripe_events):
    # given a donor who fills in the form
    response = client.post(give_url(campaign), {**FORM, "dedication": "In memoria di Pia"})
    # then a pending donation exists and the donor is sent to Stripe Checkout
    assert response.status_code == 303
    donation = Donation.objects.get()
    assert donation.status == "pending"
    assert response["Location"].endswith(f"/checkout/pay/{donation.stripe_checkout_session_id}")
    # when they pay, Stripe sends them back to the thank-you page, still pending
    paid = _pay(response["Location"])
    assert paid.status_code == 303
    thanks = paid.headers["Location"].removeprefix("http://testserver")
    assert 'data-status="pending"' in client.get(thanks).content.decode()
    # when the webhook arrives, the page shows the gift confirmed
    stripe_events.wait_for("checkout.session.completed")
    assert all(r.status_code == 200 for r in stripe_events.relay())
    assert 'data-status="confirmed"' in client.get(thanks).content.decode()
    donation.refresh_from_db()
    assert (donation.status, donation.amount_cents) == ("succeeded", 2500)
    assert donation.donor.last_name == "D'Alò"
    assert donation.dedication == "In memoria di Pia"


def test_monthly_gift_refund_and_cancel_link(client, campaign, stripe_events, stripe_standin):
    # given a monthly gift paid on Checkout, and its webhooks applied
    response = client.post(give_url(campaign, "en"), {**FORM, "frequency": "monthly"})
    _pay(response["Location"])
    stripe_events.wait_for("checkout.session.completed", "invoice.paid")
    stripe_events.relay()
    plan = RecurringPlan.objects.get()
    first = Donation.objects.get()
    assert (plan.status, first.status, first.recurring_plan) == ("active", "succeeded", plan)
    # when the next month is charged
    requests.post(
        f"{stripe_standin}/_standin/subscriptions/{plan.stripe_subscription_id}/renew", timeout=5
    ).raise_for_status()
    stripe_events.wait_for("invoice.paid")
    stripe_events.relay()
    assert Donation.objects.filter(recurring_plan=plan, status="succeeded").count() == 2
    # when the second month is refunded on Stripe (only its invoice links it to us)
    second = Donation.objects.exclude(pk=first.pk).get()
    payments = requests.get(
        f"{stripe_standin}/v1/invoice_payments",
        params={"invoice": second.stripe_invoice_id},
        auth=("sk_test_standin", ""),
        timeout=5,
    ).json()["data"]
    pi = payments[0]["payment"]["payment_intent"]
    requests.post(
        f"{stripe_standin}/v1/refunds",
        data={"payment_intent": pi, "amount": 1000},
        auth=("sk_test_standin", ""),
        timeout=5,
    ).raise_for_status()
    stripe_events.wait_for("charge.refunded")
    stripe_events.relay()
    second.refresh_from_db()
    assert (second.status, second.refunded_cents) == ("partially_refunded", 1000)
    # when the donor follows the signed link in any email and confirms
    url = plan_cancel_url(plan).removeprefix("http://127.0.0.1:8000")
    assert "Stop my monthly gift" in client.get(url).content.decode()
    assert client.post(url).status_code == 200
    # then the plan is cancelled here and on Stripe
    plan.refresh_from_db()
    assert plan.status == "cancelled"
    stripe_events.wait_for("customer.subscription.deleted")
    assert all(r.status_code == 200 for r in stripe_events.relay())


def test_an_english_donor_stays_in_english_through_checkout(client, campaign, stripe_events):
    # given a donor reading the campaign page in English
    page = client.get(f"/en{campaign.url}")
    html = page.content.decode()
    assert f'action="/en/give/{campaign.pk}/"' in html
    assert 'name="lang"' not in html  # the language travels in the URL now
    # when they give, Checkout speaks English and brings them back to English pages
    response = client.post(f"/en/give/{campaign.pk}/", FORM)
    assert response.status_code == 303
    session = requests.get(
        f"{stripe_events_base(response)}/v1/checkout/sessions/"
        f"{Donation.objects.get().stripe_checkout_session_id}",
        auth=("sk_test_standin", ""),
        timeout=5,
    ).json()
    assert session["locale"] == "en"
    assert session["success_url"].startswith("http://testserver/en/give/thanks/")
    assert session["cancel_url"].startswith("http://testserver/en/give/cancelled/")
    thanks = _pay(response["Location"]).headers["Location"].removeprefix("http://testserver")
    assert thanks.startswith("/en/give/thanks/")
    assert '<html lang="en">' in client.get(thanks).content.decode()
    # and their language is kept on the donor for later emails
    stripe_events.wait_for("checkout.session.completed")
    stripe_events.relay()
    donation = Donation.objects.select_related("donor").get()
    assert (donation.donor_details["language"], donation.donor.language) == ("en", "en")


def test_an_italian_donor_gets_italian_return_addresses(client, campaign, stripe_standin):
    response = client.post(give_url(campaign), FORM)
    session = requests.get(
        f"{stripe_standin}/v1/checkout/sessions/{Donation.objects.get().stripe_checkout_session_id}",
        auth=("sk_test_standin", ""),
        timeout=5,
    ).json()
    assert response.status_code == 303
    assert session["locale"] == "it"
    assert session["success_url"].startswith("http://testserver/give/thanks/")


def stripe_events_base(response):
    return response["Location"].split("/checkout/")[0]


def _cancel_url(client, campaign):
    response = client.post(give_url(campaign), FORM)
    page = requests.get(response["Location"], timeout=5).text
    cancel = re.search(r'id="cancel"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*id="cancel"', page)
    return (
        next(g for g in cancel.groups() if g)
        .replace("&amp;", "&")
        .removeprefix("http://testserver")
    )


def test_the_cancelled_page_changes_nothing_on_a_get(client, campaign, stripe_standin):
    # given a donor who left Checkout without paying (or a link prefetcher, or a crawler,
    # opening the address Stripe sends them back to)
    cancel_url = _cancel_url(client, campaign)
    donation = Donation.objects.get()
    # when the page is fetched, even twice
    for _ in range(2):
        response = client.get(cancel_url)
        # then it says the gift was not made
        assert response.status_code == 200
        assert 'data-testid="cancelled"' in response.content.decode()
    # and the pending gift is untouched: Stripe's Checkout stays open until it expires (the
    # donor may still go back and pay), and its checkout.session.expired event cancels it
    donation.refresh_from_db()
    assert donation.status == "pending"
    assert client.head(cancel_url).status_code == 200
    assert Donation.objects.get().status == "pending"


def test_the_cancelled_page_refuses_a_post(client, campaign, stripe_standin):
    # a GET-only page: nothing on it writes
    cancel_url = _cancel_url(client, campaign)
    assert client.post(cancel_url).status_code == 405
    assert Donation.objects.get().status == "pending"


def test_cancel_link_with_a_bad_signature_is_not_found(client, db):
    token = signing.dumps(1, salt="someone-else")
    assert client.get(reverse("campaigns:cancel_plan", args=[token])).status_code == 404


# --- the campaign page ---------------------------------------------------------------------------


def _succeeded_gifts(campaign, n, start=0):
    from campaigns.models import WallName
    from crm.models import Donor

    donors = Donor.objects.bulk_create(
        Donor(network=campaign.network, first_name=f"D{i}", public_mention=True)
        for i in range(start, start + n)
    )
    gifts = Donation.objects.bulk_create(
        Donation(
            network=campaign.network,
            campaign=campaign,
            donor=d,
            amount_cents=1000,
            status="succeeded",
            anonymous=False,  # the wall names a gift only with its own consent (issue 9)
        )
        for d in donors
    )
    # and a communicator approved each name (issue 13: the wall is moderated)
    WallName.objects.bulk_create(WallName(donation=gift, approved=True) for gift in gifts)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_page_queries_do_not_grow_with_gifts_and_totals_are_cached(client, campaign, settings):
    # The rendered page (the whole-page cache's first visitor, signed-in users): its queries.
    settings.PAGE_CACHE_SECONDS = 0
    campaign.donor_wall = True
    campaign.save_revision().publish()
    url = campaign.url
    _succeeded_gifts(campaign, 2)
    client.get(url)  # warm up the site and page lookups
    invalidate_progress(campaign.pk)
    few = _queries(client, url)
    cached = _queries(client, url)
    _succeeded_gifts(campaign, 200, start=2)  # bulk_create sends no signals
    invalidate_progress(campaign.pk)
    many = _queries(client, url)
    assert few == many
    assert cached < few
    html = client.get(url).content.decode()
    assert "202" in re.sub(r"\s+", " ", html.split('data-testid="donors"')[1][:40])
    assert "D201" in html  # the donor wall names those who agreed, newest first


def test_progress_updates_when_a_gift_succeeds(
    client, campaign, pending_donation, deliver, settings
):
    # The rendered page; a page from the whole-page cache gets its figures from the live
    # endpoint (tests/cms/test_page_cache.py).
    settings.PAGE_CACHE_SECONDS = 0
    from . import payloads
    from .conftest import event

    html = client.get(campaign.url).content.decode()
    assert "€\xa00,00" in html
    donation = pending_donation(4200)
    deliver(event("checkout.session.completed", payloads.checkout_session(donation)))
    html = client.get(campaign.url).content.decode()
    assert "€\xa042,00" in html


def test_expired_cancel_link_says_so(client, db):
    from crm.links import PLAN_CANCEL_MAX_AGE, PLAN_CANCEL_SALT

    class LongAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - PLAN_CANCEL_MAX_AGE - 60)

    token = LongAgo(salt=PLAN_CANCEL_SALT).sign_object(1)
    response = client.get(reverse("campaigns:cancel_plan", args=[token]))
    assert response.status_code == 410


# --- privacy notice and cached fragments ----------------------------------------------------------


def test_the_form_links_the_networks_privacy_notice_seeded_once(client, campaign):
    from django.core.management import call_command

    from cms.models import StandardPage

    # given the demo seeded twice (idempotent: one notice per network)
    call_command("seed_demo", stdout=io.StringIO())
    notices = StandardPage.objects.filter(slug="privacy")
    assert notices.count() == 2
    notice = notices.child_of(campaign.get_parent()).get()
    assert "Titolare del trattamento" in str(notice.body)
    # then the campaign's form links its network's notice
    assert f'href="{notice.url}"' in client.get(campaign.url).content.decode()


def test_a_chosen_privacy_page_replaces_the_networks_one(client, campaign):
    from cms.models import StandardPage

    chosen = campaign.get_parent().add_child(
        instance=StandardPage(title="Privacy campagna", slug="privacy-campagna")
    )
    campaign.privacy_page = chosen
    campaign.save_revision().publish()
    assert f'href="{chosen.url}"' in client.get(campaign.url).content.decode()


def test_publishing_a_new_revision_refreshes_the_cached_story(client, campaign):
    assert "Ogni euro raccolto" in client.get(campaign.url).content.decode()
    campaign.body = [("paragraph", "<p>Storia riscritta dalla redazione.</p>")]
    campaign.save_revision().publish()
    html = client.get(campaign.url).content.decode()
    assert "Storia riscritta" in html and "Ogni euro raccolto" not in html
