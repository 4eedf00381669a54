"""A campaign's raised money is the same on the dashboard and on its page (issue 19): what
was given less what was given back, checkouts that never paid left out."""

from campaigns import stripe_handlers
from campaigns.reports import campaign_progress
from crm import gifts
from crm.models import Donation, Network
from crm.money import fiscal_today


def test_the_dashboard_and_the_campaign_page_say_the_same_after_a_refund(campaign):
    network = campaign.network
    networks = Network.objects.filter(pk=network.pk)
    before = {row["title"]: row["raised"] for row in campaign_progress(networks)}[campaign.title]
    # given a € 100,00 gift with € 10,50 refunded, and an abandoned checkout of € 50
    gift = Donation.objects.create(
        network=network, campaign=campaign, amount_cents=10000, status=Donation.Status.PENDING
    )
    gifts.record_payment(
        gift,
        amount_cents=10000,
        currency="eur",
        received_on=fiscal_today(),
        stripe_charge_id="ch_c",
    )
    stripe_handlers.charge_refunded({"id": "ch_c", "amount_refunded": 1050}, "")
    Donation.objects.create(
        network=network, campaign=campaign, amount_cents=5000, status=Donation.Status.PENDING
    )

    # then the dashboard's campaign progress and the campaign page both add € 89,50
    on_dashboard = {row["title"]: row["raised"] for row in campaign_progress(networks)}
    assert on_dashboard[campaign.title] == before + 8950
    assert campaign.get_progress()["raised_cents"] == on_dashboard[campaign.title]
