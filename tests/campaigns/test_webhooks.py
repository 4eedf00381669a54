"""The Stripe webhook: verify at the door, store once, apply each fact exactly once."""

import json
import random
import time

import pytest
from django.db import transaction

from campaigns.models import StripeEvent
from campaigns.stripe_handlers import checkout_completed
from crm.models import Donation, Donor, DonorEmail, RecurringPlan

from . import payloads
from .conftest import event

# --- the door --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    ["forged", "missing header", "stale", "not json", "wrong secret", "garbage header"],
)
def test_rejected_deliveries_store_nothing(how, deliver, pending_donation):
    # given a pending gift and a completion event for it
    donation = pending_donation()
    body = event("checkout.session.completed", payloads.checkout_session(donation))
    payload = json.dumps(body).encode()
    # when it arrives tampered with
    if how == "forged":
        tampered = json.dumps({**body, "type": "charge.refunded"}).encode()
        from django.conf import settings

        from .conftest import sign

        response = deliver(
            None, raw=tampered, signature=sign(payload, settings.STRIPE_WEBHOOK_SECRET)
        )
    elif how == "missing header":
        response = deliver(body, signature=None)
    elif how == "stale":
        response = deliver(body, timestamp=int(time.time()) - 301)
    elif how == "not json":
        response = deliver(None, raw=b"<html>not json</html>")
    elif how == "wrong secret":
        response = deliver(body, secret="whsec_someone_else")
    else:
        response = deliver(body, signature="t=abc,v1=zzz")
    # then it is refused and nothing is stored or changed
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PENDING


