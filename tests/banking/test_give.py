"""The donor's side: "Bank transfer" next to the card on the campaign page, the pledge page
with IBAN, reference and EPC QR code, the email; the card's checks (form, monthly, limits,
challenge) before any pledge is written."""

import base64

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from banking import qr, references
from banking.models import BankDetails, Pledge
from crm.models import Donation

FORM = {
    "amount": "2500",
    "frequency": "once",
    "first_name": "Anna",
    "last_name": "D'Alò",
    "email": "anna@example.org",
    "privacy": "on",
}


def give_url(campaign, language="it"):
    with translation.override(language):
        return reverse("banking:give", args=[campaign.pk])


@pytest.mark.django_db
def test_the_campaign_page_offers_a_bank_transfer_only_with_an_iban(client, campaign):
    assert 'data-testid="give-bank-transfer"' not in client.get(campaign.url).content.decode()
    assert client.post(give_url(campaign), FORM).status_code == 404
    BankDetails.objects.create(
        network=campaign.network,
        beneficiary="Oltre il Ponte ETS",
        iban="IT60 X054 2811 1010 0000 0123 456",
    )
    html = client.get(campaign.url).content.decode()
    assert 'data-testid="give-bank-transfer"' in html
    assert f'formaction="{give_url(campaign)}"' in html


@pytest.mark.django_db
def test_choosing_a_bank_transfer_shows_the_details_and_emails_them(
    client, campaign, bank_details, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(give_url(campaign), {**FORM, "cover_fees": "on"})
    assert response.status_code == 303
    pledge = Pledge.objects.get()
    assert pledge.amount_cents == 2500  # no card fee on a transfer
    assert pledge.donor_details["last_name"] == "D'Alò"
    assert not Donation.objects.filter(campaign=campaign, status="pending").exists()
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    assert "IT60 X054 2811 1010 0000 0123 456" in html  # grouped in fours
    assert references.grouped(pledge.reference) in html
    assert "€\u00a025,00" in html and "<svg" in html
    # the page shows the QR code; only the email attaches it
    assert "allegato" not in html and "Copia il riferimento esattamente" in html
    payload = html.split('data-epc-payload="', 1)[1].split('"', 1)[0]
    fields = qr.parse_epc(base64.b64decode(payload))
    assert (fields["iban"], fields["amount"], fields["reference"]) == (
        bank_details[0].iban,
        "EUR25.00",
        pledge.reference,
    )
    (message,) = mail.outbox
    assert message.to == ["anna@example.org"]
    assert "bonifico" in message.subject.lower()  # the donor gave in Italian
    assert references.grouped(pledge.reference) in message.body


@pytest.mark.django_db
def test_a_bad_form_a_monthly_gift_or_a_tampered_link_write_nothing(client, campaign, bank_details):
    assert client.post(give_url(campaign), {**FORM, "email": "no"}).status_code == 400
    monthly = client.post(give_url(campaign), {**FORM, "frequency": "monthly"})
    assert monthly.status_code == 400
    assert (
        "one-off"
        in client.post(give_url(campaign, "en"), {**FORM, "frequency": "monthly"}).content.decode()
    )
    assert client.post(give_url(campaign), {**FORM, "website": "spam"}).status_code == 400
    assert not Pledge.objects.exists()
    assert client.get(reverse("banking:pledge", args=["forged"])).status_code == 404


@pytest.mark.django_db
def test_the_cards_rate_limits_hold_for_transfers(client, campaign, bank_details, settings):
    settings.GIVING_RATE_LIMITS = {"email": (2, 3600)}
    statuses = [client.post(give_url(campaign), FORM).status_code for _ in range(4)]
    assert statuses == [303, 303, 429, 429]
    assert Pledge.objects.count() == 2


@pytest.mark.django_db
def test_a_busy_campaign_asks_the_challenge_of_transfers_too(
    client, campaign, bank_details, settings
):
    settings.GIVING_RATE_LIMITS = {"campaign": (0, 3600)}
    response = client.post(give_url(campaign), FORM)
    assert response.status_code == 400
    html = response.content.decode()
    assert "pow_answer" in html
    assert f'data-form-action="{give_url(campaign)}"' in html  # the solved form comes back here
    assert not Pledge.objects.exists()


@pytest.mark.django_db
def test_the_transfer_email_names_the_network_as_it_is_written(
    client, campaign, bank_details, django_capture_on_commit_callbacks
):
    # a subject is plain text: "Rossi & Bianchi", never "Rossi &amp; Bianchi"
    campaign.network.name = "Rete Rossi & Bianchi d'Italia"
    campaign.network.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(give_url(campaign), FORM).status_code == 303
    (message,) = mail.outbox
    assert "Rete Rossi & Bianchi d'Italia" in message.subject


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.django_db
def test_opening_the_transfer_forms_address_leads_back_to_the_campaign(
    client, campaign, bank_details, language
):
    # the address bar after a refused transfer form: opening it again is not an empty 405
    response = client.get(give_url(campaign, language))
    assert response.status_code == 302
    with translation.override(language):
        assert response["Location"] == campaign.url
