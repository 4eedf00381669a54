"""`stripe_reconcile` applies what webhooks missed, and only that."""

import io

import requests
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from crm.models import Donation, RecurringPlan

from .test_giving import FORM


def _give_and_pay(client, campaign, **form):
    response = client.post(reverse("campaigns:give", args=[campaign.pk]), {**FORM, **form})
    paid = requests.post(
        response["Location"],
        data={"method": "card", "card_number": "4242 4242 4242 4242", "name": "Anna"},
        allow_redirects=False,
        timeout=5,
    )
    assert paid.status_code == 303


def _reconcile():
    out = io.StringIO()
    call_command("stripe_reconcile", since=f"{timezone.localdate():%Y-%m-%d}", stdout=out)
    return out.getvalue()


def test_reconcile_applies_missed_payments_and_refunds_once(client, campaign, stripe_standin):
    # given a one-off and a monthly gift paid on Stripe whose webhooks never reached us
    _give_and_pay(client, campaign)
    _give_and_pay(client, campaign, frequency="monthly", email="luca@example.org")
    one_off = Donation.objects.get(donor_details__email="anna@example.org")
    assert set(Donation.objects.values_list("status", flat=True)) == {"pending"}
    # when the treasurer reconciles
    report = _reconcile()
    # then both gifts are confirmed and the plan exists
    # two checkouts, one first invoice, the subscription (its card, first seen), and the
    # one-off's fee: read by the pass over balance transactions (a checkout leaves its fee to
    # a task that runs after the commit, campaigns.tasks.read_payment_fee)
    assert "5 change(s) applied" in report
    assert Donation.objects.get(pk=one_off.pk).fee_cents > 0
    assert set(Donation.objects.values_list("status", flat=True)) == {"succeeded"}
    assert RecurringPlan.objects.get().status == "active"
    assert Donation.objects.exclude(stripe_invoice_id=None).count() == 1
    # when a refund is made on Stripe and missed too
    requests.post(
        f"{stripe_standin}/v1/refunds",
        data={
            "payment_intent": Donation.objects.get(pk=one_off.pk).stripe_payment_intent_id,
            "amount": 500,
        },
        auth=("sk_test_standin", ""),
        timeout=5,
    ).raise_for_status()
    assert "1 change(s) applied" in _reconcile()
    one_off.refresh_from_db()
    assert (one_off.status, one_off.refunded_cents) == ("partially_refunded", 500)
    # and running it again changes nothing
    assert "0 change(s) applied" in _reconcile()
    assert Donation.objects.count() == 2
