"""Fees, payouts and their report, reconcile after an outage, early subscription events and
the network of platform events: through the stand-in and the webhook."""

import io

import requests
from django.core.management import call_command
from django.db.models import F
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from campaigns.models import Payout, PayoutLine, StripeEvent
from campaigns.payouts.report import payout_totals
from campaigns.webhooks import apply_stored
from crm.models import Donation, Receipt, RecurringPlan

from . import payloads
from .conftest import event
from .test_reconcile import _give_and_pay

FEE = round(2500 * 0.015) + 25  # Stripe's standard EEA card price on a € 25 gift
DISPUTE_FEE = 2000


def _stripe(base, method, path, **data):
    response = requests.request(
        method, f"{base}{path}", data=data, auth=("sk_test_standin", ""), timeout=10
    )
    response.raise_for_status()
    return response.json()


def _flush(base):
    requests.post(f"{base}/_standin/webhooks/flush", timeout=30).raise_for_status()


def _deliver_all(base, stripe_events):
    """Relay what the stand-in sent; what waited (an invoice paid before its checkout
    completed) is delivered again, as Stripe would retry it. What each commit queued runs (the
    fee's reading, `campaigns.tasks.read_payment_fee`)."""
    _flush(base)
    with TestCase.captureOnCommitCallbacks(execute=True):
        stripe_events.relay()
        for stored in StripeEvent.objects.filter(outcome="failed"):
            apply_stored(stored.payload)
    failed = StripeEvent.objects.filter(outcome="failed").values_list("type", "error")
    assert not failed, list(failed)


def _lose_dispute(base, charge_id):
    dispute = _stripe(base, "POST", f"/_standin/charges/{charge_id}/dispute")
    _stripe(base, "POST", f"/_standin/disputes/{dispute['id']}/close", status="lost")
    return dispute


