"""Plans tell the truth: every change (amount, frequency, pause, resume) is confirmed to the
donor once, whoever made it; a paused plan shows no next charge; the wording follows the
plan's frequency; and "No such subscription/charge" never stops a plan nor emails a donor: the
plan is marked to check and the treasurer is told."""

import datetime
from html import unescape

import pytest
import requests
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from crm import plan_history
from crm.links import plan_cancel_url, plan_manage_url
from crm.mail import build_message
from crm.models import Donation, Donor, DonorEmail, RecurringPlan

from . import payloads
from .conftest import event
from .test_plans import _admin, _path, _relay_all, _treasurer, monthly_plan  # noqa: F401

pytestmark = pytest.mark.django_db


def _changes():
    return list(DonorEmail.objects.filter(kind="plan_changed").order_by("pk"))


def _started(deliver, pending_donation, *, language="it"):
    """A € 25 monthly plan of Anna Rossi, paid, from the webhooks."""
    donation = pending_donation(2500)
    session = payloads.checkout_session(donation, mode="subscription", subscription="sub_C")
    deliver(event("checkout.session.completed", session))
    deliver(event("invoice.paid", payloads.invoice("in_1", "sub_C", donation=donation)))
    plan = RecurringPlan.objects.get()
    Donor.objects.filter(pk=plan.donor_id).update(language=language)
    return plan


# --- a change made in Stripe's dashboard, arriving by webhook ----------------------------------


def test_a_change_made_at_stripe_is_confirmed_to_the_donor_once(deliver, pending_donation):
    plan = _started(deliver, pending_donation)
    # when Stripe tells us the amount is now € 30 (delivered twice, then again in another event)
    updated = event("customer.subscription.updated", payloads.subscription("sub_C", amount=3000))
    assert deliver(updated).status_code == 200
    assert deliver(updated).status_code == 200
    again = event("customer.subscription.updated", payloads.subscription("sub_C", amount=3000))
    assert deliver(again).status_code == 200
    # then one confirmation, in Italian, saying what changed
    (email,) = _changes()
    assert (email.recurring_plan, email.to) == (plan, "anna.rossi@example.org")
    message = build_message(email)
    assert "è cambiata" in message.subject
    assert "€\xa030,00" in message.body and "€\xa025,00" in message.body
    assert "/give/plan/" in message.body


def test_the_confirmation_speaks_the_donors_language(deliver, pending_donation):
    _started(deliver, pending_donation, language="en")
    sub = payloads.subscription("sub_C")
    sub["items"]["data"][0]["price"]["recurring"] = {"interval": "month", "interval_count": 3}
    deliver(event("customer.subscription.updated", sub))
    (email,) = _changes()
    message = build_message(email)
    assert "has changed" in message.subject
    assert "quarterly" in message.body and "monthly" in message.body
    assert "mensile" not in message.body


# --- the donor on their page, the treasurer in the admin -----------------------------------------


def test_each_change_on_the_donors_page_is_confirmed_once(
    client,
    monthly_plan,  # noqa: F811
    stripe_events,
):
    plan = monthly_plan
    url = _path(plan_manage_url(plan))
    assert client.post(url, {"action": "amount", "amount": "40"}).status_code == 303
    assert len(_changes()) == 1
    # Stripe's own webhook for the same change adds nothing
    _relay_all(stripe_events, "customer.subscription.updated")
    assert len(_changes()) == 1
    assert client.post(url, {"action": "pause"}).status_code == 303
    assert client.post(url, {"action": "resume"}).status_code == 303
    _relay_all(stripe_events, "customer.subscription.updated")
    emails = _changes()
    assert [e.details["changes"][0]["what"] for e in emails] == ["amount", "pause", "resume"]
    assert all(e.details["by"] == "donor" for e in emails)
    # the pause says nothing will be charged, and shows no next payment
    paused = build_message(emails[1])
    assert "nothing will be charged" in paused.body
    assert "Next payment" not in paused.body
    # the resume gives the next payment date again
    resumed = build_message(emails[2])
    plan.refresh_from_db()
    assert timezone.localtime(plan.next_charge_at).strftime("%d/%m/%Y") in resumed.body


