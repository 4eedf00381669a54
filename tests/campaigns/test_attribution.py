"""A gift made through an email's link (`?m=<token>` on the campaign page) keeps the token of
that email: on the page's form, in the Checkout Session and on the donation, never in the page
another visitor gets."""

import re

import pytest
import requests
from django.test import Client

from crm.models import Donation, RecurringPlan

from .test_giving import FORM, _pay, _queries, give_url

HIDDEN = re.compile(r'<input type="hidden" name="message_token" value="([^"]*)">')


def _token_on_page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    found = HIDDEN.findall(response.content.decode())
    return found[0] if found else None


def _session(stripe_standin, donation):
    return requests.get(
        f"{stripe_standin}/v1/checkout/sessions/{donation.stripe_checkout_session_id}",
        auth=("sk_test_standin", ""),
        timeout=5,
    ).json()


def test_a_gift_through_an_emails_link_carries_its_token(
    client, campaign, stripe_events, stripe_standin
):
    # given a donor who opens the campaign page from an email's link
    token = _token_on_page(client, f"{campaign.url}?m=abc123")
    assert token == "abc123"
    # when they give with the form of that page and pay on Checkout
    response = client.post(give_url(campaign), {**FORM, "message_token": token})
    assert response.status_code == 303
    donation = Donation.objects.get()
    assert _session(stripe_standin, donation)["metadata"]["message_token"] == "abc123"
    _pay(response["Location"])
    stripe_events.wait_for("checkout.session.completed")
    assert all(r.status_code == 200 for r in stripe_events.relay())
    # then the gift counts and says which email it came through
    donation.refresh_from_db()
    assert (donation.status, donation.message_token) == ("succeeded", "abc123")


def test_a_plan_started_through_an_email_keeps_its_token_on_later_gifts(
    client, campaign, stripe_events, stripe_standin
):
    response = client.post(
        give_url(campaign), {**FORM, "frequency": "monthly", "message_token": "Ab_-9xYz"}
    )
    donation = Donation.objects.get()
    subscription_metadata = _session(stripe_standin, donation)
    assert subscription_metadata["metadata"]["message_token"] == "Ab_-9xYz"
    _pay(response["Location"])
    stripe_events.wait_for("checkout.session.completed", "invoice.paid")
    stripe_events.relay()
    plan = RecurringPlan.objects.get()
    requests.post(
        f"{stripe_standin}/_standin/subscriptions/{plan.stripe_subscription_id}/renew", timeout=5
    ).raise_for_status()
    stripe_events.wait_for("invoice.paid")
    stripe_events.relay()
    gifts = Donation.objects.filter(recurring_plan=plan, status="succeeded")
    assert sorted(gifts.values_list("message_token", flat=True)) == ["Ab_-9xYz", "Ab_-9xYz"]


@pytest.mark.parametrize(
    "bad",
    ["ab", "a" * 33, "abc 123", "abc<script>", "àèìòù", "abc123%00", "../etc"],
)
def test_a_malformed_token_is_ignored(client, campaign, stripe_standin, bad):
    # the page opens as usual, without the token
    assert (
        _token_on_page(client, campaign.url + "?" + requests.compat.urlencode({"m": bad})) is None
    )
    # and a form sent with it starts the gift, unattributed
    response = client.post(give_url(campaign), {**FORM, "message_token": bad})
    assert response.status_code == 303
    donation = Donation.objects.get()
    assert donation.message_token == ""
    assert "message_token" not in _session(stripe_standin, donation)["metadata"]


def test_a_form_with_errors_keeps_the_token(client, campaign):
    response = client.post(give_url(campaign), {**FORM, "email": "", "message_token": "abc123"})
    assert response.status_code == 400
    assert HIDDEN.findall(response.content.decode()) == ["abc123"]
    assert not Donation.objects.exists()


def test_the_token_never_reaches_another_visitor(client, campaign):
    # given the first visitor of the page (fragments cached now) comes through an email
    html = client.get(f"{campaign.url}?m=abc123").content.decode()
    # the token is in their form (and their language switch), not in the links they would share
    assert HIDDEN.findall(html) == ["abc123"]
    assert "abc123" not in html.split('class="share"')[1].split("</p>")[0]
    # then the next visitor, with or without another email's token, does not get it
    other = Client()
    assert "abc123" not in other.get(campaign.url).content.decode()
    assert _token_on_page(other, f"{campaign.url}?m=zzz999") == "zzz999"
    assert "abc123" not in other.get(f"{campaign.url}?m=zzz999").content.decode()


def test_a_link_with_a_token_is_served_from_the_cached_fragments(client, campaign, settings):
    settings.PAGE_CACHE_SECONDS = 0  # the rendered page's fragments, not the whole-page cache
    url = campaign.url
    client.get(url)  # warm the site lookups and the page's fragments
    plain = _queries(client, url)
    with_token = _queries(client, f"{url}?m=abc123")
    assert with_token == plain
    # and the other query parameters survive on the share links
    html = client.get(f"{url}?utm_source=news&m=abc123").content.decode()
    share = html.split('class="share"')[1].split("</p>")[0]
    assert "utm_source%3Dnews" in share and "abc123" not in share
