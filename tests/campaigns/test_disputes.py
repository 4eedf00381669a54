"""Disputes (chargebacks) opened by the donor's bank, through the stand-in and the webhook: an
open one flags the gift and its receipt in the admin and counts for the dashboard; lost, the
receipt is voided; won, the flag goes and the receipt stays valid."""

import pytest
import requests
from django.urls import reverse

from crm.models import Donation, DonorEmail, Receipt

from . import payloads
from .conftest import event
from .test_refunds import treasurer

pytestmark = pytest.mark.django_db

BADGE = "Contestazione aperta"


def open_dispute(stripe_standin, donation):
    charges = requests.get(
        f"{stripe_standin}/v1/charges",
        params={"payment_intent": donation.stripe_payment_intent_id},
        auth=("sk_test_standin", ""),
        timeout=5,
    ).json()["data"]
    response = requests.post(f"{stripe_standin}/_standin/charges/{charges[0]['id']}/dispute")
    response.raise_for_status()
    return response.json()


def close_dispute(stripe_standin, dispute, status):
    requests.post(
        f"{stripe_standin}/_standin/disputes/{dispute['id']}/close",
        params={"status": status},
        timeout=5,
    ).raise_for_status()


def relay(stripe_events, capture, *types):
    stripe_events.wait_for(*types)
    with capture(execute=True):
        assert all(r.status_code == 200 for r in stripe_events.relay())


def admin_pages(client, donation, receipt):
    return {
        "gift list": client.get(reverse("crm_donation:index")).content.decode(),
        "gift page": client.get(reverse("crm_donation:inspect", args=[donation.pk])).content,
        "receipt list": client.get(reverse("crm_receipt:index")).content.decode(),
        "receipt page": client.get(reverse("crm_receipt:inspect", args=[receipt.pk])).content,
    }


def flagged(client, donation, receipt):
    pages = admin_pages(client, donation, receipt)
    return {
        "gift list": BADGE in pages["gift list"],
        "gift page": b'data-testid="open-dispute"' in pages["gift page"],
        "receipt list": BADGE in pages["receipt list"],
        "receipt page": b'data-testid="open-dispute"' in pages["receipt page"],
    }


ALL = {"gift list": True, "gift page": True, "receipt list": True, "receipt page": True}
NONE = dict.fromkeys(ALL, False)


def test_an_open_dispute_flags_the_gift_and_its_receipt_and_a_lost_one_voids_it(
    client, paid_gift, stripe_standin, stripe_events, django_capture_on_commit_callbacks
):
    client.force_login(treasurer())
    receipt = paid_gift.receipts.get()
    assert flagged(client, paid_gift, receipt) == NONE
    # when the donor's bank opens a dispute
    dispute = open_dispute(stripe_standin, paid_gift)
    relay(stripe_events, django_capture_on_commit_callbacks, "charge.dispute.created")
    # then the gift and its receipt are flagged everywhere, and the dashboard can count it
    paid_gift.refresh_from_db()
    assert paid_gift.status == Donation.Status.DISPUTED
    assert list(Donation.objects.open_disputes()) == [paid_gift]
    assert flagged(client, paid_gift, receipt) == ALL
    receipt.refresh_from_db()
    assert receipt.status == "issued"
    # and the gift offers no refund while disputed
    page = client.get(reverse("crm_donation:inspect", args=[paid_gift.pk])).content.decode()
    assert reverse("campaigns_refund", args=[paid_gift.pk]) not in page

    # when the dispute is lost
    close_dispute(stripe_standin, dispute, "lost")
    relay(stripe_events, django_capture_on_commit_callbacks, "charge.dispute.closed")
    # then the money went back: the receipt is void and the flags are gone
    paid_gift.refresh_from_db()
    receipt.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == ("refunded", 2500)
    assert receipt.status == "void"
    assert not Receipt.objects.filter(status="issued").exists()
    assert not Donation.objects.open_disputes().exists()
    assert flagged(client, paid_gift, receipt) == NONE
    # (the donor's bank told them; no refund email from us)
    assert not DonorEmail.objects.filter(kind="refund").exists()


def test_a_won_dispute_clears_the_flag_and_keeps_the_receipt(
    client, paid_gift, stripe_standin, stripe_events, django_capture_on_commit_callbacks
):
    client.force_login(treasurer())
    receipt = paid_gift.receipts.get()
    dispute = open_dispute(stripe_standin, paid_gift)
    relay(stripe_events, django_capture_on_commit_callbacks, "charge.dispute.created")
    assert flagged(client, paid_gift, receipt) == ALL
    close_dispute(stripe_standin, dispute, "won")
    relay(stripe_events, django_capture_on_commit_callbacks, "charge.dispute.closed")
    paid_gift.refresh_from_db()
    receipt.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == ("succeeded", 0)
    assert receipt.status == "issued"
    assert flagged(client, paid_gift, receipt) == NONE


def test_a_late_dispute_update_after_a_lost_one_changes_nothing(deliver, pending_donation):
    donation = pending_donation(5000)
    deliver(event("checkout.session.completed", payloads.checkout_session(donation, pi="pi_D")))
    lost = payloads.dispute("ch_D", "pi_D", amount=5000, status="lost")
    assert deliver(event("charge.dispute.closed", lost)).status_code == 200
    late = payloads.dispute("ch_D", "pi_D", amount=5000, status="under_review")
    assert deliver(event("charge.dispute.updated", late)).status_code == 200
    donation.refresh_from_db()
    assert (donation.status, donation.refunded_cents) == ("refunded", 5000)


@pytest.mark.parametrize("status", ["warning_closed", "won"])
def test_a_dispute_update_that_says_closed_in_our_favour_clears_the_flag(
    deliver, pending_donation, status
):
    donation = pending_donation(5000)
    deliver(event("checkout.session.completed", payloads.checkout_session(donation, pi="pi_W")))
    opened = payloads.dispute("ch_W", "pi_W", amount=5000, status="warning_needs_response")
    deliver(event("charge.dispute.created", opened))
    donation.refresh_from_db()
    assert donation.status == "disputed"
    closed = payloads.dispute("ch_W", "pi_W", amount=5000, status=status)
    deliver(event("charge.dispute.updated", closed))
    donation.refresh_from_db()
    assert donation.status == "succeeded"


def test_another_networks_treasurer_sees_no_disputed_gift(
    client, paid_gift, stripe_standin, stripe_events, django_capture_on_commit_callbacks
):
    open_dispute(stripe_standin, paid_gift)
    relay(stripe_events, django_capture_on_commit_callbacks, "charge.dispute.created")
    other = treasurer("tesoreria-valle-serena")
    client.force_login(other)
    assert BADGE not in client.get(reverse("crm_donation:index")).content.decode()
    assert BADGE not in client.get(reverse("crm_receipt:index")).content.decode()
    assert not Donation.objects.for_user(other).open_disputes().exists()
