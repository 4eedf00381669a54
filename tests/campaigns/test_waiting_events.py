"""A Stripe event that came before what it refers to waits (campaigns.webhooks). What it waits
for is another Stripe event, which Stripe delivers and retries for up to 3 days
(https://docs.stripe.com/webhooks#retries): an event still waiting well past that will not be
unblocked by a delivery. It is then given up, with its reason, kept in the Stripe events log
and counted on /metrics: never retried forever, never silently dropped."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from campaigns.models import StripeEvent
from campaigns.stripe_handlers import checkout_completed
from campaigns.stripe_waiting import give_up_waiting
from campaigns.webhooks import apply_waiting, sweep_waiting
from ops.pruning import prune_stripe_events

from . import payloads
from .conftest import event

pytestmark = pytest.mark.django_db


def _waiting_invoice(deliver, donation, invoice_id, *, days_ago):
    paid = event("invoice.paid", payloads.invoice(invoice_id, "sub_M", donation=donation))
    assert deliver(paid).status_code == 200
    stored = StripeEvent.objects.get(event_id=paid["id"])
    assert stored.outcome == "waiting"
    received = timezone.now() - datetime.timedelta(days=days_ago)
    StripeEvent.objects.filter(pk=stored.pk).update(received_at=received)
    return paid


def test_an_event_waiting_past_stripes_retries_is_given_up_with_its_reason(
    deliver, pending_donation, settings
):
    # given an invoice waiting 5 days for its gift's checkout, and another waiting 1 day
    settings.STRIPE_EVENTS_GIVE_UP_AFTER_DAYS = 4
    old = _waiting_invoice(deliver, pending_donation(2500), "in_old", days_ago=5)
    new = _waiting_invoice(deliver, pending_donation(3000), "in_new", days_ago=1)
    # when the worker's sweep runs
    assert give_up_waiting(timezone.now()) == {"stripe_events_given_up": 1}
    # then the old one is given up, saying why; the recent one still waits
    given_up = StripeEvent.objects.get(event_id=old["id"])
    assert given_up.outcome == "given_up"
    assert "4 days" in given_up.error and "waiting:" in given_up.error
    assert given_up.get_outcome_display() != "given_up"
    assert StripeEvent.objects.get(event_id=new["id"]).outcome == "waiting"
    # and the given-up event is not retried by the sweep, nor pruned, nor given up twice
    assert sweep_waiting(timezone.now()) == {"stripe_events_applied": 0}
    assert give_up_waiting(timezone.now()) == {"stripe_events_given_up": 0}
    far_future = timezone.now() + datetime.timedelta(days=3650)
    prune_stripe_events(far_future)
    assert StripeEvent.objects.filter(event_id=old["id"], outcome="given_up").exists()


def test_a_given_up_event_is_applied_if_what_it_waited_for_comes_after_all(
    deliver, pending_donation, settings
):
    # given an invoice given up after waiting 5 days for its gift's checkout
    settings.STRIPE_EVENTS_GIVE_UP_AFTER_DAYS = 4
    donation = pending_donation(2500)
    paid = _waiting_invoice(deliver, donation, "in_1", days_ago=5)
    give_up_waiting(timezone.now())
    # when the checkout comes after all (`stripe_reconcile`, a redelivery) and is applied
    session = payloads.checkout_session(donation, mode="subscription", subscription="sub_M")
    with transaction.atomic():
        checkout_completed(session, "")
    apply_waiting(event("checkout.session.completed", session))
    # then the invoice is applied too: giving up stopped the retries, not the money
    assert StripeEvent.objects.get(event_id=paid["id"]).outcome == "applied"
    donation.refresh_from_db()
    assert (donation.status, donation.stripe_invoice_id) == ("succeeded", "in_1")


def test_given_up_events_are_counted_on_metrics(client, deliver, pending_donation, settings):
    settings.METRICS_TOKEN = "metrics-token-for-tests"
    settings.STRIPE_EVENTS_GIVE_UP_AFTER_DAYS = 4
    _waiting_invoice(deliver, pending_donation(2500), "in_old", days_ago=5)
    give_up_waiting(timezone.now())
    text = client.get(
        "/metrics", headers={"Authorization": "Bearer metrics-token-for-tests"}
    ).content.decode()
    assert 'trama_stripe_events{outcome="given_up"} 1.0' in text
