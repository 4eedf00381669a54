"""A plan's welcome ("its first payment has arrived") goes with its FIRST charge, once, whatever
the order and number of Stripe's deliveries; every later charge gets the gift confirmation."""

import pytest

from crm.models import DonorEmail

from . import payloads
from .conftest import event

pytestmark = pytest.mark.django_db


def _confirmations():
    """(kind, invoice id of its gift) of each gift confirmation, in the order queued."""
    return list(
        DonorEmail.objects.filter(kind__in=("gift", "plan_welcome"))
        .order_by("pk")
        .values_list("kind", "donation__stripe_invoice_id")
    )


ORDERS = {
    # Stripe does not guarantee order (https://docs.stripe.com/webhooks#event-ordering)
    "checkout, then invoice": ["completed", "paid"],
    "invoice, then checkout, then invoice again": ["paid", "completed", "paid"],
    "everything twice": ["completed", "completed", "paid", "paid"],
    "subscription update first": ["updated", "completed", "updated", "paid"],
}


@pytest.mark.parametrize("order", ORDERS)
def test_the_welcome_goes_with_the_first_charge(order, deliver, pending_donation):
    # given a monthly gift of € 25 started on the campaign page, paid on Checkout
    donation = pending_donation(2500)
    session = payloads.checkout_session(donation, mode="subscription", subscription="sub_W")
    events = {
        "completed": event("checkout.session.completed", session),
        "paid": event("invoice.paid", payloads.invoice("in_1", "sub_W", donation=donation)),
        "updated": event(
            "customer.subscription.updated",
            {**payloads.subscription("sub_W"), "metadata": {"donation_id": str(donation.pk)}},
        ),
    }
    # when Stripe's events arrive in this order (a 500 means "deliver again later")
    for name in ORDERS[order]:
        deliver(events[name])
    # then the first charge's gift carries the welcome, and only it
    assert _confirmations() == [("plan_welcome", "in_1")]
    (welcome,) = DonorEmail.objects.all()
    assert welcome.donation == donation

    # when the next month is paid (and delivered twice)
    renewal = event(
        "invoice.paid",
        payloads.invoice("in_2", "sub_W", donation=donation, billing_reason="subscription_cycle"),
    )
    deliver(renewal)
    deliver(renewal)

    # then that gift gets the ordinary confirmation: no second welcome
    assert _confirmations() == [("plan_welcome", "in_1"), ("gift", "in_2")]


def test_a_sepa_checkout_welcomes_when_the_first_invoice_is_paid(deliver, pending_donation):
    # given a monthly gift whose Checkout completes before the money (a SEPA debit)
    donation = pending_donation(2500)
    session = payloads.checkout_session(
        donation, mode="subscription", subscription="sub_S", payment_status="unpaid"
    )
    deliver(event("checkout.session.completed", session))
    assert _confirmations() == []
    # when its first invoice is paid
    deliver(event("invoice.paid", payloads.invoice("in_1", "sub_S", donation=donation)))
    # then the welcome goes with it
    assert _confirmations() == [("plan_welcome", "in_1")]


def test_the_welcome_is_sent_with_the_first_charge_through_the_mail(
    deliver, pending_donation, mailoutbox, django_capture_on_commit_callbacks
):
    donation = pending_donation(2500)
    session = payloads.checkout_session(donation, mode="subscription", subscription="sub_M")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(event("checkout.session.completed", session))
        deliver(event("invoice.paid", payloads.invoice("in_1", "sub_M", donation=donation)))
    (welcome,) = mailoutbox
    assert "ha preso il via" in welcome.subject
    assert "il primo pagamento è arrivato" in welcome.body
    assert "/give/plan/" in welcome.body
