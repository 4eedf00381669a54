"""What a refund from the admin refuses: a second click, another network's treasurer, people
without the permission, bad amounts, Stripe down or saying no. Each time nothing is refunded
at Stripe and nothing changes here."""

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from crm.models import Donation, DonorEmail, Receipt

from .test_refunds import TREASURER, confirm, refund_url, stripe_refunds, treasurer

pytestmark = pytest.mark.django_db


def unchanged(donation, stripe_standin):
    donation.refresh_from_db()
    return (
        donation.refunded_cents == 0
        and donation.status == "succeeded"
        and stripe_refunds(stripe_standin, donation) == []
        and not DonorEmail.objects.filter(kind="refund").exists()
        and Receipt.objects.get(donations=donation).status == "issued"
    )


def test_a_double_click_refunds_once(client, paid_gift, stripe_standin):
    client.force_login(treasurer())
    first = confirm(client, paid_gift, "10", seen=0)
    second = confirm(client, paid_gift, "10", seen=0)  # the same form, posted again
    assert (first.status_code, second.status_code) == (302, 302)
    assert [r["amount"] for r in stripe_refunds(stripe_standin, paid_gift)] == [1000]
    paid_gift.refresh_from_db()
    assert paid_gift.refunded_cents == 1000
    assert DonorEmail.objects.filter(kind="refund").count() == 1
    assert Receipt.objects.filter(status="issued").get().amount_cents == 1500
    said = [str(m) for m in get_messages(second.wsgi_request)]
    assert any("Nel frattempo questa donazione è stata rimborsata" in m for m in said)


def test_another_networks_treasurer_gets_404_and_nothing_happens(client, paid_gift, stripe_standin):
    client.force_login(treasurer("tesoreria-valle-serena"))
    assert client.get(refund_url(paid_gift)).status_code == 404
    assert confirm(client, paid_gift, "10").status_code == 404
    page = client.get(reverse("crm_donation:inspect", args=[paid_gift.pk]))
    assert page.status_code == 404
    assert unchanged(paid_gift, stripe_standin)


def test_a_communicator_may_not_refund(client, paid_gift, stripe_standin):
    # (Wagtail's admin answers a PermissionDenied with a redirect to the dashboard)
    client.force_login(get_user_model().objects.get(username="comunicazione-oltre-il-ponte"))
    for response in (client.get(refund_url(paid_gift)), confirm(client, paid_gift, "10")):
        assert response.status_code in (302, 403)
        assert response.status_code == 403 or response["Location"] == "/admin/"
    assert unchanged(paid_gift, stripe_standin)


def test_anonymous_is_sent_to_log_in(client, paid_gift, stripe_standin):
    response = confirm(client, paid_gift, "10")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert unchanged(paid_gift, stripe_standin)


@pytest.mark.parametrize(
    "typed,message",
    [
        ("0", "maggiore di zero"),
        ("-5", "maggiore di zero"),
        ("abc", "ad esempio 25 o 10,50"),
        ("0,001", "ad esempio 25 o 10,50"),
        ("1e9", "ad esempio 25 o 10,50"),
        ("NaN", "ad esempio 25 o 10,50"),
        ("25,01", "restano da rimborsare al massimo €\xa025,00"),
        ("1.000,00", "restano da rimborsare al massimo €\xa025,00"),
        ("", "obbligatorio"),
    ],
)
def test_bad_amounts_are_a_form_error_and_change_nothing(
    client, paid_gift, stripe_standin, typed, message
):
    client.force_login(treasurer())
    for response in (
        client.post(refund_url(paid_gift), {"amount": typed, "reason": "x", "seen": 0}),
        confirm(client, paid_gift, typed),
    ):
        assert response.status_code == 400
        assert message in response.content.decode()
    assert unchanged(paid_gift, stripe_standin)


def test_a_reason_is_required(client, paid_gift, stripe_standin):
    client.force_login(treasurer())
    response = confirm(client, paid_gift, "10", reason="   ")
    assert response.status_code == 400
    assert unchanged(paid_gift, stripe_standin)


def test_stripe_down_refunds_nothing_and_says_so(client, paid_gift, stripe_standin, settings):
    client.force_login(treasurer())
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    response = confirm(client, paid_gift, "10")
    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [
        "Stripe non risponde: non è stato rimborsato nulla. Riprova tra qualche minuto."
    ]
    settings.STRIPE_API_BASE = stripe_standin
    assert unchanged(paid_gift, stripe_standin)


def test_stripe_refusing_more_than_is_left_records_nothing(
    client, paid_gift, stripe_standin, stripe_events
):
    # given € 20,00 refunded in Stripe's dashboard, its webhook not arrived yet
    requests.post(
        f"{stripe_standin}/v1/refunds",
        data={"payment_intent": paid_gift.stripe_payment_intent_id, "amount": 2000},
        auth=("sk_test_standin", ""),
        timeout=5,
    ).raise_for_status()
    # when the treasurer refunds € 10,00 from Trama (we still think € 25,00 is left)
    client.force_login(treasurer())
    response = confirm(client, paid_gift, "10")
    # then Stripe refuses, the treasurer is told why, and nothing is recorded
    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == ["Stripe ha rifiutato: l'importo supera quanto resta da rimborsare."]
    paid_gift.refresh_from_db()
    assert paid_gift.refunded_cents == 0
    assert [r["amount"] for r in stripe_refunds(stripe_standin, paid_gift)] == [2000]


def test_offline_and_pending_gifts_offer_no_refund(client, paid_gift, stripe_standin):
    pending = Donation.objects.create(
        network=paid_gift.network, amount_cents=1000, stripe_payment_intent_id="pi_pending"
    )
    client.force_login(treasurer())
    page = client.get(reverse("crm_donation:inspect", args=[pending.pk])).content.decode()
    assert refund_url(pending) not in page
    response = client.get(refund_url(pending))
    assert response.status_code == 302
    assert confirm(client, pending, "5").status_code == 302
    assert stripe_refunds(stripe_standin, paid_gift) == []
    pending.refresh_from_db()
    assert pending.refunded_cents == 0


def test_the_treasurer_of_the_network_is_who_may_refund(paid_gift):
    user = treasurer(TREASURER)
    assert user.has_perm("crm.refund_donation")
    other = get_user_model().objects.get(username="comunicazione-oltre-il-ponte")
    assert not other.has_perm("crm.refund_donation")
