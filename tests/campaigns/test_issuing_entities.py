"""Issue 26: a campaign names the entity of its network that receives its gifts. A gift to it
records that entity, its receipt is numbered in that entity's own series and prints its legal
data, and the donor reads the entity's name on the campaign page before paying."""

import datetime

import pytest
from django.urls import reverse

from campaigns.models import CampaignPage
from campaigns.views import donation_token
from crm.models import Donation, Network, Receipt
from tests.entities import partner_entity

from . import payloads
from .conftest import event


@pytest.fixture
def partner_campaign(campaign):
    """The demo campaign's network gets a partner entity and a second campaign that names it."""
    network = campaign.network
    partner = partner_entity(network)
    today = datetime.date.today()
    parent = campaign.get_parent()
    page = parent.add_child(
        instance=CampaignPage(
            title="Un tetto per tutti",
            goal_cents=500000,
            starts_on=today - datetime.timedelta(days=1),
            ends_on=today + datetime.timedelta(days=30),
            suggested_amounts="10 25 50",
            issuing_entity=partner,
        )
    )
    page.save_revision().publish()
    return CampaignPage.objects.get(pk=page.pk), partner


def _paid_gift(deliver, campaign, session):
    donation = Donation.objects.create(
        network=campaign.network,
        campaign=campaign,
        amount_cents=2500,
        wants_receipt=True,
        donor_details={
            "first_name": "Anna",
            "last_name": "Rossi",
            "email": "anna.rossi@example.org",
            "codice_fiscale": "RSSNNA80A41F205X",
            "public_mention": True,
            "privacy_notice_version": "2026-11",
        },
        stripe_checkout_session_id=session,
    )
    body = event("checkout.session.completed", payloads.checkout_session(donation, pi=session))
    assert deliver(body).status_code == 200
    donation.refresh_from_db()
    return donation


def test_gifts_to_each_campaign_are_receipted_in_each_entitys_series(
    deliver, campaign, partner_campaign
):
    # given a campaign of the lead entity and one of the partner entity, in one network
    partner_page, partner = partner_campaign
    lead = campaign.network.lead_entity
    # when gifts are paid on each, alternating
    gifts = [
        _paid_gift(deliver, page, f"cs_test_entity_{n:02d}")
        for n, page in enumerate([campaign, partner_page, partner_page, campaign, partner_page])
    ]
    # then each gift records the entity of its campaign
    assert [g.entity_id for g in gifts] == [lead.pk, partner.pk, partner.pk, lead.pk, partner.pk]
    # and each entity numbers its receipts on its own, from 1, without gaps
    year = gifts[0].received_on.year
    partner_numbers = list(
        Receipt.objects.filter(entity=partner).order_by("sequence").values_list("number", flat=True)
    )
    assert partner_numbers == [f"CP-{year}/00001", f"CP-{year}/00002", f"CP-{year}/00003"]
    lead_sequences = list(
        Receipt.objects.filter(entity=lead).order_by("sequence").values_list("sequence", flat=True)
    )
    assert lead_sequences == [1, 2]
    # and a receipt prints the legal data of the entity that received the gift
    receipt = gifts[1].receipts.get()
    assert receipt.entity_snapshot["legal_name"] == "Cooperativa sociale Il Ponte"
    assert receipt.entity_snapshot["codice_fiscale"] == "01234560157"
    assert receipt.entity_snapshot["signer_name"] == "Luca Bianchi"
    assert gifts[0].receipts.get().entity_snapshot["legal_name"] == lead.legal_name


def test_the_donor_reads_who_receives_the_gift_before_paying(client, campaign, partner_campaign):
    # given the partner's campaign and the lead's
    partner_page, _partner = partner_campaign
    # when a visitor opens each page
    partner_html = client.get(partner_page.url).content.decode()
    lead_html = client.get(campaign.url).content.decode()
    # then each names the entity that receives its gifts, and not the other
    assert "Cooperativa sociale Il Ponte" in partner_html
    assert "01234560157" in partner_html
    assert "Cooperativa sociale Il Ponte" not in lead_html
    assert campaign.network.legal_name in lead_html


def test_the_admin_offers_only_the_network_s_own_entities(client, campaign, partner_campaign):
    # given another network with an entity of its own
    partner_page, partner = partner_campaign
    other = Network.objects.exclude(pk=campaign.network.pk).first()
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(is_superuser=True).first()
    client.force_login(admin)
    # when the campaign's edit form is opened
    response = client.get(reverse("wagtailadmin_pages:edit", args=[partner_page.pk]))
    assert response.status_code == 200
    choices = list(response.context["form"].fields["issuing_entity"].queryset)
    # then it offers the campaign's network's entities only
    assert partner in choices
    assert campaign.network.lead_entity in choices
    assert other.lead_entity not in choices


def test_the_return_page_names_the_entity_that_received_the_gift(
    client, deliver, campaign, partner_campaign
):
    # given a gift paid on the partner's campaign, and one on the lead's
    partner_page, _partner = partner_campaign
    partner_gift = _paid_gift(deliver, partner_page, "cs_test_entity_thanks_1")
    lead_gift = _paid_gift(deliver, campaign, "cs_test_entity_thanks_2")
    # when each donor lands on the return page after paying
    partner_html = client.get(
        reverse("campaigns:thanks", args=[donation_token(partner_gift)])
    ).content.decode()
    lead_html = client.get(
        reverse("campaigns:thanks", args=[donation_token(lead_gift)])
    ).content.decode()
    # then each page names the entity that received the gift, not the other
    assert "Cooperativa sociale Il Ponte" in partner_html
    assert campaign.network.legal_name not in partner_html
    assert campaign.network.legal_name in lead_html
    assert "Cooperativa sociale Il Ponte" not in lead_html
