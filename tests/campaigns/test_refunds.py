"""Refunds from the gift's admin page, through Stripe's Refunds API on the stand-in, and refunds
made in Stripe's dashboard arriving by webhook: the receipt is voided (or reissued for what
remains), the donor is told, and nothing is refunded or recorded twice."""

import pytest
import requests
from django.contrib.auth import get_user_model
from django.urls import reverse

from campaigns.models import StripeEvent
from crm.models import Donation, DonorEmail, Receipt
from tests.pdfs import pdf_text

from .test_giving import FORM, _pay, give_url

pytestmark = pytest.mark.django_db

TREASURER = "tesoreria-oltre-il-ponte"
OTHER_TREASURER = "tesoreria-valle-serena"


def treasurer(name=TREASURER):
    return get_user_model().objects.get(username=name)


def refund_url(donation):
    return reverse("campaigns_refund", args=[donation.pk])


def ask(client, donation, amount, reason="Donor asked by phone"):
    """The question page for a refund (nothing happens yet)."""
    return client.post(
        refund_url(donation), {"amount": amount, "reason": reason, "seen": donation.refunded_cents}
    )


def confirm(client, donation, amount, reason="Donor asked by phone", seen=None):
    return client.post(
        refund_url(donation),
        {
            "amount": amount,
            "reason": reason,
            "seen": donation.refunded_cents if seen is None else seen,
            "confirm": "1",
        },
    )


def stripe_refunds(stripe_standin, donation):
    return requests.get(
        f"{stripe_standin}/v1/refunds",
        params={"payment_intent": donation.stripe_payment_intent_id},
        auth=("sk_test_standin", ""),
        timeout=5,
    ).json()["data"]


def test_full_refund_from_the_admin_voids_the_receipt_and_tells_the_donor(
    client, paid_gift, stripe_standin, stripe_events, mailoutbox, django_capture_on_commit_callbacks
):
    # given the treasurer on the gift's page, which offers "Refund"
    client.force_login(treasurer())
    page = client.get(reverse("crm_donation:inspect", args=[paid_gift.pk])).content.decode()
    assert refund_url(paid_gift) in page
    receipt = paid_gift.receipts.get()
    mailoutbox.clear()

    # when they ask to refund € 25,00: the question page says what will happen, nothing yet
    form = client.get(refund_url(paid_gift))
    assert form.status_code == 200 and 'value="25,00"' in form.content.decode()
    question = ask(client, paid_gift, "25,00")
    text = question.content.decode()
    assert question.status_code == 200
    assert "Rimborsare €\xa025,00 a Anna D&#x27;Alò?" in text
    assert f"La ricevuta {receipt.number} sarà annullata." in text
    assert "anna@example.org" in text and "Torna indietro" in text and "Rimborsa" in text
    assert stripe_refunds(stripe_standin, paid_gift) == []

    # and they confirm
    with django_capture_on_commit_callbacks(execute=True):
        done = confirm(client, paid_gift, "25,00")
    assert done.status_code == 302

    # then Stripe refunded the payment once, and the gift and its receipt say so
    (refund,) = stripe_refunds(stripe_standin, paid_gift)
    assert refund["amount"] == 2500 and refund["metadata"]["reason"] == "Donor asked by phone"
    paid_gift.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == ("refunded", 2500)
    receipt.refresh_from_db()
    assert (receipt.status, receipt.void_reason) == ("void", "Donor asked by phone")
    assert receipt.voided_by == treasurer()
    assert not Receipt.objects.filter(status="issued").exists()

    # and the donor was told, in Italian, with the voided receipt's number
    email = DonorEmail.objects.get(kind="refund")
    assert (email.donation, email.amount_cents, email.status) == (paid_gift, 2500, "sent")
    (message,) = [m for m in mailoutbox if m.to == ["anna@example.org"]]
    assert "€\xa025,00" in message.body and "25/" not in message.subject
    assert f"La ricevuta {receipt.number} è annullata" in message.body
    assert "Anna" in message.body

    # when Stripe's webhooks for the same refund arrive (charge.refunded, refund.created)
    stripe_events.wait_for("charge.refunded", "refund.created")
    with django_capture_on_commit_callbacks(execute=True):
        assert all(r.status_code == 200 for r in stripe_events.relay())
    # then nothing is recorded again: one refund email, one voided receipt, no new one
    assert DonorEmail.objects.filter(kind="refund").count() == 1
    assert Receipt.objects.count() == 1
    paid_gift.refresh_from_db()
    assert paid_gift.refunded_cents == 2500
    # and the gift page offers no more refund
    page = client.get(reverse("crm_donation:inspect", args=[paid_gift.pk])).content.decode()
    assert refund_url(paid_gift) not in page
    # and the donor's page lists the email among what happened
    donor_page = client.get(reverse("crm_donor:inspect", args=[paid_gift.donor_id]))
    assert "Rimborso → anna@example.org" in donor_page.content.decode()


