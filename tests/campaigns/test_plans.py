"""Recurring plans managed from Trama, through the Stripe stand-in and its webhooks: the donor's
signed plan page and the treasurer's plan page change the amount or the interval, pause and
resume, update the card and stop; each change is recorded once; "No such subscription" marks
the plan to check (never stopped); other networks and forged links get nothing."""

import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse
from wagtail.models import ModelLogEntry

from crm import plan_history
from crm.links import PLAN_CANCEL_SALT, plan_cancel_url, plan_manage_url
from crm.mail import build_message
from crm.models import Donation, DonorEmail, RecurringPlan

from .test_giving import FORM, _pay, give_url

SITE = "http://127.0.0.1:8000"


def _path(url):
    return url.removeprefix(SITE)


def _history(plan, action=None):
    entries = ModelLogEntry.objects.filter(
        content_type__model="recurringplan", object_id=str(plan.pk)
    )
    if action:
        entries = entries.filter(action=action)
    return list(entries.order_by("pk").values_list("action", flat=True))


@pytest.fixture
def monthly_plan(client, campaign, stripe_events):
    """A € 25 monthly gift paid on the stand-in, its webhooks applied."""
    response = client.post(give_url(campaign, "en"), {**FORM, "frequency": "monthly"})
    _pay(response["Location"])
    stripe_events.wait_for("checkout.session.completed", "invoice.paid")
    stripe_events.relay()
    plan = RecurringPlan.objects.get()
    assert (plan.status, plan.amount_cents, plan.interval) == ("active", 2500, "month")
    return plan


def _renew(stripe_standin, plan):
    return requests.post(
        f"{stripe_standin}/_standin/subscriptions/{plan.stripe_subscription_id}/renew", timeout=5
    )


def _subscription(stripe_standin, plan):
    return requests.get(
        f"{stripe_standin}/v1/subscriptions/{plan.stripe_subscription_id}",
        auth=("sk_test_standin", ""),
        timeout=5,
    ).json()


def _relay_all(stripe_events, *types):
    stripe_events.wait_for(*types)
    responses = stripe_events.relay()
    assert all(r.status_code == 200 for r in responses)


def _treasurer(network, other=False):
    users = get_user_model().objects.filter(username__startswith="tesoreria-")
    if other:
        return users.exclude(username=f"tesoreria-{network.slug}").first()
    return users.get(username=f"tesoreria-{network.slug}")


# --- the donor's plan page --------------------------------------------------------------------


def test_donor_changes_the_amount_and_it_is_recorded_once(
    client, monthly_plan, stripe_events, stripe_standin
):
    plan = monthly_plan
    url = _path(plan_manage_url(plan))
    page = client.get(url)
    assert page.status_code == 200 and "25.00" in page.content.decode()
    # when the donor types 40 (Italian or plain) and confirms
    response = client.post(url, {"action": "amount", "amount": "40"})
    assert response.status_code == 303 and response["Location"].endswith("?done=amount")
    plan.refresh_from_db()
    assert plan.amount_cents == 4000
    assert plan.next_charge_at is not None
    # then Stripe's subscription has the new price, not prorated, and one history entry
    sub = _subscription(stripe_standin, plan)
    assert sub["items"]["data"][0]["price"]["unit_amount"] == 4000
    _relay_all(stripe_events, "customer.subscription.updated")
    assert _history(plan) == [plan_history.AMOUNT]
    # and the next invoice is charged at the new amount, a gift of € 40 (not held for review)
    _renew(stripe_standin, plan).raise_for_status()
    _relay_all(stripe_events, "invoice.paid")
    latest = Donation.objects.filter(recurring_plan=plan).order_by("-id").first()
    assert (latest.amount_cents, latest.status) == (4000, "succeeded")
    # the paid invoice's period end is the next charge
    due = _subscription(stripe_standin, plan)["items"]["data"][0]["current_period_end"]
    plan.refresh_from_db()
    assert int(plan.next_charge_at.timestamp()) == due
    assert _history(plan) == [plan_history.AMOUNT]


def test_an_amount_outside_the_limits_changes_nothing(client, monthly_plan, stripe_standin):
    url = _path(plan_manage_url(monthly_plan))
    response = client.post(url, {"action": "amount", "amount": "1"})
    assert response.status_code == 400
    assert "smallest gift" in response.content.decode()
    response = client.post(url, {"action": "amount", "amount": "abc"})
    assert response.status_code == 400
    monthly_plan.refresh_from_db()
    assert monthly_plan.amount_cents == 2500 and _history(monthly_plan) == []
    assert (
        _subscription(stripe_standin, monthly_plan)["items"]["data"][0]["price"]["unit_amount"]
        == 2500
    )