def test_a_payout_of_fifty_gifts_reconciles_to_the_cent(
    client, campaign, stripe_standin, stripe_events, django_user_model, settings
):
    settings.GIVING_RATE_LIMITS = {"ip": (100, 3600), "email": (100, 3600)}
    # given 50 card gifts of € 25, paid and applied through the webhook
    for _ in range(50):
        _give_and_pay(client, campaign)
    _deliver_all(stripe_standin, stripe_events)
    gifts = list(Donation.objects.order_by("pk"))
    assert {g.status for g in gifts} == {"succeeded"}
    # each gift carries its fee, charge and balance transaction from the same call
    assert {g.fee_cents for g in gifts} == {FEE}
    assert all(g.stripe_charge_id.startswith("ch_") for g in gifts)
    assert all(g.stripe_balance_transaction_id.startswith("txn_") for g in gifts)
    assert all(g.available_on for g in gifts)
    # when one is refunded and another lost to a dispute
    refunded, disputed = gifts[0], gifts[1]
    _stripe(stripe_standin, "POST", "/v1/refunds", charge=refunded.stripe_charge_id)
    dispute = _stripe(
        stripe_standin, "POST", f"/_standin/charges/{disputed.stripe_charge_id}/dispute"
    )
    _stripe(stripe_standin, "POST", f"/_standin/disputes/{dispute['id']}/close", status="lost")
    _deliver_all(stripe_standin, stripe_events)
    # and Stripe pays out the balance
    paid = _stripe(stripe_standin, "POST", "/_standin/payouts", statement_descriptor="TRAMA")
    _deliver_all(stripe_standin, stripe_events)
    # then the payout is recorded with its 52 transactions, linked to our gifts
    payout = Payout.objects.get(stripe_payout_id=paid["id"])
    assert payout.status == "paid"
    assert payout.network == campaign.network
    assert payout.trace_id
    lines = payout.lines.exclude(kind=PayoutLine.Kind.PAYOUT)
    assert lines.count() == 52
    assert lines.filter(donation__isnull=True).count() == 0
    assert Donation.objects.filter(stripe_payout_id=paid["id"]).count() == 50
    # and gross − refunds − disputes − fees = net = the payout amount, to the cent
    expected = 50 * 2500 - 2500 - 2500 - (50 * FEE + DISPUTE_FEE)
    assert payout.amount_cents == expected
    tesoreria = django_user_model.objects.get(username="tesoreria-oltre-il-ponte")
    client.force_login(tesoreria)
    page = client.get(reverse("campaigns_payout:inspect", args=[payout.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="payout-reconciled"' in body
    assert "1.148,50" in body or "1,148.50" in body
    printable = client.get(reverse("campaigns_payout:report", args=[payout.pk]))
    assert (
        printable.status_code == 200 and 'data-testid="payout-lines"' in printable.content.decode()
    )
    csv = b"".join(
        client.get(reverse("campaigns_payout:report", args=[payout.pk]), {"format": "csv"})
    ).decode("utf-8-sig")
    assert "1148,50" in csv and disputed.stripe_charge_id in csv
    xlsx = client.get(reverse("campaigns_payout:report", args=[payout.pk]), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 1 + 8 + 1 + 52
    # when the amount is tampered with, the difference shows
    Payout.objects.filter(pk=payout.pk).update(amount_cents=F("amount_cents") + 1)
    page = client.get(reverse("campaigns_payout:inspect", args=[payout.pk]))
    assert 'data-testid="payout-mismatch"' in page.content.decode()
    year = client.get(reverse("campaigns_payout:year"), {"year": payout.arrival_date.year})
    assert 'data-testid="payout-mismatch"' in year.content.decode()
    # and the platform's events show under the network, for its treasurer only
    payout_event = StripeEvent.objects.get(type="payout.paid")
    assert payout_event.network == campaign.network
    assert StripeEvent.objects.filter(type="checkout.session.completed", network=None).count() == 0
    events_page = client.get(reverse("campaigns_stripeevent:index"))
    assert payout_event.event_id in events_page.content.decode()
    other = django_user_model.objects.get(username="tesoreria-valle-serena")
    client.force_login(other)
    assert client.get(reverse("campaigns_payout:inspect", args=[payout.pk])).status_code == 404
    assert client.get(reverse("campaigns_payout:report", args=[payout.pk])).status_code == 404
    assert paid["id"] not in client.get(reverse("campaigns_payout:index")).content.decode()
    assert (
        payout_event.event_id
        not in client.get(reverse("campaigns_stripeevent:index")).content.decode()
    )
    inspect = reverse("campaigns_stripeevent:inspect", args=[payout_event.pk])
    assert client.get(inspect).status_code == 404


def test_reconcile_recovers_a_dispute_a_cancelled_plan_and_a_payout(
    client, campaign, stripe_standin, stripe_events, effects
):
    # given a one-off gift and a monthly plan, applied
    _give_and_pay(client, campaign)
    _give_and_pay(client, campaign, frequency="monthly", email="luca@example.org")
    _deliver_all(stripe_standin, stripe_events)
    one_off = Donation.objects.get(donor_details__email="anna@example.org")
    plan = RecurringPlan.objects.get()
    assert (one_off.status, plan.status) == ("succeeded", "active")
    assert Receipt.objects.filter(donations=one_off, status="issued").exists()
    # when, during a webhook outage, the gift is lost to a dispute, the subscription is
    # cancelled at Stripe and a payout is paid
    dispute = _stripe(
        stripe_standin, "POST", f"/_standin/charges/{one_off.stripe_charge_id}/dispute"
    )
    _stripe(stripe_standin, "POST", f"/_standin/disputes/{dispute['id']}/close", status="lost")
    _stripe(stripe_standin, "DELETE", f"/v1/subscriptions/{plan.stripe_subscription_id}")
    paid = _stripe(stripe_standin, "POST", "/_standin/payouts")
    _flush(stripe_standin)  # delivered to the capture only: nothing reaches our webhook
    # then reconcile recovers all three and says so
    out = io.StringIO()
    call_command("stripe_reconcile", since=f"{timezone.localdate():%Y-%m-%d}", stdout=out)
    report = out.getvalue()
    assert f"changed  dispute {dispute['id']}" in report
    assert f"changed  subscription {plan.stripe_subscription_id}" in report
    assert f"changed  payout {paid['id']}" in report
    one_off.refresh_from_db()
    plan.refresh_from_db()
    assert (one_off.status, one_off.refunded_cents) == ("refunded", 2500)
    assert not Receipt.objects.filter(donations=one_off, status="issued").exists()
    assert plan.status == "cancelled"
    payout = Payout.objects.get(stripe_payout_id=paid["id"])
    assert payout_totals(payout).difference == 0
    # and a second run changes nothing
    out = io.StringIO()
    call_command("stripe_reconcile", since=f"{timezone.localdate():%Y-%m-%d}", stdout=out)
    assert "0 change(s) applied" in out.getvalue()


def test_an_early_subscription_event_waits_for_its_plan(deliver, pending_donation):
    # given a monthly gift whose subscription is cancelled before its checkout event arrives
    donation = pending_donation()
    cancelled = {**payloads.subscription("sub_early", status="canceled")}
    cancelled["metadata"] = {"donation_id": str(donation.pk)}
    early = event("customer.subscription.deleted", cancelled)
    # then it is kept, waiting for its plan, and acknowledged (no error in the log)
    assert deliver(early).status_code == 200
    assert StripeEvent.objects.get(event_id=early["id"]).outcome == "waiting"
    # when the checkout completes and makes the plan
    session = payloads.checkout_session(donation, mode="subscription", subscription="sub_early")
    assert deliver(event("checkout.session.completed", session)).status_code == 200
    # then the waiting event is applied: the plan is cancelled
    assert RecurringPlan.objects.get(stripe_subscription_id="sub_early").status == "cancelled"
    assert StripeEvent.objects.get(event_id=early["id"]).outcome == "applied"
    # and Stripe's redelivery changes nothing
    assert deliver(early).status_code == 200


def test_an_unknown_subscription_is_still_not_ours(deliver):
    response = deliver(event("customer.subscription.deleted", payloads.subscription("sub_x")))
    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == "ignored"
