"""While a gift is pending, its return page reloads itself, a little later each look (issue 21:
on a saturated giving day the donors' reloads shared the web workers with the webhooks that
confirm their gifts, and held them back). A confirmation within seconds is seen as soon as
before; whatever `?look=` says, the page answers (never a 500) and stops reloading once the
gift is no longer pending."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.views import REFRESH_SECONDS, donation_token
from crm.models import Donation

pytestmark = pytest.mark.django_db
META = re.compile(r'<meta http-equiv="refresh" content="(\d+);url=\?look=(\d+)">')


@pytest.fixture
def pending(campaign):
    return Donation.objects.create(
        network=campaign.network,
        campaign=campaign,
        amount_cents=5000,
        status=Donation.Status.PENDING,
        method=Donation.Method.CARD,
    )


def _url(donation):
    with translation.override("it"):
        return reverse("campaigns:thanks", args=[donation_token(donation)])


def _reload(client, url):
    """(seconds, the next address) from the page's <meta refresh>, or None."""
    response = client.get(url)
    assert response.status_code == 200
    found = META.search(response.content.decode())
    return (int(found.group(1)), f"?look={found.group(2)}") if found else None


def test_a_pending_gift_reloads_after_3_s_then_later_each_look(client, pending):
    url = _url(pending)
    seen, address = [], url
    for _look in range(len(REFRESH_SECONDS) + 2):
        seconds, query = _reload(client, address)
        seen.append(seconds)
        address = url + query
    # the first two as before (a confirmation within ~6 s is seen as soon as before), then
    # longer, never more than the last step
    assert seen[:2] == [3, 3]
    assert seen == sorted(seen)
    assert seen[-1] == seen[-2] == REFRESH_SECONDS[-1] <= 20


def test_the_first_look_after_the_confirmation_stops_reloading(client, pending):
    url = _url(pending)
    assert _reload(client, f"{url}?look=4") is not None
    pending.status = Donation.Status.SUCCEEDED
    pending.save(update_fields=["status", "updated_at"])
    assert _reload(client, f"{url}?look=5") is None


@pytest.mark.parametrize("look", ["0", "-3", "abc", "9" * 40, "", "2.5"])
def test_any_look_value_is_answered(client, pending, look):
    # a hand-edited address is the first look (or capped), never an error
    seconds, query = _reload(client, f"{_url(pending)}?look={look}")
    assert seconds in REFRESH_SECONDS
    assert int(query.removeprefix("?look=")) >= 2
