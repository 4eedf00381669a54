"""Money checked at the door (issue 9): a payment's amount and currency must be the gift's, and a
Stripe object is bound to the gift it was created for.

Attacks through the real webhook with signed deliveries (shapes: tests/campaigns/payloads.py)
and through the reconcile command against the Stripe stand-in. A mismatch is kept for review
and applies nothing else (no donor, no receipt, no success), and the event is acknowledged,
never retried forever; a session, payment or subscription naming another gift in its metadata
takes nothing.
"""

import io

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaigns.models import StripeEvent, invalidate_progress
from campaigns.views import donation_token
from crm.models import Donation, Donor, DonorEmail, Receipt, RecurringPlan
from tests.campaigns import conftest as giving
from tests.campaigns import payloads
from tests.campaigns.conftest import event

# The giving fixtures live in tests/campaigns/conftest.py; these names make them ours here.
campaign = giving.campaign
deliver = giving.deliver
pending_donation = giving.pending_donation
_clear_cache = giving._clear_cache

pytestmark = pytest.mark.django_db

FIFTY = 5000


@pytest.fixture
def receipting(campaign):
    """The campaign's network receipts every gift: a gift that succeeded would leave one."""
    network = campaign.network
    network.always_issue_receipts = True
    network.save(update_fields=["always_issue_receipts"])
    return network


def nothing_applied(donation):
    """The gift is held for review and nothing followed from it."""
    donation.refresh_from_db()
    assert donation.status == Donation.Status.NEEDS_REVIEW
    assert donation.amount_cents == FIFTY  # never overwritten with what Stripe said
    assert donation.donor_id is None
    assert not Donor.objects.exists()
    assert not Receipt.objects.exists()
    assert not DonorEmail.objects.exists()
    return donation


def state(donation):
    donation.refresh_from_db()
    return (
        donation.status,
        donation.updated_at,
        Donor.objects.count(),
        Receipt.objects.count(),
        DonorEmail.objects.count(),
        RecurringPlan.objects.count(),
    )