def test_the_treasurers_changes_are_confirmed_to_the_donor(
    client,
    monthly_plan,  # noqa: F811
    stripe_events,
):
    plan = monthly_plan
    client.force_login(_treasurer(plan.network))
    # the question page says the donor will be told
    question = unescape(client.get(_admin("plan_pause", plan)).content.decode())
    assert "Il donatore riceve un'email che conferma la modifica." in question
    assert client.post(_admin("plan_interval", plan), {"interval": "quarter"}).status_code == 302
    assert client.post(_admin("plan_pause", plan)).status_code == 302
    _relay_all(stripe_events, "customer.subscription.updated")
    emails = _changes()
    assert [e.details["changes"][0]["what"] for e in emails] == ["interval", "pause"]
    assert {e.details["by"] for e in emails} == {"treasurer"}
    body = build_message(emails[0]).body
    assert "quarterly" in body and "it was monthly" in body


# --- no next charge while paused ---------------------------------------------------------------


def _paused_plan(campaign):
    donor = Donor.objects.create(
        network=campaign.network, first_name="Pia", last_name="Neri", email="pia@example.org"
    )
    return RecurringPlan.objects.create(
        network=campaign.network,
        donor=donor,
        amount_cents=1500,
        interval=RecurringPlan.Interval.QUARTER,
        status=RecurringPlan.Status.PAUSED,
        stripe_subscription_id="sub_paused",
        next_charge_at=timezone.make_aware(datetime.datetime(2031, 3, 7, 12)),
    )


def test_a_paused_plan_shows_no_next_charge_anywhere(client, campaign):
    plan = _paused_plan(campaign)
    assert plan.upcoming_charge is None
    # the treasurer's plan page
    client.force_login(_treasurer(plan.network))
    admin = client.get(_admin("inspect", plan)).content.decode()
    assert 'data-status="paused"' in admin and "07/03/2031" not in admin
    amount_question = client.get(_admin("plan_amount", plan)).content.decode()
    assert "07/03/2031" not in amount_question
    # the donor's plan page
    page = client.get(_path(plan_manage_url(plan))).content.decode()
    assert 'data-status="paused"' in page and "07/03/2031" not in page
    # once resumed, the date is back
    RecurringPlan.objects.filter(pk=plan.pk).update(status=RecurringPlan.Status.ACTIVE)
    assert "07/03/2031" in client.get(_admin("inspect", plan)).content.decode()
    assert "07/03/2031" in client.get(_path(plan_manage_url(plan))).content.decode()


# --- wording by frequency ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "interval,word,wrong",
    [("quarter", "quarterly", "monthly"), ("year", "yearly", "monthly"), ("month", "monthly", "")],
)
def test_the_stop_button_says_the_plans_frequency(client, campaign, interval, word, wrong):
    plan = _paused_plan(campaign)
    plan.interval = interval
    plan.save()
    with_en = _path(plan_cancel_url(plan)).replace("/give/", "/en/give/", 1)
    html = client.get(with_en).content.decode()
    assert f"Stop my {word} gift" in html
    if wrong:
        assert f"{wrong} gift" not in html.lower()
    italian = client.get(_path(plan_cancel_url(plan))).content.decode()
    assert {"quarter": "trimestrale", "year": "annuale", "month": "mensile"}[interval] in italian
    if wrong:
        assert "mensile" not in italian


def test_a_failed_payment_email_says_the_plans_frequency(campaign):
    plan = _paused_plan(campaign)
    plan.interval = RecurringPlan.Interval.YEAR
    plan.status = RecurringPlan.Status.PAST_DUE
    plan.save()
    email = DonorEmail.objects.create(kind="payment_failed", recurring_plan=plan, to="pia@x.org")
    message = build_message(email)
    text = f"{message.subject}\n{message.body}".lower()
    assert "annuale" in text
    assert "mensile" not in text and "questo mese" not in text


# --- "No such subscription": to check, never stopped ----------------------------------------------


