"""The campaign's cached figures are dropped when a gift changes what they count, and only then
(campaigns.signals): a giving day's every checkout start creates a pending gift and saves its
Checkout Session's id, neither of which any figure reads (issue 21)."""

import pytest
from django.core.cache import cache

from campaigns.models import progress_cache_key
from crm import gifts
from crm.models import Donation

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached_figures(campaign):
    campaign.get_progress()  # computed and cached
    assert cache.get(progress_cache_key(campaign.pk)) is not None
    return campaign


def _pending(campaign):
    return Donation.objects.create(
        network=campaign.network,
        campaign=campaign,
        amount_cents=2500,
        wants_receipt=True,
        donor_details={"email": "anna@example.org", "first_name": "Anna", "last_name": "Rossi"},
        status=Donation.Status.PENDING,
    )


def test_a_checkout_start_leaves_the_cached_figures(cached_figures):
    campaign = cached_figures
    # when the form creates a pending gift and records its Checkout Session
    gift = _pending(campaign)
    gift.stripe_checkout_session_id = "cs_test_figures"
    gift.save(update_fields=["stripe_checkout_session_id", "updated_at"])
    # then the figures stay cached: none of them changed
    assert cache.get(progress_cache_key(campaign.pk)) is not None
    assert campaign.get_progress()["gifts"] == 0


def test_the_payment_of_a_started_gift_drops_them_and_is_counted(cached_figures):
    campaign = cached_figures
    before = campaign.get_progress()
    gift = _pending(campaign)
    # when its payment arrives
    locked = gifts.lock_donation(pk=gift.pk)
    assert gifts.record_payment(locked, amount_cents=2500, currency="eur")
    # then the figures are computed again and count it
    after = campaign.get_progress()
    assert after["gifts"] == before["gifts"] + 1
    assert after["raised_cents"] == before["raised_cents"] + 2500


@pytest.mark.parametrize("change", ["a pending gift deleted", "any other field saved"])
def test_other_writes_still_drop_them(cached_figures, change):
    campaign = cached_figures
    gift = _pending(campaign)
    campaign.get_progress()
    assert cache.get(progress_cache_key(campaign.pk)) is not None
    if change == "a pending gift deleted":
        gift.delete()
    else:
        gift.status = Donation.Status.CANCELLED
        gift.save(update_fields=["status", "updated_at"])
    assert cache.get(progress_cache_key(campaign.pk)) is None
