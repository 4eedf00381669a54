"""Deleting calls, organisations and asks (refused where money is linked), and a treasurer
unlinking a gift from its instalment."""

import datetime

import pytest
from django.urls import reverse

from crm.models import Donation
from crm.offline import record_offline_gift
from relations import verbs
from relations.models import Call, Instalment, Opportunity, Organisation, Pledge

TODAY = datetime.date.today()
COMMUNICATOR_A, TREASURER_A = "comunicazione-oltre-il-ponte", "tesoreria-oltre-il-ponte"
COMMUNICATOR_B, TREASURER_B = "comunicazione-valle-serena", "tesoreria-valle-serena"


@pytest.fixture
def pledged(rel):
    ask = verbs.opportunity_from_call(rel["a"]["call"])
    promise = verbs.pledge(ask, amount_cents=900_000, instalments=3, first_due_on=TODAY)
    return ask, promise


@pytest.fixture
def paid(pledged, rel):
    ask, promise = pledged
    first = promise.instalments.get(number=1)
    gift = record_offline_gift(
        network=ask.network,
        donor=rel["a"]["donor"],
        amount_cents=first.amount_cents,
        received_on=TODAY,
        method=Donation.Method.BANK_TRANSFER,
        confirm=False,
    )
    verbs.link_payment(first, gift)
    return first, gift


def test_a_communicator_deletes_a_call_of_their_network(client, users, rel):
    call = rel["a"]["call"]
    client.force_login(users[COMMUNICATOR_A])
    url = reverse("relations_call:delete", args=[call.pk])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert not Call.objects.filter(pk=call.pk).exists()


@pytest.mark.parametrize("who", [COMMUNICATOR_B, TREASURER_B])
def test_the_other_network_deletes_nothing(client, users, pledged, rel, who):
    ask, _promise = pledged
    client.force_login(users[who])
    for name, row in (
        ("relations_call:delete", rel["a"]["call"]),
        ("relations_opportunity:delete", ask),
        ("relations_organisation:delete", rel["a"]["organisation"]),
    ):
        url = reverse(name, args=[row.pk])
        assert client.get(url).status_code in (403, 404)
        assert client.post(url).status_code in (403, 404)
        assert type(row).objects.filter(pk=row.pk).exists()


def test_an_ask_with_an_unpaid_pledge_goes_with_its_schedule(client, users, pledged):
    ask, promise = pledged
    client.force_login(users[COMMUNICATOR_A])
    assert client.post(reverse("relations_opportunity:delete", args=[ask.pk])).status_code == 302
    assert not Opportunity.objects.filter(pk=ask.pk).exists()
    assert not Pledge.objects.filter(pk=promise.pk).exists()
    assert not Instalment.objects.filter(pledge_id=promise.pk).exists()


def test_money_linked_refuses_deleting_the_ask_and_the_organisation(client, users, paid, rel):
    first, _gift = paid
    ask = first.pledge.opportunity
    organisation = rel["a"]["organisation"]
    client.force_login(users[COMMUNICATOR_A])
    for name, row in (
        ("relations_opportunity:delete", ask),
        ("relations_organisation:delete", organisation),
    ):
        url = reverse(name, args=[row.pk])
        page = client.get(url)
        assert "paid instalments" in page.content.decode()
        response = client.post(url, follow=True)
        assert "paid instalments" in response.content.decode()
        assert type(row).objects.filter(pk=row.pk).exists()
    assert Instalment.objects.filter(pk=first.pk, donation__isnull=False).exists()


def test_an_organisation_without_money_goes_with_its_asks_and_calls(client, users, pledged, rel):
    ask, promise = pledged
    organisation = rel["a"]["organisation"]
    client.force_login(users[COMMUNICATOR_A])
    url = reverse("relations_organisation:delete", args=[organisation.pk])
    assert client.post(url).status_code == 302
    assert not Organisation.objects.filter(pk=organisation.pk).exists()
    assert not Opportunity.objects.filter(pk=ask.pk).exists()
    assert not Call.objects.filter(pk=rel["a"]["call"].pk).exists()


def test_only_a_treasurer_unlinks_a_gift(client, users, paid):
    first, _gift = paid
    url = reverse("relations_opportunity:unlink_gift", args=[first.pk])
    client.force_login(users[COMMUNICATOR_A])
    assert client.post(url).status_code in (302, 403)
    first.refresh_from_db()
    assert first.donation_id is not None
    client.force_login(users[TREASURER_B])
    assert client.post(url).status_code in (403, 404)
    first.refresh_from_db()
    assert first.donation_id is not None
    client.force_login(users[TREASURER_A])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    first.refresh_from_db()
    assert first.donation_id is None and first.linked_by is None


def _schedule(amount="12.000,00", count="4"):
    return {
        "kind": "grant",
        "amount": amount,
        "instalments": count,
        "first_due_on": TODAY.isoformat(),
        "every_months": "3",
    }


def test_a_communicator_fixes_the_schedule_while_nothing_is_paid(client, users, pledged):
    ask, promise = pledged
    url = reverse("relations_opportunity:schedule", args=[ask.pk])
    client.force_login(users[COMMUNICATOR_B])
    assert client.post(url, _schedule()).status_code in (403, 404)
    assert promise.instalments.count() == 3
    client.force_login(users[COMMUNICATOR_A])
    assert client.get(url).status_code == 200
    assert client.post(url, _schedule()).status_code == 302
    promise.refresh_from_db()
    ask.refresh_from_db()
    assert promise.amount_cents == ask.amount_cents == 1_200_000
    assert promise.kind == "grant"
    parts = list(promise.instalments.order_by("number").values_list("amount_cents", flat=True))
    assert parts == [300_000] * 4


def test_a_paid_instalment_keeps_the_schedule(client, users, paid):
    first, gift = paid
    promise = first.pledge
    client.force_login(users[COMMUNICATOR_A])
    url = reverse("relations_opportunity:schedule", args=[promise.opportunity_id])
    response = client.post(url, _schedule())
    assert response.status_code == 400
    assert "paid" in response.content.decode()
    assert promise.instalments.count() == 3
    first.refresh_from_db()
    assert first.donation == gift and first.amount_cents == 300_000


def test_the_asks_page_offers_what_each_role_may_do(client, users, paid):
    first, _gift = paid
    page = reverse("relations_opportunity:inspect", args=[first.pledge.opportunity_id])
    unlink = reverse("relations_opportunity:unlink_gift", args=[first.pk])
    schedule = reverse("relations_opportunity:schedule", args=[first.pledge.opportunity_id])
    client.force_login(users[COMMUNICATOR_A])
    html = client.get(page).content.decode()
    assert unlink not in html and schedule not in html  # paid: no schedule change
    client.force_login(users[TREASURER_A])
    assert unlink in client.get(page).content.decode()
    client.post(unlink)
    assert schedule in client.get(page).content.decode()