def test_unknown_event_types_are_stored_and_acknowledged(db, deliver):
    response = deliver(event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"}))
    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert (stored.type, stored.outcome) == ("customer.tax_id.created", "ignored")


def test_events_about_objects_we_do_not_know_are_acknowledged(deliver, pending_donation):
    stranger = pending_donation()
    session = payloads.checkout_session(stranger)
    session.update(id="cs_test_elsewhere", client_reference_id=None, metadata={})
    response = deliver(event("checkout.session.completed", session))
    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == "ignored"
    stranger.refresh_from_db()
    assert stranger.status == "pending"


def test_expired_checkout_cancels_the_pending_gift(deliver, pending_donation):
    donation = pending_donation()
    session = {**payloads.checkout_session(donation, payment_status="unpaid"), "status": "expired"}
    deliver(event("checkout.session.expired", session))
    donation.refresh_from_db()
    assert donation.status == "cancelled"


# --- one-off gifts ---------------------------------------------------------------------------


def test_checkout_completed_confirms_the_gift_and_creates_the_donor(
    deliver, pending_donation, effects
):
    donation = pending_donation(2500)
    body = event("checkout.session.completed", payloads.checkout_session(donation, pi="pi_A"))
    # when Stripe delivers the completion three times
    responses = [deliver(body) for _ in range(3)]
    # then the gift succeeded once, with its donor matched or created
    assert [r.status_code for r in responses] == [200, 200, 200]
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    assert donation.stripe_payment_intent_id == "pi_A"
    assert donation.donor.email == "anna.rossi@example.org"
    assert donation.donor.privacy_notice_version == "2026-11"
    assert effects == [("succeeded", donation.pk)]
    assert StripeEvent.objects.get().outcome == "applied"


def test_a_returning_donor_is_matched_only_when_every_detail_agrees(deliver, pending_donation):
    # given a first gift, then the same person again (other case), then the same email with a
    # codice fiscale the first donor never gave, then that codice fiscale with another email
    first = pending_donation(email="Anna.Rossi@Example.org")
    again = pending_donation(email="anna.rossi@example.org")
    with_cf = pending_donation(email="anna.rossi@example.org", codice_fiscale="RSSNNA80A41F205Z")
    elsewhere = pending_donation(email="anna@altrove.example", codice_fiscale="RSSNNA80A41F205Z")
    gifts = (first, again, with_cf, elsewhere)
    for i, donation in enumerate(gifts):
        deliver(
            event("checkout.session.completed", payloads.checkout_session(donation, pi=f"pi_{i}"))
        )
    # then the same details find the same donor; a claim that would change or fill in the
    # donor's record is a new donor flagged as a possible duplicate (issue 9: what a donor
    # types never overwrites an existing donor)
    for donation in gifts:
        donation.refresh_from_db()
    anna = first.donor
    assert again.donor == anna
    assert (anna.codice_fiscale, anna.email) == ("", "anna.rossi@example.org")
    assert with_cf.donor != anna and with_cf.donor.possible_duplicate_of == anna
    assert elsewhere.donor not in (anna, with_cf.donor)
    assert elsewhere.donor.possible_duplicate_of == with_cf.donor
    assert Donor.objects.count() == 3


def test_sepa_payment_confirms_later_or_fails(deliver, pending_donation):
    settles, bounces = pending_donation(), pending_donation()
    for donation, outcome in ((settles, "succeeded"), (bounces, "failed")):
        session = payloads.checkout_session(donation, payment_status="unpaid", pi=f"pi_{outcome}")
        deliver(event("checkout.session.completed", session))
        donation.refresh_from_db()
        assert donation.status == Donation.Status.PENDING
        assert donation.method == Donation.Method.SEPA_DEBIT
        deliver(
            event(
                f"checkout.session.async_payment_{outcome}",
                {**session, "payment_status": "paid" if outcome == "succeeded" else "unpaid"},
            )
        )
    settles.refresh_from_db()
    bounces.refresh_from_db()
    assert settles.status == Donation.Status.SUCCEEDED
    assert bounces.status == Donation.Status.FAILED


def test_failed_card_then_success_on_retry(deliver, pending_donation):
    donation = pending_donation()
    deliver(event("payment_intent.payment_failed", payloads.payment_intent("pi_R", donation)))
    donation.refresh_from_db()
    assert donation.status == Donation.Status.FAILED
    deliver(event("checkout.session.completed", payloads.checkout_session(donation, pi="pi_R")))
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED


# --- refunds and disputes --------------------------------------------------------------------


@pytest.fixture
def paid_gift(deliver, pending_donation):
    donation = pending_donation(5000)
    deliver(event("checkout.session.completed", payloads.checkout_session(donation, pi="pi_P")))
    donation.refresh_from_db()
    return donation


def test_partial_then_full_refund(deliver, effects, paid_gift):
    deliver(
        event("charge.refunded", payloads.charge("ch_P", "pi_P", amount=5000, amount_refunded=1000))
    )
    paid_gift.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == ("partially_refunded", 1000)
    full = event(
        "charge.refunded", payloads.charge("ch_P", "pi_P", amount=5000, amount_refunded=5000)
    )
    deliver(full)
    deliver(full)
    paid_gift.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == ("refunded", 5000)
    assert paid_gift.stripe_charge_id == "ch_P"
    # (the partial refund voids the receipt and reissues it for the rest; the full one voids that)
    assert effects == [("succeeded", paid_gift.pk)] + [("refunded", paid_gift.pk)] * 2


def test_refunds_out_of_order_keep_the_largest_total(deliver, paid_gift):
    deliver(
        event("charge.refunded", payloads.charge("ch_P", "pi_P", amount=5000, amount_refunded=3000))
    )
    deliver(
        event("charge.refunded", payloads.charge("ch_P", "pi_P", amount=5000, amount_refunded=1000))
    )
    paid_gift.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == ("partially_refunded", 3000)


def test_refund_larger_than_the_gift_is_refused(deliver, paid_gift):
    response = deliver(
        event("charge.refunded", payloads.charge("ch_P", "pi_P", amount=9000, amount_refunded=9000))
    )
    # acknowledged (stored: ours to retry, not Stripe's), and stored as failed: a human looks
    assert response.status_code == 200
    paid_gift.refresh_from_db()
    assert paid_gift.refunded_cents == 0
    stored = StripeEvent.objects.get(type="charge.refunded")
    assert (stored.outcome, stored.attempts) == ("failed", 1)
    assert "refund" in stored.error.lower() or "rimborso" in stored.error.lower()


@pytest.mark.parametrize(
    "result,status,refunded", [("won", "succeeded", 0), ("lost", "refunded", 5000)]
)
def test_dispute_opens_and_closes(deliver, paid_gift, result, status, refunded):
    deliver(event("charge.dispute.created", payloads.dispute("ch_P", "pi_P", amount=5000)))
    paid_gift.refresh_from_db()
    assert paid_gift.status == "disputed"
    deliver(
        event("charge.dispute.closed", payloads.dispute("ch_P", "pi_P", amount=5000, status=result))
    )
    paid_gift.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == (status, refunded)


def test_refund_for_a_payment_not_seen_yet_waits_for_it(deliver, pending_donation):
    # given a refund event delivered before the completion it refers to
    donation = pending_donation(5000)
    refund = event(
        "charge.refunded", payloads.charge("ch_Q", "pi_Q", amount=5000, amount_refunded=5000)
    )
    # then it is kept and acknowledged (no error for Stripe to retry, none in the log)
    assert deliver(refund).status_code == 200
    assert StripeEvent.objects.get(event_id=refund["id"]).outcome == "waiting"
    # when the completion arrives, the waiting refund is applied with it
    deliver(event("checkout.session.completed", payloads.checkout_session(donation, pi="pi_Q")))
    assert StripeEvent.objects.get(event_id=refund["id"]).outcome == "applied"
    # and Stripe's redelivery changes nothing
    assert deliver(refund).status_code == 200
    # then the final state is the same as in order
    donation.refresh_from_db()
    assert (donation.status, donation.refunded_cents) == ("refunded", 5000)


# --- monthly gifts ---------------------------------------------------------------------------


def _monthly(pending_donation):
    donation = pending_donation(2500)
    session = payloads.checkout_session(donation, mode="subscription", subscription="sub_M")
    return donation, session


@pytest.mark.parametrize("order", ["checkout first", "invoice first"])
def test_first_monthly_charge_is_the_started_gift(order, deliver, pending_donation, effects):
    donation, session = _monthly(pending_donation)
    completed = event("checkout.session.completed", session)
    paid = event("invoice.paid", payloads.invoice("in_1", "sub_M", donation=donation))
    if order == "checkout first":
        assert [deliver(completed).status_code, deliver(paid).status_code] == [200, 200]
    else:
        # the subscription is bound to the gift only by its checkout's completion: until then
        # the invoice waits (kept and acknowledged), it never takes the gift itself
        assert deliver(paid).status_code == 200
        assert StripeEvent.objects.get(event_id=paid["id"]).outcome == "waiting"
        assert deliver(completed).status_code == 200  # and applies the waiting invoice
        assert StripeEvent.objects.get(event_id=paid["id"]).outcome == "applied"
        assert deliver(paid).status_code == 200  # a redelivery changes nothing
    # then one donation, succeeded, tied to an active plan with its donor
    assert Donation.objects.count() == 1
    donation.refresh_from_db()
    plan = RecurringPlan.objects.get()
    assert donation.status == "succeeded"
    assert donation.stripe_invoice_id == "in_1"
    assert donation.recurring_plan == plan
    assert (plan.status, plan.amount_cents, plan.donor) == ("active", 2500, donation.donor)
    assert effects == [("succeeded", donation.pk)]


def test_each_monthly_charge_is_a_donation(deliver, pending_donation):
    donation, session = _monthly(pending_donation)
    deliver(event("checkout.session.completed", session))
    deliver(event("invoice.paid", payloads.invoice("in_1", "sub_M", donation=donation)))
    renewal = event(
        "invoice.paid",
        payloads.invoice("in_2", "sub_M", donation=donation, billing_reason="subscription_cycle"),
    )
    deliver(renewal)
    deliver(renewal)
    assert Donation.objects.count() == 2
    second = Donation.objects.get(stripe_invoice_id="in_2")
    donation.refresh_from_db()
    assert second.donor == donation.donor
    assert second.status == "succeeded"
    assert second.recurring_plan.donations.count() == 2


def test_plan_failures_updates_and_cancellation(deliver, pending_donation):
    donation, session = _monthly(pending_donation)
    deliver(event("checkout.session.completed", session))
    deliver(
        event(
            "invoice.payment_failed",
            payloads.invoice("in_2", "sub_M", paid=False, billing_reason="subscription_cycle"),
        )
    )
    plan = RecurringPlan.objects.get()
    assert (plan.status, plan.failures) == ("past_due", 1)
    deliver(event("customer.subscription.updated", payloads.subscription("sub_M", amount=3000)))
    plan.refresh_from_db()
    assert (plan.status, plan.amount_cents) == ("active", 3000)
    deliver(
        event("customer.subscription.deleted", payloads.subscription("sub_M", status="canceled"))
    )
    plan.refresh_from_db()
    assert plan.status == "cancelled"
    assert plan.cancelled_at is not None


def test_a_failed_monthly_payment_tells_the_donor_once_per_invoice(deliver, pending_donation):
    # given an active monthly plan
    donation, session = _monthly(pending_donation)
    deliver(event("checkout.session.completed", session))
    failed = payloads.invoice("in_F", "sub_M", paid=False, billing_reason="subscription_cycle")
    first_failure = event("invoice.payment_failed", failed)
    # when Stripe delivers the failure three times, then a failed retry of the same invoice
    statuses = [deliver(first_failure).status_code for _ in range(3)]
    retry = event("invoice.payment_failed", {**failed, "attempt_count": 2})
    statuses.append(deliver(retry).status_code)
    # then the donor is told exactly once, with the plan past due
    plan = RecurringPlan.objects.get()
    assert statuses == [200, 200, 200, 200]
    notices = DonorEmail.objects.filter(kind=DonorEmail.Kind.PAYMENT_FAILED)
    assert list(notices.values_list("recurring_plan", "to")) == [(plan.pk, plan.donor.email)]
    assert plan.status == "past_due"
    assert plan.failures == 2  # each failed attempt still counts


# --- Connect ---------------------------------------------------------------------------------


def test_events_are_routed_by_connected_account(deliver, pending_donation, campaign):
    # given a network with its own Stripe account
    network = campaign.network
    network.stripe_account_id = "acct_1OltreIlPonte"
    network.save()
    donation = pending_donation()
    session = payloads.checkout_session(donation, pi="pi_C")
    # when the event comes from the platform or another account, nothing happens
    deliver(event("checkout.session.completed", session))
    deliver(event("checkout.session.completed", session, account="acct_1Intruder"))
    donation.refresh_from_db()
    assert donation.status == "pending"
    # when it comes from the network's account, the gift is confirmed
    deliver(event("checkout.session.completed", session, account="acct_1OltreIlPonte"))
    donation.refresh_from_db()
    assert donation.status == "succeeded"
    stored = StripeEvent.objects.get(account="acct_1OltreIlPonte")
    assert stored.network == network


# --- exactly once ----------------------------------------------------------------------------


def test_a_thousand_shuffled_duplicated_deliveries_give_two_hundred_effects(
    deliver, pending_donation, effects
):
    # given 100 gifts, each with a completion and a partial refund: 200 distinct events
    donations = [pending_donation(2000) for _ in range(100)]
    events = []
    for i, donation in enumerate(donations):
        events.append(
            event("checkout.session.completed", payloads.checkout_session(donation, pi=f"pi_{i}"))
        )
        events.append(
            event(
                "charge.refunded",
                payloads.charge(f"ch_{i}", f"pi_{i}", amount=2000, amount_refunded=500),
            )
        )
    deliveries = events * 5
    random.Random(42).shuffle(deliveries)
    # when they are delivered 1,000 times in random order, then retried like Stripe retries
    for body in deliveries:
        deliver(body)
    for stored in StripeEvent.objects.filter(outcome="failed"):
        deliver(stored.payload)
    # then each fact happened exactly once
    assert len(effects) == 200
    assert len(set(effects)) == 200
    assert StripeEvent.objects.count() == 200
    assert set(StripeEvent.objects.values_list("outcome", flat=True)) == {"applied"}
    assert Donation.objects.filter(status="partially_refunded", refunded_cents=500).count() == 100


def test_superuser_applies_a_failed_event_again_from_the_admin(client, deliver, pending_donation):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    # given a refund that waits because its payment had not arrived yet
    donation = pending_donation(5000)
    refund = event(
        "charge.refunded", payloads.charge("ch_R", "pi_R", amount=5000, amount_refunded=5000)
    )
    assert deliver(refund).status_code == 200
    stored = StripeEvent.objects.get(event_id=refund["id"])
    assert stored.outcome == "waiting"
    # and the payment recorded as `stripe_reconcile` does (which applies no waiting event)
    with transaction.atomic():
        checkout_completed(payloads.checkout_session(donation, pi="pi_R"), "")

    # when a treasurer tries, nothing happens; when a superuser clicks "apply again"
    url = f"/admin/crm/stripe-events/{stored.pk}/apply-again/"
    client.force_login(get_user_model().objects.get(username="tesoreria-oltre-il-ponte"))
    assert client.post(url).status_code in (403, 404)
    stored.refresh_from_db()
    assert stored.outcome == "waiting"
    client.force_login(get_user_model().objects.get(username="admin"))
    inspect_url = reverse("campaigns_stripeevent:inspect", args=[stored.pk])
    inspect = client.get(inspect_url).content.decode()
    assert url in inspect  # the button is there for superusers
    assert client.post(url).status_code == 302

    # then the refund is applied, once, even if clicked again
    stored.refresh_from_db()
    donation.refresh_from_db()
    assert (stored.outcome, donation.status, donation.refunded_cents) == (
        "applied",
        "refunded",
        5000,
    )
    assert client.post(url).status_code == 302
    donation.refresh_from_db()
    assert donation.refunded_cents == 5000
