"""The Stripe events of a ticket order: an amount that is not the order's holds it (and its
gift) for review; another account's event, or a session naming an order bound to another
session, changes nothing; a plain gift's events still go to the giving handlers."""

import pytest

from crm.models import Donation
from events import orders
from events.models import Order
from tests.campaigns.conftest import event as stripe_event

from .test_tickets import BUYER

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(event, types):
    order = orders.start_order(
        event,
        lines=[(types["Adulto"], 2, 2500)],
        buyer={k: BUYER[k] for k in ("first_name", "last_name", "email")},
        gift_cents=1000,
        donor_details={"first_name": "Giulia", "last_name": "D'Alò", "email": BUYER["email"]},
        wants_receipt=True,
    )
    Order.objects.filter(pk=order.pk).update(stripe_checkout_session_id="cs_test_order_1")
    return Order.objects.get(pk=order.pk)


def _session(order, amount, **extra):
    return {
        "id": "cs_test_order_1",
        "object": "checkout.session",
        "mode": "payment",
        "amount_total": amount,
        "currency": "eur",
        "payment_status": "paid",
        "payment_intent": "pi_test_order_1",
        "metadata": {"order_id": str(order.pk)},
        **extra,
    }


def test_an_amount_that_is_not_the_orders_holds_it_for_review(deliver, pending):
    assert (
        deliver(stripe_event("checkout.session.completed", _session(pending, 5000))).status_code
        == 200
    )
    pending.refresh_from_db()
    gift = Donation.objects.get()
    assert (pending.status, gift.status) == ("review", "needs_review")
    assert not gift.receipts.exists() and pending.tickets_emailed_at is None


def test_the_right_amount_pays_the_order_and_the_gift_alone(deliver, pending):
    assert (
        deliver(stripe_event("checkout.session.completed", _session(pending, 6000))).status_code
        == 200
    )
    pending.refresh_from_db()
    gift = Donation.objects.get()
    assert (pending.status, gift.status, gift.amount_cents) == ("paid", "succeeded", 1000)
    assert gift.stripe_payment_intent_id == "pi_test_order_1"


def test_another_accounts_event_changes_nothing(deliver, pending):
    body = stripe_event("checkout.session.completed", _session(pending, 6000), account="acct_other")
    assert deliver(body).status_code == 200
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert Donation.objects.get().status == "pending"


def test_a_session_naming_an_order_bound_elsewhere_changes_nothing(deliver, pending):
    session = _session(pending, 6000, id="cs_test_someone_else")
    assert deliver(stripe_event("checkout.session.completed", session)).status_code == 200
    pending.refresh_from_db()
    assert (pending.status, pending.stripe_checkout_session_id) == ("pending", "cs_test_order_1")


def test_an_expired_session_puts_the_tickets_back(deliver, pending, types):
    session = {**_session(pending, 6000), "payment_status": "unpaid", "status": "expired"}
    assert deliver(stripe_event("checkout.session.expired", session)).status_code == 200
    pending.refresh_from_db()
    types["Adulto"].refresh_from_db()
    assert (pending.status, types["Adulto"].sold) == ("expired", 0)
    assert Donation.objects.get().status == "cancelled"