def test_donor_switches_to_yearly_from_the_next_charge_date(
    client, monthly_plan, stripe_events, stripe_standin
):
    plan = monthly_plan
    due = _subscription(stripe_standin, plan)["items"]["data"][0]["current_period_end"]
    response = client.post(_path(plan_manage_url(plan)), {"action": "interval", "interval": "year"})
    assert response.status_code == 303
    plan.refresh_from_db()
    assert (plan.interval, plan.status) == ("year", "active")
    assert int(plan.next_charge_at.timestamp()) == due  # nothing charged before that date
    sub = _subscription(stripe_standin, plan)
    assert sub["items"]["data"][0]["price"]["recurring"]["interval"] == "year"
    assert sub["status"] == "trialing" and sub["latest_invoice"] is not None
    _relay_all(stripe_events, "customer.subscription.updated")
    assert _history(plan) == [plan_history.INTERVAL]
    # the next charge is the yearly one
    _renew(stripe_standin, plan).raise_for_status()
    _relay_all(stripe_events, "invoice.paid")
    plan.refresh_from_db()
    assert plan.status == "active" and plan.donations.count() == 2
    assert (plan.next_charge_at.timestamp() - due) > 360 * 86400


def test_quarterly_is_every_three_months_on_stripe(client, monthly_plan, stripe_standin):
    client.post(_path(plan_manage_url(monthly_plan)), {"action": "interval", "interval": "quarter"})
    recurring = _subscription(stripe_standin, monthly_plan)["items"]["data"][0]["price"][
        "recurring"
    ]
    assert (recurring["interval"], recurring["interval_count"]) == ("month", 3)
    monthly_plan.refresh_from_db()
    assert monthly_plan.interval == "quarter"


def test_pause_skips_the_charge_and_resume_brings_it_back(
    client, monthly_plan, stripe_events, stripe_standin
):
    plan = monthly_plan
    url = _path(plan_manage_url(plan))
    assert client.post(url, {"action": "pause"}).status_code == 303
    plan.refresh_from_db()
    assert plan.status == "paused"
    assert _subscription(stripe_standin, plan)["pause_collection"]["behavior"] == "void"
    _relay_all(stripe_events, "customer.subscription.updated")
    plan.refresh_from_db()
    assert plan.status == "paused"
    # the next period's invoice is voided: no gift
    _renew(stripe_standin, plan).raise_for_status()
    _relay_all(stripe_events, "invoice.voided")
    assert plan.donations.count() == 1
    assert "Resume my gift" in client.get(url).content.decode()
    # resumed: the following invoice is charged
    assert client.post(url, {"action": "resume"}).status_code == 303
    plan.refresh_from_db()
    assert plan.status == "active"
    _renew(stripe_standin, plan).raise_for_status()
    _relay_all(stripe_events, "invoice.paid")
    assert plan.donations.count() == 2
    assert _history(plan) == [plan_history.PAUSE, plan_history.RESUME]


def test_donor_updates_the_card_on_stripes_page(client, monthly_plan, stripe_events):
    plan = monthly_plan
    url = _path(plan_manage_url(plan))
    response = client.post(url, {"action": "card"})
    assert response.status_code == 303
    portal = response["Location"]
    assert "/billing/portal/bps_" in portal
    saved = requests.post(
        portal, data={"card_number": "5555 5555 5555 4444"}, allow_redirects=False, timeout=5
    )
    assert saved.status_code == 303
    assert saved.headers["Location"] == f"http://testserver{url}?done=card"
    _relay_all(stripe_events, "customer.subscription.updated")
    assert _history(plan) == [plan_history.CARD]
    # delivered again: still one entry
    assert 'data-done="card"' in client.get(f"{url}?done=card").content.decode()


def test_donor_stops_the_plan_and_is_told_once(client, monthly_plan, stripe_events, stripe_standin):
    plan = monthly_plan
    stop = _path(plan_cancel_url(plan))
    question = client.get(stop).content.decode()
    assert "Stop your regular gift?" in question and "Stop my monthly gift" in question
    assert client.post(stop).status_code == 200
    plan.refresh_from_db()
    assert plan.status == "cancelled"
    _relay_all(stripe_events, "customer.subscription.deleted")
    assert _history(plan) == [plan_history.STOP]
    stopped = DonorEmail.objects.filter(kind=DonorEmail.Kind.PLAN_STOPPED)
    assert list(stopped.values_list("recurring_plan", "to")) == [(plan.pk, "anna@example.org")]
    message = build_message(stopped.get())
    assert "has stopped" in message.subject and "no further payments" in message.body
    # the manage page says it is stopped; no new charge is possible
    assert 'data-testid="plan-stopped"' in client.get(_path(plan_manage_url(plan))).content.decode()
    assert _renew(stripe_standin, plan).status_code == 400