def test_partial_refund_reissues_the_receipt_for_what_remains(
    client, paid_gift, stripe_standin, stripe_events, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(treasurer())
    old = paid_gift.receipts.get()
    question = ask(client, paid_gift, "10")
    text = question.content.decode()
    assert "Rimborsare €\xa010,00 a Anna D&#x27;Alò?" in text
    assert f"La ricevuta {old.number} sarà annullata e riemessa per €\xa015,00." in text

    with django_capture_on_commit_callbacks(execute=True):
        assert confirm(client, paid_gift, "10").status_code == 302

    paid_gift.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == ("partially_refunded", 1000)
    old.refresh_from_db()
    new = Receipt.objects.get(status="issued")
    assert old.status == "void" and new.replaces == old and new.amount_cents == 1500
    # the new receipt's PDF says € 15,00
    with new.pdf.open("rb") as fh:
        text = pdf_text(fh.read())
    assert new.number in text and "15,00" in text and "25,00" not in text
    # the donor is told of the new receipt
    (message,) = [m for m in mailoutbox if "rimborsato" in m.body]
    assert "€\xa010,00" in message.body and "€\xa015,00" in message.body
    assert new.number in message.body

    # a second refund of the rest (its webhooks for the first one in between change nothing)
    stripe_events.wait_for("charge.refunded", "refund.created")
    with django_capture_on_commit_callbacks(execute=True):
        stripe_events.relay()
    assert Receipt.objects.count() == 2
    paid_gift.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm(client, paid_gift, "15,00").status_code == 302
    paid_gift.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == ("refunded", 2500)
    assert not Receipt.objects.filter(status="issued").exists()
    assert DonorEmail.objects.filter(kind="refund").count() == 2


def test_a_refund_made_in_stripes_dashboard_lands_the_same_way(
    paid_gift, stripe_standin, stripe_events, mailoutbox, django_capture_on_commit_callbacks
):
    # given a partial refund made in Stripe's dashboard (the stripe library on the stand-in)
    old = paid_gift.receipts.get()
    mailoutbox.clear()
    response = requests.post(
        f"{stripe_standin}/v1/refunds",
        data={"payment_intent": paid_gift.stripe_payment_intent_id, "amount": 500},
        auth=("sk_test_standin", ""),
        timeout=5,
    )
    response.raise_for_status()
    # when its webhooks arrive, twice
    stripe_events.wait_for("charge.refunded", "refund.created")
    bodies = stripe_events.relay()
    assert all(r.status_code == 200 for r in bodies)
    with django_capture_on_commit_callbacks(execute=True):
        pass
    # then the gift is partly refunded, its receipt reissued for € 20,00, the donor told
    paid_gift.refresh_from_db()
    assert (paid_gift.status, paid_gift.refunded_cents) == ("partially_refunded", 500)
    old.refresh_from_db()
    new = Receipt.objects.get(status="issued")
    assert old.status == "void" and new.amount_cents == 2000
    assert old.void_reason == "Rimborsato in Stripe"
    email = DonorEmail.objects.get(kind="refund")
    assert email.amount_cents == 500
    assert StripeEvent.objects.filter(type="refund.created").get().outcome == "applied"


def test_refund_events_in_any_order_record_the_refund_once(
    paid_gift, stripe_standin, stripe_events, mailoutbox, django_capture_on_commit_callbacks
):
    """`refund.created` before `charge.refunded`: the handler asks Stripe for the charge's
    total; the later `charge.refunded` (and a replay of both) changes nothing."""
    requests.post(
        f"{stripe_standin}/v1/refunds",
        data={"payment_intent": paid_gift.stripe_payment_intent_id, "amount": 700},
        auth=("sk_test_standin", ""),
        timeout=5,
    ).raise_for_status()
    stripe_events.wait_for("charge.refunded", "refund.created")
    with django_capture_on_commit_callbacks(execute=True):
        responses = stripe_events.relay(reverse=True)
    assert all(r.status_code == 200 for r in responses)
    paid_gift.refresh_from_db()
    assert paid_gift.refunded_cents == 700
    assert DonorEmail.objects.filter(kind="refund").count() == 1
    assert Receipt.objects.filter(status="void").count() == 1
    outcomes = dict(StripeEvent.objects.values_list("type", "outcome"))
    assert outcomes["refund.created"] == "applied"


def test_a_refund_that_fails_later_is_acknowledged_and_changes_nothing(
    paid_gift, stripe_standin, stripe_events, django_capture_on_commit_callbacks
):
    refund = requests.post(
        f"{stripe_standin}/v1/refunds",
        data={"payment_intent": paid_gift.stripe_payment_intent_id, "amount": 500},
        auth=("sk_test_standin", ""),
        timeout=5,
    ).json()
    stripe_events.wait_for("charge.refunded", "refund.created")
    with django_capture_on_commit_callbacks(execute=True):
        stripe_events.relay()
    requests.post(f"{stripe_standin}/_standin/refunds/{refund['id']}/fail", timeout=5)
    stripe_events.wait_for("refund.updated", "refund.failed", "charge.refund.updated")
    with django_capture_on_commit_callbacks(execute=True):
        assert all(r.status_code == 200 for r in stripe_events.relay())
    # (the money is back with the network: the treasurer settles it; nothing is undone here)
    paid_gift.refresh_from_db()
    assert paid_gift.refunded_cents == 500
    assert DonorEmail.objects.filter(kind="refund").count() == 1
    assert StripeEvent.objects.get(type="refund.updated").outcome == "applied"


def test_a_networks_connected_account_is_where_the_refund_is_made(
    client, campaign, stripe_events, stripe_standin, effects, django_capture_on_commit_callbacks
):
    # given a network with its own Stripe account, and a gift paid on it
    campaign.network.stripe_account_id = "acct_1OltreIlPonte"
    campaign.network.save(update_fields=["stripe_account_id"])
    response = client.post(give_url(campaign), FORM)
    _pay(response["Location"])
    stripe_events.wait_for("checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        stripe_events.relay()
    gift = Donation.objects.get()
    assert gift.status == "succeeded"
    # when the treasurer refunds € 5,00 of it
    client.force_login(treasurer())
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm(client, gift, "5").status_code == 302
    # then the refund is on the network's account, not the platform's
    connected = requests.get(
        f"{stripe_standin}/v1/refunds",
        auth=("sk_test_standin", ""),
        headers={"Stripe-Account": "acct_1OltreIlPonte"},
        timeout=5,
    ).json()["data"]
    assert [r["amount"] for r in connected] == [500]
    assert stripe_refunds(stripe_standin, gift) == []
    gift.refresh_from_db()
    assert gift.refunded_cents == 500
    # and its webhooks, from that account, change nothing more
    stripe_events.wait_for("charge.refunded", "refund.created")
    with django_capture_on_commit_callbacks(execute=True):
        assert all(r.status_code == 200 for r in stripe_events.relay())
    gift.refresh_from_db()
    assert gift.refunded_cents == 500
    assert DonorEmail.objects.filter(kind="refund").count() == 1
