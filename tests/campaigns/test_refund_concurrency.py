"""A treasurer's impatient clicks, at the same moment, on PostgreSQL: the gift's row lock and
the form's "refunded so far" let one refund through; Stripe is asked once."""

import threading

import pytest
from django.db import connection
from django.test import Client

from crm.models import DonorEmail, Receipt

from .test_refunds import refund_url, stripe_refunds, treasurer

CLICKS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_confirmations_refund_once(paid_gift, stripe_standin):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    user = treasurer()
    barrier = threading.Barrier(CLICKS)
    statuses = []

    def click():
        client = Client()
        client.force_login(user)
        barrier.wait()
        try:
            response = client.post(
                refund_url(paid_gift),
                {"amount": "10", "reason": "Doppio clic", "seen": 0, "confirm": "1"},
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * CLICKS
    assert [r["amount"] for r in stripe_refunds(stripe_standin, paid_gift)] == [1000]
    paid_gift.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == ("partially_refunded", 1000)
    assert DonorEmail.objects.filter(kind="refund").count() == 1
    assert Receipt.objects.filter(status="issued").get().amount_cents == 1500