@pytest.mark.usefixtures("stripe_standin")
def test_no_such_subscription_is_to_check_not_stopped(client, campaign):
    # "No such subscription" may be a test key in live or another account: never "stopped"
    plan = RecurringPlan.objects.create(
        network=campaign.network,
        amount_cents=1000,
        status=RecurringPlan.Status.ACTIVE,
        stripe_subscription_id="sub_unknown_to_stripe",
    )
    stop = _path(plan_cancel_url(plan))
    response = client.post(stop)
    assert response.status_code == 503
    assert 'data-status="cancelled"' not in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == "to_check"
    assert _history(plan) == [plan_history.CHECK]
    # a second visit asks Stripe again: still to check, nothing more recorded
    again = client.post(stop)
    assert again.status_code == 503
    plan.refresh_from_db()
    assert plan.status == "to_check" and _history(plan) == [plan_history.CHECK]


@pytest.mark.usefixtures("stripe_standin")
def test_no_such_subscription_on_a_change_changes_nothing(client, campaign):
    plan = RecurringPlan.objects.create(
        network=campaign.network,
        amount_cents=1000,
        status=RecurringPlan.Status.ACTIVE,
        stripe_subscription_id="sub_gone",
    )
    response = client.post(_path(plan_manage_url(plan)), {"action": "amount", "amount": "20"})
    assert response.status_code == 503
    assert 'data-testid="plan-stopped"' not in response.content.decode()
    plan.refresh_from_db()
    assert (plan.status, plan.amount_cents) == ("to_check", 1000)


def test_stripe_down_changes_nothing_and_says_so(client, monthly_plan, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    response = client.post(_path(plan_manage_url(monthly_plan)), {"action": "pause"})
    assert response.status_code == 503
    assert "nothing was changed" in response.content.decode()
    monthly_plan.refresh_from_db()
    assert monthly_plan.status == "active" and _history(monthly_plan) == []


def test_forged_and_expired_links_are_clear_4xx(client, monthly_plan, settings):
    for name in ("campaigns:manage_plan", "campaigns:cancel_plan"):
        forged = client.get(reverse(name, args=["123:forged:signature"]))
        assert forged.status_code == 404
        assert 'data-problem="invalid"' in forged.content.decode()
        assert client.post(reverse(name, args=["nope"]), {"action": "pause"}).status_code == 404
    # a link signed for something else (a donation) is not a plan link
    other = signing.dumps(monthly_plan.pk, salt="campaigns.donation")
    assert client.get(reverse("campaigns:manage_plan", args=[other])).status_code == 404
    token = signing.dumps(monthly_plan.pk, salt=PLAN_CANCEL_SALT)
    expired = _OldSigner(salt=PLAN_CANCEL_SALT).sign_object(monthly_plan.pk)
    response = client.get(reverse("campaigns:manage_plan", args=[expired]))
    assert response.status_code == 410 and 'data-problem="expired"' in response.content.decode()
    assert client.get(reverse("campaigns:manage_plan", args=[token])).status_code == 200
    monthly_plan.refresh_from_db()
    assert monthly_plan.status == "active"


class _OldSigner(signing.TimestampSigner):
    """Signs as if 401 days ago (the links live 400)."""

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - 401 * 86400)


# --- the treasurer's plan page ------------------------------------------------------------------


def _admin(name, plan):
    return reverse(f"crm_recurringplan:{name}", args=[plan.pk])


