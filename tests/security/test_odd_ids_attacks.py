"""Ids typed in an address or a form (attack pass, 5 December 2026): "²", "①" and "٣" are
digits to Python's `str.isdigit`, and `int()` refuses the first two, as it refuses a number of
5,000 digits; a letter where an id goes makes Django's lookup raise. Each was a 500 where the
screens check ids with `isdigit()` or not at all; the answer is now a 4xx, or the id ignored,
and nothing changes."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from campaigns.views import donation_token
from crm.models import Donation, Donor
from events.models import Ticket
from tests.events.conftest import _clear_cache, event, types  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

ODD = ["²", "①", "9" * 5000, "abc", "-1"]


def _user(name):
    return get_user_model().objects.get(username=name)


@pytest.fixture
def treasurer(client, demo):
    user = _user("tesoreria-oltre-il-ponte")
    client.force_login(user)
    client.raise_request_exception = False
    return user


@pytest.mark.parametrize("odd", ODD)
def test_the_return_page_takes_any_look_count(client, demo, odd):
    network = demo["oltre-il-ponte"]
    donor = Donor.objects.create(network=network, first_name="Ada", email="ada@example.org")
    gift = Donation.objects.create(network=network, donor=donor, amount_cents=1000)
    client.raise_request_exception = False
    url = reverse("campaigns:thanks", args=[donation_token(gift)])
    assert client.get(url, {"look": odd}).status_code == 200


@pytest.mark.parametrize("odd", ODD)
def test_the_door_refuses_an_odd_ticket_id_and_lets_nobody_in(
    client,
    treasurer,
    event,  # noqa: F811
    odd,
):
    response = client.post(reverse("events_checkin", args=[event.pk]), {"ticket": odd})
    assert response.status_code == 404
    assert not Ticket.objects.filter(checked_in_at__isnull=False).exists()


@pytest.mark.parametrize("odd", ODD)
def test_merging_with_an_odd_duplicate_id_merges_nothing(client, treasurer, demo, odd):
    keep = Donor.objects.create(network=demo["oltre-il-ponte"], first_name="Ada")
    response = client.post(reverse("crm_donor:merge", args=[keep.pk]), {"duplicate": odd})
    assert response.status_code == 404
    assert Donor.objects.filter(merged_into=keep).count() == 0


@pytest.mark.parametrize("odd", ODD)
@pytest.mark.parametrize(
    "address, name",
    [
        ("/admin/crm/in-kind/new/", "donor"),
        ("/admin/crm/payouts/year/", "network"),
        ("/admin/crm/payouts/year/", "entity"),
        ("/admin/crm/payouts/year/", "year"),
        ("/admin/crm/donations/export/summary/", "year"),
        ("/admin/crm/donations/export/receipts/", "year"),
        ("/admin/bulk/crm/donation/issue_receipts/", "id"),
        ("/admin/crm/donor-chooser/chosen-multiple/", "id"),
    ],
)
def test_odd_ids_in_an_admin_address_are_no_500(client, treasurer, odd, address, name):
    assert client.get(address, {name: odd}).status_code < 500


@pytest.mark.parametrize("odd", ODD)
def test_the_donor_chooser_finds_no_donor_by_an_odd_id(client, treasurer, odd):
    assert client.get(f"/admin/crm/donor-chooser/chosen/{odd}/").status_code == 404


@pytest.mark.parametrize("odd", ODD)
def test_the_page_chooser_ignores_odd_ids(client, demo, odd):
    client.force_login(_user("comunicazione-oltre-il-ponte"))
    client.raise_request_exception = False
    response = client.get("/admin/choose-page/chosen-multiple/", {"id": odd})
    assert response.status_code < 500


@pytest.mark.parametrize("odd", ODD)
def test_sign_in_security_refuses_an_odd_user_id(client, db, odd):
    admin = get_user_model().objects.create_superuser("capo", "capo@example.org", "x")
    client.force_login(admin)
    client.raise_request_exception = False
    response = client.post("/admin/sign-in-security/", {"two_step_off": odd})
    assert response.status_code == 400
