"""Outbound calls to Stripe: never inside a database transaction, always with a timeout; and
webhooks that never cry wolf: an event that comes before its plan waits without an error."""

import itertools
import logging

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from campaigns import stripe_lists
from campaigns.models import StripeEvent
from campaigns.refunds import refund_gift
from campaigns.stripe_handlers import checkout_completed
from campaigns.webhooks import sweep_waiting
from crm.models import Donation, RecurringPlan
from crm.outbound import CallInTransaction

from . import payloads
from .conftest import event
from .test_giving import FORM, _pay, give_url

IN_TRANSACTION = "called inside a database transaction"


def _errors(caplog):
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- No Stripe call inside a transaction ---------------------------------------------------------


def test_a_stripe_call_inside_a_transaction_is_refused_in_development(db, stripe_standin, settings):
    settings.OUTBOUND_IN_TRANSACTION = "raise"
    # when Stripe is called with a transaction open, the call never leaves
    with pytest.raises(CallInTransaction), transaction.atomic():
        stripe_lists.list_payouts(None, 0)
    # and outside any transaction it goes through
    assert stripe_lists.list_payouts(None, 0) == []


def test_a_stripe_call_inside_a_transaction_is_logged_in_production(
    db, stripe_standin, settings, caplog
):
    settings.OUTBOUND_IN_TRANSACTION = "log"
    with transaction.atomic():
        assert stripe_lists.list_payouts(None, 0) == []  # the call still goes ahead
    (record,) = _errors(caplog)
    assert IN_TRANSACTION in record.getMessage() and "/v1/payouts" in record.getMessage()


def test_a_gift_and_its_refund_call_stripe_outside_any_transaction(
    client, campaign, stripe_events, settings, caplog, django_capture_on_commit_callbacks
):
    # given the guard in its logging mode, so that every call is checked and none stops
    settings.OUTBOUND_IN_TRANSACTION = "log"
    # when a donor gives (the checkout session is created), pays, and the webhook applies it
    # (the fee is read from Stripe), and a treasurer refunds part of it
    response = client.post(give_url(campaign), FORM)
    assert response.status_code == 303
    _pay(response["Location"])
    stripe_events.wait_for("checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        assert {r.status_code for r in stripe_events.relay()} == {200}
    gift = Donation.objects.get()
    assert gift.status == "succeeded" and gift.fee_cents > 0  # the fee was read from Stripe
    user = get_user_model().objects.get(username="tesoreria-oltre-il-ponte")
    refund_gift(gift.pk, amount_cents=500, reason="Doppio", user=user, seen_refunded_cents=0)
    stripe_events.wait_for("charge.refunded", "refund.created")
    with django_capture_on_commit_callbacks(execute=True):
        assert {r.status_code for r in stripe_events.relay()} == {200}
    # then no Stripe call was made with a transaction open, and nothing went wrong
    assert _errors(caplog) == []
    gift.refresh_from_db()
    assert (gift.status, gift.refunded_cents) == ("partially_refunded", 500)


def test_stripe_hanging_at_checkout_gives_up_and_keeps_nothing(
    client, campaign, settings, hanging_server
):
    # given Stripe accepting connections and never answering
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{hanging_server}"
    settings.STRIPE_TIMEOUT = 1
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    # when a donor starts a gift
    response = client.post(give_url(campaign, "en"), FORM)
    # then the form says so after the timeout, and no gift is left half-written
    assert response.status_code == 503
    assert "nothing was charged" in response.content.decode()
    assert Donation.objects.count() == 0


def test_a_fee_stripe_does_not_give_leaves_the_gift_recorded(
    deliver, pending_donation, settings, hanging_server
):
    # given Stripe hanging when the webhook asks for the payment's fee
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{hanging_server}"
    settings.STRIPE_TIMEOUT = 1
    donation = pending_donation(2500)
    completed = event("checkout.session.completed", payloads.checkout_session(donation))
    # then the gift is recorded all the same, its fee left for later (reconcile, the payout)
    assert deliver(completed).status_code == 200
    donation.refresh_from_db()
    assert donation.status == "succeeded"
    assert (donation.fee_cents, donation.stripe_balance_transaction_id) == (0, "")


# --- Webhooks that never cry wolf ----------------------------------------------------------------

MONTHLY_EVENTS = ("checkout.session.completed", "invoice.paid", "customer.subscription.updated")


@pytest.mark.parametrize("order", list(itertools.permutations(MONTHLY_EVENTS)))
def test_a_new_monthly_donor_logs_no_error_whatever_the_order(
    order, deliver, pending_donation, caplog
):
    # given a monthly gift whose three first events arrive in any order
    donation = pending_donation(2500)
    session = payloads.checkout_session(donation, mode="subscription", subscription="sub_M")
    subscription = payloads.subscription("sub_M", amount=2500)
    subscription["metadata"] = {"donation_id": str(donation.pk)}
    events = {
        "checkout.session.completed": event("checkout.session.completed", session),
        "invoice.paid": event("invoice.paid", payloads.invoice("in_1", "sub_M", donation=donation)),
        "customer.subscription.updated": event("customer.subscription.updated", subscription),
    }
    caplog.set_level(logging.INFO)
    # when they are delivered (and each delivered twice, as Stripe may)
    statuses = [deliver(events[kind]).status_code for kind in order + order]
    # then every delivery is acknowledged and nothing is logged as an error
    assert statuses == [200] * 6
    assert _errors(caplog) == []
    assert not [r for r in caplog.records if "Internal Server Error" in r.getMessage()]
    # and every event is applied, the gift recorded once, tied to its active plan
    assert set(StripeEvent.objects.values_list("outcome", flat=True)) == {"applied"}
    assert Donation.objects.count() == 1
    donation.refresh_from_db()
    plan = RecurringPlan.objects.get()
    assert (donation.status, donation.stripe_invoice_id) == ("succeeded", "in_1")
    assert (donation.recurring_plan, plan.status) == (plan, "active")


def test_the_sweep_applies_an_event_whose_plan_came_another_way(deliver, pending_donation):
    # given an invoice waiting for the checkout of its gift
    donation = pending_donation(2500)
    paid = event("invoice.paid", payloads.invoice("in_1", "sub_M", donation=donation))
    assert deliver(paid).status_code == 200
    assert StripeEvent.objects.get().outcome == "waiting"
    # when the checkout is applied by `stripe_reconcile` (which applies no waiting event)
    session = payloads.checkout_session(donation, mode="subscription", subscription="sub_M")
    with transaction.atomic():
        checkout_completed(session, "")
    # then the worker's sweep applies it, once
    assert sweep_waiting(None) == {"stripe_events_applied": 1}
    assert sweep_waiting(None) == {"stripe_events_applied": 0}
    donation.refresh_from_db()
    assert (donation.status, donation.stripe_invoice_id) == ("succeeded", "in_1")
    assert StripeEvent.objects.get().outcome == "applied"