def _unknown_plan(campaign, sub_id="sub_unknown_to_stripe", **fields):
    donor = Donor.objects.create(
        network=campaign.network, first_name="Ugo", last_name="Blu", email="ugo@example.org"
    )
    return RecurringPlan.objects.create(
        network=campaign.network,
        donor=donor,
        amount_cents=1000,
        status=RecurringPlan.Status.ACTIVE,
        stripe_subscription_id=sub_id,
        **fields,
    )


def _nothing_told(plan):
    assert not DonorEmail.objects.filter(recurring_plan=plan).exists()
    assert not ModelLogEntry.objects.filter(
        object_id=str(plan.pk), action=plan_history.STOP
    ).exists()


@pytest.mark.usefixtures("stripe_standin")
def test_no_such_subscription_marks_the_plan_to_check_and_tells_no_donor(client, campaign):
    plan = _unknown_plan(campaign, livemode=False, stripe_account_id="")
    # the donor asks to stop it from their link: Stripe answers "No such subscription"
    response = client.post(_path(plan_cancel_url(plan)))
    assert response.status_code == 503
    assert "nothing was changed" in response.content.decode().lower() or "nulla" in (
        response.content.decode().lower()
    )
    plan.refresh_from_db()
    assert plan.status == "to_check" and plan.cancelled_at is None
    assert "sub_unknown_to_stripe" in plan.check_note
    assert "dashboard" in plan.check_note.lower()
    _nothing_told(plan)
    entry = ModelLogEntry.objects.get(object_id=str(plan.pk), action=plan_history.CHECK)
    assert entry.data["by"] == "donor"
    # asked again (a change this time): still to check, still nobody told, one history entry
    client.post(_path(plan_manage_url(plan)), {"action": "amount", "amount": "20"})
    plan.refresh_from_db()
    assert (plan.status, plan.amount_cents) == ("to_check", 1000)
    _nothing_told(plan)
    assert ModelLogEntry.objects.filter(object_id=str(plan.pk), action=plan_history.CHECK).count()


@pytest.mark.usefixtures("stripe_standin")
def test_a_test_key_for_a_live_plan_is_named(client, campaign):
    plan = _unknown_plan(campaign, livemode=True, stripe_account_id="")
    client.force_login(_treasurer(plan.network))
    response = client.post(_admin("plan_pause", plan), follow=True)
    assert response.status_code == 200
    plan.refresh_from_db()
    assert plan.status == "to_check"
    assert "STRIPE_SECRET_KEY" in plan.check_note
    assert "STRIPE_SECRET_KEY" in response.content.decode()
    _nothing_told(plan)


@pytest.mark.usefixtures("stripe_standin")
def test_another_account_than_the_plans_is_named(client, campaign):
    plan = _unknown_plan(campaign, livemode=False, stripe_account_id="acct_1OldAccount")
    client.force_login(_treasurer(plan.network))
    client.post(_admin("plan_cancel", plan))
    plan.refresh_from_db()
    assert plan.status == "to_check"
    assert "acct_1OldAccount" in plan.check_note
    _nothing_told(plan)


@pytest.mark.usefixtures("stripe_standin")
def test_an_older_plan_is_compared_with_its_first_stored_event(client, campaign):
    from campaigns.models import StripeEvent

    # given a plan from before livemode was recorded, whose first event came in live mode
    plan = _unknown_plan(campaign, sub_id="sub_old_live")
    assert plan.livemode is None
    body = event("customer.subscription.updated", payloads.subscription("sub_old_live"))
    StripeEvent.objects.create(
        event_id=body["id"], type=body["type"], payload={**body, "livemode": True}
    )
    # when the test key gets "No such subscription" for it
    client.post(_path(plan_manage_url(plan)), {"action": "pause"})
    # then the note names the key's mode
    plan.refresh_from_db()
    assert plan.status == "to_check" and "STRIPE_SECRET_KEY" in plan.check_note
    _nothing_told(plan)