def test_treasurer_stops_a_plan_after_the_question(
    client, monthly_plan, stripe_events, stripe_standin
):
    plan = monthly_plan
    treasurer = _treasurer(plan.network)
    client.force_login(treasurer)
    page = client.get(_admin("inspect", plan))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="plan-gifts"' in html and _admin("plan_cancel", plan) in html
    # the question page says what will happen and changes nothing
    question = client.get(_admin("plan_cancel", plan))
    assert question.status_code == 200 and 'data-testid="consequence"' in question.content.decode()
    plan.refresh_from_db()
    assert plan.status == "active"
    # confirmed: stopped here and at Stripe, recorded once with who did it, the donor told
    response = client.post(_admin("plan_cancel", plan))
    assert response.status_code == 302 and response["Location"] == _admin("inspect", plan)
    plan.refresh_from_db()
    assert plan.status == "cancelled"
    assert _subscription(stripe_standin, plan)["status"] == "canceled"
    _relay_all(stripe_events, "customer.subscription.deleted")
    entry = ModelLogEntry.objects.get(object_id=str(plan.pk), action=plan_history.STOP)
    assert entry.user == treasurer and entry.data["by"] == "treasurer"
    assert DonorEmail.objects.filter(kind=DonorEmail.Kind.PLAN_STOPPED).count() == 1
    # the next invoice is not charged
    assert _renew(stripe_standin, plan).status_code == 400
    assert plan.donations.count() == 1
    # and the page shows the history, without actions that no longer apply
    html = client.get(_admin("inspect", plan)).content.decode()
    assert 'data-testid="plan-history"' in html and _admin("plan_pause", plan) not in html
    assert client.post(_admin("plan_pause", plan)).status_code == 302  # "no longer possible"


def test_treasurer_changes_amount_interval_pauses_and_resumes(
    client, monthly_plan, stripe_events, stripe_standin
):
    plan = monthly_plan
    client.force_login(_treasurer(plan.network))
    assert client.get(_admin("plan_amount", plan)).status_code == 200
    bad = client.post(_admin("plan_amount", plan), {"amount": "12,5,0"})
    assert bad.status_code == 400
    assert client.post(_admin("plan_amount", plan), {"amount": "12,50"}).status_code == 302
    assert client.post(_admin("plan_interval", plan), {"interval": "quarter"}).status_code == 302
    assert client.post(_admin("plan_pause", plan)).status_code == 302
    plan.refresh_from_db()
    assert (plan.amount_cents, plan.interval, plan.status) == (1250, "quarter", "paused")
    assert client.post(_admin("plan_resume", plan)).status_code == 302
    plan.refresh_from_db()
    assert plan.status == "active"
    sub = _subscription(stripe_standin, plan)
    price = sub["items"]["data"][0]["price"]
    assert (price["unit_amount"], price["recurring"]["interval_count"]) == (1250, 3)
    assert sub["pause_collection"] is None
    _relay_all(stripe_events, "customer.subscription.updated")
    assert _history(plan) == [
        plan_history.AMOUNT,
        plan_history.INTERVAL,
        plan_history.PAUSE,
        plan_history.RESUME,
    ]
    html = client.get(_admin("inspect", plan)).content.decode()
    assert "12,50" in html or "12.50" in html


def test_treasurer_sends_the_manage_link(client, monthly_plan):
    plan = monthly_plan
    client.force_login(_treasurer(plan.network))
    assert client.get(_admin("plan_link", plan)).status_code == 200
    assert client.post(_admin("plan_link", plan)).status_code == 302
    email = DonorEmail.objects.get(kind=DonorEmail.Kind.PLAN_LINK)
    assert (email.recurring_plan, email.to) == (plan, "anna@example.org")
    message = build_message(email)
    assert plan_manage_url(plan).rsplit("/", 2)[0] in message.body
    assert _history(plan) == [plan_history.LINK]


def test_another_networks_treasurer_gets_404(client, monthly_plan):
    plan = monthly_plan
    client.force_login(_treasurer(plan.network, other=True))
    for name in ("inspect", "plan_cancel", "plan_amount", "plan_pause", "plan_link"):
        assert client.get(_admin(name, plan)).status_code == 404
        assert client.post(_admin(name, plan), {"amount": "10"}).status_code == 404
    plan.refresh_from_db()
    assert (plan.status, plan.amount_cents) == ("active", 2500)
    assert _history(plan) == [] and not DonorEmail.objects.filter(kind="plan_link").exists()


@pytest.mark.usefixtures("stripe_standin")
def test_treasurer_sees_to_check_when_stripe_does_not_know_it(client, campaign):
    plan = RecurringPlan.objects.create(
        network=campaign.network,
        amount_cents=1000,
        status=RecurringPlan.Status.ACTIVE,
        stripe_subscription_id="sub_gone_for_the_treasurer",
    )
    client.force_login(_treasurer(plan.network))
    response = client.post(_admin("plan_pause", plan), follow=True)
    assert response.status_code == 200
    plan.refresh_from_db()
    assert plan.status == "to_check"
    assert _history(plan) == [plan_history.CHECK]
    assert 'data-testid="plan-check-note"' in response.content.decode()
    assert not DonorEmail.objects.filter(recurring_plan=plan).exists()
