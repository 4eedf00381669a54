"""Concurrent deliveries of the same events (Stripe retries while the first attempt is still
running; two webhook endpoints; reconcile beside webhooks): one donation per payment."""

import json
import random
import threading

import pytest
from django.db import connection
from django.test import Client

from campaigns.models import StripeEvent
from crm.models import Donation, RecurringPlan

from . import payloads
from .conftest import WEBHOOK_URL, event, sign

THREADS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_threads_delivering_the_same_events_give_one_donation_each(
    campaign, pending_donation, settings, effects
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    # given 12 one-off gifts and 4 monthly ones (first charge + one renewal each)
    events = []
    for i in range(12):
        donation = pending_donation(1500)
        events.append(
            event("checkout.session.completed", payloads.checkout_session(donation, pi=f"pi_c{i}"))
        )
    for i in range(4):
        donation = pending_donation(2500)
        sub = f"sub_c{i}"
        events.append(
            event(
                "checkout.session.completed",
                payloads.checkout_session(donation, mode="subscription", subscription=sub),
            )
        )
        events.append(event("invoice.paid", payloads.invoice(f"in_c{i}a", sub, donation=donation)))
        events.append(
            event(
                "invoice.paid",
                payloads.invoice(
                    f"in_c{i}b", sub, donation=donation, billing_reason="subscription_cycle"
                ),
            )
        )
    bodies = [(e, json.dumps(e).encode()) for e in events]
    barrier = threading.Barrier(THREADS)
    statuses = []

    def deliver_all(seed):
        client = Client()
        order = list(bodies)
        random.Random(seed).shuffle(order)
        barrier.wait()
        try:
            for _event, payload in order:
                response = client.post(
                    WEBHOOK_URL,
                    payload,
                    content_type="application/json",
                    headers={"Stripe-Signature": sign(payload, settings.STRIPE_WEBHOOK_SECRET)},
                )
                statuses.append(response.status_code)
        finally:
            connection.close()

    # when 8 threads deliver all of them at once, each in its own order
    threads = [threading.Thread(target=deliver_all, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # and Stripe retries what failed (an invoice racing its checkout may ask for a retry)
    client = Client()
    for stored in StripeEvent.objects.exclude(outcome__in=["applied", "ignored"]):
        payload = json.dumps(stored.payload).encode()
        client.post(
            WEBHOOK_URL,
            payload,
            content_type="application/json",
            headers={"Stripe-Signature": sign(payload, settings.STRIPE_WEBHOOK_SECRET)},
        )
    # then: one donation per payment, each confirmed exactly once
    assert StripeEvent.objects.count() == len(events)
    assert set(StripeEvent.objects.values_list("outcome", flat=True)) == {"applied"}
    assert Donation.objects.count() == 12 + 4 * 2
    assert Donation.objects.filter(status="succeeded").count() == 20
    # (each payment receipted once: the network receipts every gift)
    assert len(effects) == 20 and len(set(effects)) == 20
    assert RecurringPlan.objects.count() == 4
    assert set(statuses) <= {200, 500}