def test_the_dashboard_lists_the_plans_to_check_of_the_treasurers_network(client, demo):
    networks = list(demo.values())
    mine, theirs = networks[0], networks[1]
    for network, sub in ((mine, "sub_mine"), (theirs, "sub_theirs")):
        RecurringPlan.objects.create(
            network=network,
            amount_cents=1000,
            status=RecurringPlan.Status.TO_CHECK,
            stripe_subscription_id=sub,
            check_note=f"Stripe answered “No such subscription” for {sub}.",
        )
    client.force_login(_treasurer(mine))
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert 'data-testid="plans-to-check"' in home
    assert "sub_mine" in home and "sub_theirs" not in home
    # with nothing to check, no notice
    RecurringPlan.objects.filter(network=mine).update(status=RecurringPlan.Status.ACTIVE)
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert 'data-testid="plans-to-check"' not in home


def test_asking_stripe_again_brings_a_known_plan_back(
    client,
    monthly_plan,  # noqa: F811
):
    plan = monthly_plan
    RecurringPlan.objects.filter(pk=plan.pk).update(
        status=RecurringPlan.Status.TO_CHECK, check_note="No such subscription"
    )
    client.force_login(_treasurer(plan.network))
    assert client.get(_admin("plan_check", plan)).status_code == 200
    assert client.post(_admin("plan_check", plan)).status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.check_note) == ("active", "")
    assert not DonorEmail.objects.filter(kind__in=("plan_changed", "plan_stopped")).exists()


def test_a_plan_stops_only_when_stripe_says_canceled(
    client,
    monthly_plan,  # noqa: F811
    stripe_standin,
):
    plan = monthly_plan
    # cancelled in Stripe's dashboard meanwhile; the treasurer asks Stripe again
    requests.delete(
        f"{stripe_standin}/v1/subscriptions/{plan.stripe_subscription_id}",
        auth=("sk_test_standin", ""),
        timeout=5,
    ).raise_for_status()
    RecurringPlan.objects.filter(pk=plan.pk).update(status=RecurringPlan.Status.TO_CHECK)
    client.force_login(_treasurer(plan.network))
    client.post(_admin("plan_check", plan))
    plan.refresh_from_db()
    assert plan.status == "cancelled"
    assert DonorEmail.objects.filter(kind="plan_stopped", recurring_plan=plan).count() == 1


# --- "No such charge" on a refund: a clear message, nothing changed -----------------------------


def test_a_refund_answered_no_such_charge_changes_nothing(client, paid_gift, mailoutbox):
    donation = paid_gift
    Donation.objects.filter(pk=donation.pk).update(stripe_charge_id="ch_forgotten")
    sent_before = len(mailoutbox)
    client.force_login(get_user_model().objects.get(username="tesoreria-oltre-il-ponte"))
    response = client.post(
        reverse("campaigns_refund", args=[donation.pk]),
        {"amount": "25,00", "reason": "Asked", "seen": 0, "confirm": "1"},
        follow=True,
    )
    html = unescape(response.content.decode())
    assert response.status_code == 200
    # the message says Stripe does not know it, with which key and account we asked
    assert "ch_forgotten" in html
    assert (
        "Stripe non conosce questo pagamento" in html
        and "con la chiave test (account: l'account della piattaforma)" in html
    ) or (
        "Stripe does not know this payment" in html
        and "with the test key (account: the platform account)" in html
    )
    donation.refresh_from_db()
    assert (donation.status, donation.refunded_cents) == ("succeeded", 0)
    assert donation.receipts.get().status == "issued"
    assert not DonorEmail.objects.filter(kind="refund").exists()
    assert len(mailoutbox) == sent_before


@pytest.mark.parametrize(
    "interval,words", [("quarter", "ogni tre mesi"), ("year", "ogni anno"), ("month", "ogni mese")]
)
def test_the_thank_you_page_says_the_plans_frequency(client, campaign, interval, words):
    from django.utils import translation

    from campaigns.views import donation_token

    plan = _paused_plan(campaign)
    RecurringPlan.objects.filter(pk=plan.pk).update(interval=interval, status="active")
    donation = Donation.objects.create(
        network=campaign.network,
        campaign=campaign,
        amount_cents=1500,
        status="succeeded",
        recurring_plan=plan,
        received_on=timezone.localdate(),
    )
    with translation.override("it"):
        url = reverse("campaigns:thanks", args=[donation_token(donation)])
    html = client.get(url).content.decode()
    assert words in html
    if interval != "month":
        assert "ogni mese" not in html
