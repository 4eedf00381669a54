"""Banking fixtures: both demo networks with bank details, their treasurers, a campaign."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.utils import translation

from banking.models import BankDetails

from .camt_files import NETWORK_IBAN

OTHER_IBAN = "IT02L1234512345123456789012"


@pytest.fixture(autouse=True)
def _language_of_the_thread_reset():
    """A request to /en/ leaves English active in the test's thread (LocaleMiddleware): the
    next test would build English addresses (`page.url`) where it expects Italian ones."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache(db):
    cache.clear()
    caches["fragments"].clear()
    yield
    cache.clear()
    caches["fragments"].clear()


@pytest.fixture
def networks(demo):
    return demo["oltre-il-ponte"], demo["valle-serena"]


@pytest.fixture
def bank_details(networks):
    ours, theirs = networks
    return (
        BankDetails.objects.create(
            network=ours,
            beneficiary="Associazione Oltre il Ponte ETS",
            iban=NETWORK_IBAN,
            bic="BPMOIT22XXX",
        ),
        BankDetails.objects.create(network=theirs, beneficiary="Valle Serena APS", iban=OTHER_IBAN),
    )


@pytest.fixture
def treasurers(demo):
    users = get_user_model().objects
    return (
        users.get(username="tesoreria-oltre-il-ponte"),
        users.get(username="tesoreria-valle-serena"),
    )


@pytest.fixture
def campaign(demo):
    from campaigns.models import CampaignPage

    page = CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")
    page.suggested_amounts = "10 25 50"
    page.save_revision().publish()
    return CampaignPage.objects.get(pk=page.pk)