# --- amount and currency ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "currency, amount, reported",
    [
        ("usd", 1, (1, "USD")),  # USD 0.01 for a €50 gift
        ("eur", 4999, (4999, "EUR")),  # € 49,99 for € 50
        ("eur", 5001, (5001, "EUR")),
        ("usd", FIFTY, (FIFTY, "USD")),  # the right figure in another currency
        ("eur", None, (None, "EUR")),  # no amount at all
        ("eur", "5000", (None, "EUR")),  # not a number
    ],
)
def test_a_payment_of_another_amount_or_currency_is_held_for_review(
    client,
    campaign,
    receipting,
    deliver,
    pending_donation,
    mailoutbox,
    django_capture_on_commit_callbacks,
    currency,
    amount,
    reported,
):
    # given a pending € 50 gift whose donor wants a receipt
    donation = pending_donation(FIFTY, wants_receipt=True, codice_fiscale="RSSMRA80A01H501U")
    session = payloads.checkout_session(donation, pi="pi_test_odd")
    session.update(amount_total=amount, amount_subtotal=amount, currency=currency)
    completed = event("checkout.session.completed", session)

    # when Stripe delivers its completion, paid with another amount or currency
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(completed)

    # then the event is acknowledged (applied, so never retried) and the gift held for review
    # with what Stripe reported; no donor, receipt or email, and it does not count
    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.APPLIED
    held = nothing_applied(donation)
    assert (held.reported_amount_cents, held.reported_currency) == reported
    assert held.stripe_payment_intent_id == "pi_test_odd"  # to find the payment in Stripe
    assert mailoutbox == []
    invalidate_progress(campaign.pk)
    assert campaign._compute_progress()["raised_cents"] == 0
    thanks = client.get(reverse("campaigns:thanks", args=[donation_token(donation)]))
    assert 'data-status="confirmed"' not in thanks.content.decode()

    # when Stripe delivers it again, then the same session's other events, and reconcile-like
    # re-deliveries with new event ids (even one claiming the right amount)
    before = state(donation)
    again = [
        completed,
        completed,
        event("checkout.session.async_payment_succeeded", session),
        event("checkout.session.completed", session),
        event("checkout.session.completed", payloads.checkout_session(donation, pi="pi_test_odd")),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [deliver(body).status_code for body in again]

    # then each is acknowledged and nothing more changes: the treasurer decides
    assert statuses == [200] * 5
    assert state(donation) == before
    assert set(StripeEvent.objects.values_list("outcome", flat=True)) == {"applied"}
    assert mailoutbox == []


def test_the_treasurer_sees_a_held_payment_on_the_gift_and_in_the_list(
    client, admin_user, deliver, pending_donation
):
    # given a € 50 gift paid USD 0.01
    donation = pending_donation(FIFTY)
    session = payloads.checkout_session(donation, pi="pi_test_cent")
    session.update(amount_total=1, currency="usd")
    deliver(event("checkout.session.completed", session))
    client.force_login(admin_user)

    # when the treasurer opens the gift, it says what was expected and what Stripe reported
    page = client.get(f"/admin/crm/donations/inspect/{donation.pk}/").content.decode()
    assert 'data-testid="held-for-review"' in page
    notice = page.split('data-testid="held-for-review"')[1].split("</p>")[0]
    assert "50,00" in notice and "USD" in notice
    assert f"/admin/crm/donations/{donation.pk}/issue-receipt/" not in page

    # and the donations list, filtered by that status, lists it
    listing = client.get("/admin/crm/donations/", {"status": "needs_review"}).content.decode()
    assert f"/admin/crm/donations/inspect/{donation.pk}/" in listing


def test_refunds_and_disputes_leave_a_held_gift_as_it_is(deliver, pending_donation):
    # given a gift held for review (EUR 49.99 for € 50)
    donation = pending_donation(FIFTY)
    session = payloads.checkout_session(donation, pi="pi_test_short")
    session.update(amount_total=4999)
    deliver(event("checkout.session.completed", session))
    # when the treasurer refunds it in Stripe, or the bank disputes it and the dispute is won
    for body in (
        event("charge.refunded", payloads.charge("ch_S", "pi_test_short", amount=4999)),
        event(
            "charge.refunded",
            payloads.charge("ch_S", "pi_test_short", amount=4999, amount_refunded=4999),
        ),
        event("charge.dispute.created", payloads.dispute("ch_S", "pi_test_short")),
        event("charge.dispute.closed", payloads.dispute("ch_S", "pi_test_short", status="won")),
    ):
        assert deliver(body).status_code == 200
    # then it is still under review: nothing turned it into a gift that counts
    donation.refresh_from_db()
    assert (donation.status, donation.refunded_cents) == (Donation.Status.NEEDS_REVIEW, 0)


# --- a Stripe object is bound to its gift -------------------------------------------------------


def foreign_session(donation, **changes):
    """A completed session someone else created on the account, naming our gift."""
    session = payloads.checkout_session(donation, pi="pi_test_foreign")
    session.update(id="cs_test_foreign_session", **changes)
    return session


@pytest.mark.parametrize(
    "hint",
    [
        {},  # metadata.donation_id and client_reference_id both name the gift
        {"metadata": {}},  # only client_reference_id
        {"client_reference_id": None},  # only metadata
    ],
)
def test_another_session_naming_a_pending_gift_takes_nothing(
    deliver, pending_donation, receipting, hint
):
    # given a pending gift with its own Checkout Session on record
    donation = pending_donation(FIFTY)
    own_session = donation.stripe_checkout_session_id
    before = state(donation)

    # when another session completes (or fails, or expires) naming the gift, same amount
    for type_ in (
        "checkout.session.completed",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    ):
        assert deliver(event(type_, foreign_session(donation, **hint))).status_code == 200

    # then each is acknowledged as not ours, and the gift is untouched
    assert set(StripeEvent.objects.values_list("outcome", flat=True)) == {"ignored"}
    assert all("bound elsewhere" in e for e in StripeEvent.objects.values_list("error", flat=True))
    assert state(donation) == before
    assert (donation.stripe_checkout_session_id, donation.stripe_payment_intent_id) == (
        own_session,
        None,
    )

    # and its own session still completes it
    deliver(event("checkout.session.completed", payloads.checkout_session(donation, pi="pi_own")))
    donation.refresh_from_db()
    assert (donation.status, donation.stripe_payment_intent_id) == ("succeeded", "pi_own")
    assert Receipt.objects.get().donations.get() == donation


def test_another_session_cannot_take_a_paid_gift_either(deliver, pending_donation):
    # given a gift paid through its own session
    donation = pending_donation(FIFTY)
    deliver(event("checkout.session.completed", payloads.checkout_session(donation, pi="pi_own")))
    before = state(donation)
    # when another session naming it completes
    assert (
        deliver(event("checkout.session.completed", foreign_session(donation))).status_code == 200
    )
    # then nothing changes, not even its payment id
    assert state(donation) == before
    assert donation.stripe_payment_intent_id == "pi_own"


def test_a_failed_payment_of_another_gift_cannot_fail_a_bound_one(deliver, pending_donation):
    # given a gift whose payment is on record (a SEPA debit still processing)
    donation = pending_donation(FIFTY)
    unpaid = payloads.checkout_session(donation, payment_status="unpaid", pi="pi_sepa")
    deliver(event("checkout.session.completed", unpaid))
    # when another payment's failure names the gift in its metadata
    failure = payloads.payment_intent("pi_someone_else", donation)
    assert deliver(event("payment_intent.payment_failed", failure)).status_code == 200
    # then it is ignored; the gift waits for its own debit
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PENDING
    assert StripeEvent.objects.get(type="payment_intent.payment_failed").outcome == "ignored"


def _monthly(pending_donation, sub_id="sub_M"):
    donation = pending_donation(2500)
    session = payloads.checkout_session(donation, mode="subscription", subscription=sub_id)
    return donation, session


def test_a_subscription_naming_another_gift_takes_nothing(deliver, pending_donation):
    # given a monthly gift whose checkout has not completed yet
    donation, session = _monthly(pending_donation)
    # when another subscription's first invoice names it in its metadata
    foreign = event("invoice.paid", payloads.invoice("in_X", "sub_X", donation=donation))
    # then it waits (the subscription is bound to a gift only by the gift's own checkout)
    assert deliver(foreign).status_code == 200
    assert StripeEvent.objects.get(event_id=foreign["id"]).outcome == "waiting"
    donation.refresh_from_db()
    assert (donation.status, donation.stripe_subscription_id) == ("pending", "")
    # when the gift's own checkout completes, binding its own subscription
    assert deliver(event("checkout.session.completed", session)).status_code == 200
    # then the waiting foreign invoice is tried again: acknowledged as not ours, nothing taken
    assert StripeEvent.objects.get(event_id=foreign["id"]).outcome == "ignored"
    assert deliver(foreign).status_code == 200
    donation.refresh_from_db()
    assert (donation.status, donation.stripe_subscription_id) == ("succeeded", "sub_M")
    assert donation.stripe_invoice_id is None
    assert list(RecurringPlan.objects.values_list("stripe_subscription_id", flat=True)) == ["sub_M"]
    assert Donation.objects.count() == 1


def test_a_monthly_charge_of_another_amount_is_held_for_review(
    deliver, pending_donation, receipting
):
    # given an active € 25 monthly plan
    donation, session = _monthly(pending_donation)
    deliver(event("checkout.session.completed", session))
    deliver(event("invoice.paid", payloads.invoice("in_1", "sub_M", donation=donation)))
    plan = RecurringPlan.objects.get()
    receipts = Receipt.objects.count()
    # when a renewal is paid USD 0.01, and delivered twice
    odd = payloads.invoice(
        "in_2", "sub_M", donation=donation, amount=1, billing_reason="subscription_cycle"
    )
    odd["currency"] = "usd"
    assert [deliver(event("invoice.paid", odd)).status_code for _ in range(2)] == [200, 200]
    # then its gift is held for review at the plan's amount, with what Stripe reported
    held = Donation.objects.get(stripe_invoice_id="in_2")
    assert (held.status, held.amount_cents) == (Donation.Status.NEEDS_REVIEW, 2500)
    assert (held.reported_amount_cents, held.reported_currency) == (1, "USD")
    assert Receipt.objects.count() == receipts
    # and the next renewal at the right amount is a gift as usual
    deliver(
        event(
            "invoice.paid",
            payloads.invoice(
                "in_3", "sub_M", donation=donation, billing_reason="subscription_cycle"
            ),
        )
    )
    assert Donation.objects.get(stripe_invoice_id="in_3").status == "succeeded"
    assert Receipt.objects.count() == receipts + 1
    plan.refresh_from_db()
    assert plan.status == "active"


def test_a_monthly_checkout_of_another_amount_starts_no_plan(deliver, pending_donation):
    # given a € 25 monthly gift whose checkout completes with € 0,01
    donation, session = _monthly(pending_donation)
    session.update(amount_total=1)
    assert deliver(event("checkout.session.completed", session)).status_code == 200
    # then no plan, the gift held for review
    donation.refresh_from_db()
    assert donation.status == Donation.Status.NEEDS_REVIEW
    assert not RecurringPlan.objects.exists()
    # and the subscription's invoice is acknowledged with the reason, not retried for ever
    paid = event("invoice.paid", payloads.invoice("in_1", "sub_M", donation=donation, amount=1))
    assert deliver(paid).status_code == 200
    stored = StripeEvent.objects.get(event_id=paid["id"])
    assert (stored.outcome, "held for review" in stored.error) == ("ignored", True)
    assert not RecurringPlan.objects.exists() and donation.donor_id is None


# --- reconcile goes through the same checks ------------------------------------------------------


def _standin_session(standin, donation, *, currency, amount):
    """A session created directly on the stand-in (as anyone with access to the account could),
    naming `donation`, then paid on its hosted page."""
    auth = ("sk_test_standin", "")
    created = requests.post(
        f"{standin}/v1/checkout/sessions",
        data={
            "mode": "payment",
            "line_items[0][price_data][currency]": currency,
            "line_items[0][price_data][unit_amount]": str(amount),
            "line_items[0][price_data][product_data][name]": "Altro",
            "line_items[0][quantity]": "1",
            "client_reference_id": str(donation.pk),
            "metadata[donation_id]": str(donation.pk),
            "success_url": "http://testserver/elsewhere/",
            "cancel_url": "http://testserver/elsewhere/",
        },
        auth=auth,
        timeout=5,
    )
    created.raise_for_status()
    session = created.json()
    paid = requests.post(
        session["url"],
        data={"method": "card", "card_number": "4242 4242 4242 4242", "email": "x@example.org"},
        allow_redirects=False,
        timeout=5,
    )
    assert paid.status_code == 303
    return session


def test_reconcile_goes_through_the_same_checks(client, campaign, stripe_standin):
    # given a gift started on the form (its session on record, not paid)...
    form = {
        "amount": "5000",
        "frequency": "once",
        "first_name": "Anna",
        "last_name": "Rossi",
        "email": "anna@example.org",
        "privacy": "on",
    }
    assert client.post(reverse("campaigns:give", args=[campaign.pk]), form).status_code == 303
    started = Donation.objects.get()
    # ...a paid session made elsewhere that names it, and a pending gift with no session on
    # record that a USD 0.01 session names
    _standin_session(stripe_standin, started, currency="eur", amount=5000)
    legacy = Donation.objects.create(
        network=campaign.network, campaign=campaign, amount_cents=5000, donor_details=form
    )
    _standin_session(stripe_standin, legacy, currency="usd", amount=1)

    # when the treasurer reconciles
    out = io.StringIO()
    call_command("stripe_reconcile", since=f"{timezone.localdate():%Y-%m-%d}", stdout=out)
    report = out.getvalue()

    # then the session made elsewhere took nothing, and the USD cent is held for review
    started.refresh_from_db()
    assert (started.status, started.donor_id) == ("pending", None)
    assert "bound elsewhere" in report
    legacy.refresh_from_db()
    assert legacy.status == Donation.Status.NEEDS_REVIEW
    assert (legacy.reported_amount_cents, legacy.reported_currency) == (1, "USD")
    assert "held for review" in report
    assert not Receipt.objects.exists() and not Donor.objects.exists()
