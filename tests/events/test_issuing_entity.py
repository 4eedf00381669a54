"""Issue 26: an event names the entity of its network that receives its gifts on top, as a
campaign does. The buyer reads its name before paying; the gift is recorded for it and its
receipt is numbered in that entity's series."""

import pytest
import requests
from django.contrib.auth import get_user_model
from django.urls import reverse

from crm.models import Donation, Receipt
from events.models import Order
from tests.entities import partner_entity

from .conftest import make_event
from .test_tickets import buy_and_pay

pytestmark = pytest.mark.django_db

PARTNER = "Cooperativa sociale Il Ponte"


@pytest.fixture
def partner_event(demo):
    from cms.models import NetworkPage

    network = demo["oltre-il-ponte"]
    partner = partner_entity(network, legal_name=PARTNER)
    page = NetworkPage.objects.get(network=network)
    return make_event(page, slug="cena-del-ponte", issuing_entity=partner), partner


def test_the_buyer_reads_who_receives_the_gift_before_paying(client, event, partner_event):
    # given an event naming the partner entity, and one naming none (the lead's)
    partner_page, _partner = partner_event
    # when a visitor opens each page
    partner_html = client.get(partner_page.url).content.decode()
    lead_html = client.get(event.url).content.decode()
    # then each names the entity that receives its gifts, with its codice fiscale
    assert PARTNER in partner_html and "01234560157" in partner_html
    assert PARTNER not in lead_html
    assert event.network.legal_name in lead_html


def test_a_gift_on_top_goes_to_the_events_entity(
    client, partner_event, stripe_standin, stripe_events, django_capture_on_commit_callbacks
):
    # given an event naming the partner entity
    page, partner = partner_event
    types = {t.name: t for t in page.ticket_types.all()}
    # when a buyer takes two tickets and adds a gift, and pays
    buy_and_pay(client, page, types, stripe_events, django_capture_on_commit_callbacks)
    # then the payment page named the partner as the gift's receiver
    order = Order.objects.get()
    session = requests.get(
        f"{stripe_standin}/v1/checkout/sessions/{order.stripe_checkout_session_id}/line_items",
        auth=("sk_test_standin", ""),
        timeout=5,
    ).json()
    assert any(PARTNER in line["description"] for line in session["data"])
    # and the gift is the partner's, receipted in the partner's series
    gift = Donation.objects.get()
    assert gift.entity == partner
    receipt = Receipt.objects.get()
    assert receipt.entity == partner and receipt.number.startswith("CP-")
    assert receipt.entity_snapshot["legal_name"] == PARTNER


def test_the_admin_offers_only_the_network_s_own_entities(client, demo, partner_event):
    page, partner = partner_event
    other = next(n for n in demo.values() if n.pk != page.network.pk)
    client.force_login(get_user_model().objects.filter(is_superuser=True).first())
    response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert response.status_code == 200
    choices = list(response.context["form"].fields["issuing_entity"].queryset)
    assert partner in choices and page.network.lead_entity in choices
    assert other.lead_entity not in choices
