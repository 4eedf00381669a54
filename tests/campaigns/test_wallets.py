"""PayPal and Satispay in Stripe Checkout, chosen per network (issue 23): offered for one-off
gifts only, the method the donor paid with read from the charge on the stand-in, recorded on
the gift and named on its receipt and on the donor's page."""

import pytest
from django.urls import reverse

from campaigns import stripe_api
from crm import portal_links
from crm.models import Donation
from tests.pdfs import pdf_text

from .test_giving import FORM, _pay, give_url


def _offered(client, campaign, frequency):
    response = client.post(give_url(campaign), {**FORM, "frequency": frequency})
    assert response.status_code == 303
    donation = Donation.objects.latest("pk")
    session = stripe_api.stripe_client(campaign.network).v1.checkout.sessions.retrieve(
        donation.stripe_checkout_session_id
    )
    return session.to_dict()["payment_method_types"]


def test_satispay_is_offered_for_a_one_off_gift_not_for_a_monthly_one(
    client, campaign, stripe_standin
):
    network = campaign.network
    network.offer_satispay = True
    network.save(update_fields=["offer_satispay"])

    assert _offered(client, campaign, "once") == ["card", "sepa_debit", "satispay"]
    assert "satispay" not in _offered(client, campaign, "monthly")


def test_a_network_that_chose_nothing_offers_what_it_offered_before(
    client, campaign, stripe_standin
):
    assert _offered(client, campaign, "once") == ["card", "sepa_debit"]


@pytest.mark.parametrize("method,name", [("paypal", "PayPal"), ("satispay", "Satispay")])
def test_a_gift_paid_with_a_wallet_records_it_and_its_receipt_names_it(
    client, campaign, stripe_events, effects, django_capture_on_commit_callbacks, method, name
):
    network = campaign.network
    setattr(network, f"offer_{method}", True)
    network.save()
    response = client.post(give_url(campaign), {**FORM, "codice_fiscale": "RSSMRA80A01H501U"})

    paid = _pay(response["Location"], method=method)
    assert paid.status_code == 303
    stripe_events.wait_for("checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        assert all(r.status_code == 200 for r in stripe_events.relay())

    donation = Donation.objects.get()
    assert (donation.status, donation.method) == ("succeeded", method)
    receipt = donation.receipts.get()
    with receipt.pdf.open("rb") as fh:
        assert name in pdf_text(fh.read())
    # and the donor's own page names it
    opened = client.get(
        reverse("donor_portal:open", args=[network.slug, portal_links.login_token(donation.donor)])
    )
    assert opened.status_code == 302
    page = client.get(reverse("donor_portal:page", args=[network.slug])).content.decode()
    assert f"· {name}" in page


def test_a_card_gift_on_a_network_offering_wallets_stays_a_card_gift(
    client, campaign, stripe_events, django_capture_on_commit_callbacks
):
    network = campaign.network
    network.offer_paypal = network.offer_satispay = True
    network.save()
    response = client.post(give_url(campaign), FORM)

    _pay(response["Location"])
    stripe_events.wait_for("checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        assert all(r.status_code == 200 for r in stripe_events.relay())

    donation = Donation.objects.get()
    assert (donation.status, donation.method) == ("succeeded", "card")
