"""Public-fundraising report fixtures: a campaign of "Oltre il ponte" with online gifts (one
partly refunded, one wholly refunded, a checkout never paid), offline gifts (a bank transfer,
cash), a funder's matched payment, and gifts that must stay out (another campaign's, one before
the period); the two networks' treasurers."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches

from campaigns.matches import MatchPledge, record_match_payment
from campaigns.models import CampaignPage
from crm.gifts import record_refunded_total
from crm.models import Donation, Donor
from crm.money import fiscal_today
from crm.offline import record_offline_gift
from fundraising.models import FundraisingReport


@pytest.fixture(autouse=True)
def _clear_cache(db):
    cache.clear()
    caches["fragments"].clear()
    yield
    cache.clear()


@pytest.fixture
def people(demo):
    return {user.username: user for user in get_user_model().objects.all()}


@pytest.fixture
def today():
    return fiscal_today()


def _online(network, donor, campaign, cents, on, status=Donation.Status.SUCCEEDED):
    return Donation.objects.create(
        network=network,
        donor=donor,
        campaign=campaign,
        amount_cents=cents,
        received_on=on,
        method=Donation.Method.CARD,
        channel=Donation.Channel.ONLINE,
        status=status,
    )


@pytest.fixture
def campaign_gifts(demo, today):
    """The campaign and its money. Counted, net of refunds, in the period:
    online 120,50 + (80,00 − 30,25) = 170,25; offline 1.000,00 + 35,40 = 1.035,40;
    matched 200,00; in all 1.405,65."""
    network = demo["oltre-il-ponte"]
    campaign = CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")
    other = CampaignPage.objects.filter(path__startswith=network.page.path).exclude(pk=campaign.pk)
    donor = Donor.objects.create(
        network=network, first_name="Ermenegilda", last_name="Rossi", email="e@example.org"
    )
    _online(network, donor, campaign, 12050, today)
    partly = _online(network, donor, campaign, 8000, today)
    record_refunded_total(partly, 3025)
    whole = _online(network, donor, campaign, 5000, today)
    record_refunded_total(whole, 5000)
    _online(network, donor, campaign, 99900, today, status=Donation.Status.PENDING)
    early = today - datetime.timedelta(days=60)
    _online(network, donor, campaign, 4400, early)  # before the period
    if other.exists():
        _online(network, donor, other.first(), 7700, today)  # another campaign's
    for cents, method in ((100000, Donation.Method.BANK_TRANSFER), (3540, Donation.Method.CASH)):
        record_offline_gift(
            network=network,
            donor=donor,
            amount_cents=cents,
            received_on=today,
            method=method,
            campaign=campaign,
        )
    funder = Donor.objects.create(
        network=network, kind=Donor.Kind.ORGANISATION, organisation_name="Fondazione Zebedeo"
    )
    pledge = MatchPledge.objects.create(
        network=network,
        campaign=campaign,
        funder=funder,
        cap_cents=50000,
        starts_on=early,
        ends_on=today,
    )
    record_match_payment(pledge, amount_cents=20000, received_on=today)
    return campaign


@pytest.fixture
def report(campaign_gifts, today):
    return FundraisingReport.objects.create(
        network=campaign_gifts.network,
        campaign=campaign_gifts,
        title=campaign_gifts.title,
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today,
    )


@pytest.fixture
def other_report(demo, today):
    """A report of Valle Serena's: another network's."""
    network = demo["valle-serena"]
    campaign = CampaignPage.objects.filter(path__startswith=network.page.path).first()
    return FundraisingReport.objects.create(
        network=network, campaign=campaign, title=campaign.title, starts_on=today, ends_on=today
    )
