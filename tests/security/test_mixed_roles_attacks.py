"""One person, two roles in two networks (attack pass, 5 December 2026): communicator of
network A, treasurer of network B. Their treasurer's permissions are B's: in A they do what a
communicator does, never what only A's treasurers do. A's order could be cancelled and refunded,
A's funder report read (its gifts, with donors' names), A's instalments tied to A's gifts, and
A's organisations' money figures read, because the screens asked "is this user a treasurer
anywhere?" and "does this user reach this row?", not "a treasurer of this row's network?"."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from crm.models import Donation
from crm.money import format_amount
from crm.offline import record_offline_gift
from relations import verbs
from tests.campaigns.conftest import deliver, stripe_events  # noqa: F401 (fixtures)
from tests.events.conftest import _clear_cache, event, types  # noqa: F401 (fixtures)
from tests.events.test_door_and_money import paid_order  # noqa: F401 (a fixture)
from tests.relations.conftest import rel, users  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def two_hats(demo):
    """A's communicator, made treasurer of B as well."""
    user = get_user_model().objects.get(username="comunicazione-oltre-il-ponte")
    user.groups.add(demo["valle-serena"].treasurers_group)
    return user


def test_a_treasurer_of_another_network_cannot_refund_an_order_here(
    client,
    two_hats,
    paid_order,  # noqa: F811
):
    client.force_login(two_hats)
    url = reverse("events_order_cancel", args=[paid_order.pk])
    # refused (Wagtail sends who lacks a permission home with a message)
    assert client.get(url).status_code in (302, 403, 404)
    assert client.post(url, {"reason": "Annullato"}).status_code in (302, 403, 404)
    paid_order.refresh_from_db()
    assert paid_order.status == "paid"
    # the door is still theirs, as A's communicator
    page = client.get(reverse("events_admin_event", args=[paid_order.event_id]))
    assert page.status_code == 200
    assert url not in page.content.decode()  # no cancel button offered


@pytest.fixture
def pledged_gift(rel):  # noqa: F811
    ask = verbs.opportunity_from_call(rel["a"]["call"])
    promise = verbs.pledge(ask, amount_cents=900_000, instalments=3, first_due_on=TODAY)
    first = promise.instalments.get(number=1)
    gift = record_offline_gift(
        network=ask.network,
        donor=rel["a"]["donor"],
        amount_cents=first.amount_cents,
        received_on=TODAY,
        method=Donation.Method.BANK_TRANSFER,
        confirm=False,
    )
    return first, gift


def test_a_treasurer_of_another_network_reads_no_money_of_an_organisation_here(
    client,
    two_hats,
    rel,  # noqa: F811
    pledged_gift,
):
    organisation = rel["a"]["organisation"]
    client.force_login(two_hats)
    report = reverse("relations_organisation:funder_report", args=[organisation.pk])
    assert client.get(report).status_code in (403, 404)
    inspect = client.get(reverse("relations_organisation:inspect", args=[organisation.pk]))
    assert inspect.status_code == 200  # A's communicator reads the organisation
    text = inspect.content.decode()
    assert report not in text
    assert format_amount(300_000) not in text


def test_a_treasurer_of_another_network_links_no_gift_here(client, two_hats, pledged_gift):
    instalment, gift = pledged_gift
    client.force_login(two_hats)
    link = reverse("relations_opportunity:link_gift", args=[instalment.pk])
    assert client.get(link).status_code in (403, 404)
    assert client.post(link, {"donation": gift.pk}).status_code in (403, 404)
    instalment.refresh_from_db()
    assert instalment.donation is None
    ask = reverse("relations_opportunity:inspect", args=[instalment.pledge.opportunity_id])
    assert link not in client.get(ask).content.decode()


def test_the_networks_own_treasurer_still_does_all_of_it(client, users, rel, pledged_gift):  # noqa: F811
    instalment, gift = pledged_gift
    client.force_login(users["tesoreria-oltre-il-ponte"])
    link = reverse("relations_opportunity:link_gift", args=[instalment.pk])
    assert client.post(link, {"donation": gift.pk}).status_code == 302
    instalment.refresh_from_db()
    assert instalment.donation == gift
    organisation = rel["a"]["organisation"]
    report = reverse("relations_organisation:funder_report", args=[organisation.pk])
    assert client.get(report).status_code == 200
    inspect = client.get(reverse("relations_organisation:inspect", args=[organisation.pk]))
    assert report in inspect.content.decode()


# --- an entity's own treasurer (they read its gifts) who is another network's treasurer ------


@pytest.fixture
def partner_gift(demo):
    from crm.models import Donor
    from tests.entities import partner_entity

    network = demo["oltre-il-ponte"]
    partner = partner_entity(network)
    donor = Donor.objects.create(network=network, first_name="Ada", email="ada@example.org")
    gift = Donation.objects.create(
        network=network,
        entity=partner,
        donor=donor,
        amount_cents=5000,
        received_on=TODAY,
        status=Donation.Status.SUCCEEDED,
        channel=Donation.Channel.ONLINE,
        stripe_charge_id="ch_partner",
    )
    return partner, gift


@pytest.fixture
def entity_and_network_treasurer(demo, partner_gift):
    partner, _gift = partner_gift
    user = get_user_model().objects.create_user("doppio", "doppio@example.org", "x")
    user.groups.add(partner.treasurers_group, demo["valle-serena"].treasurers_group)
    return user


def test_an_entity_treasurer_treasurer_elsewhere_only_reads_the_entitys_gifts(
    client, entity_and_network_treasurer, partner_gift
):
    _partner, gift = partner_gift
    client.force_login(entity_and_network_treasurer)
    # they read the gift, as the entity's treasurer
    assert client.get(reverse("crm_donation:inspect", args=[gift.pk])).status_code == 200
    # and neither refund it nor issue its receipt: the network's treasurers do
    for name in ("campaigns_refund", "crm_donation:issue_receipt"):
        url = reverse(name, args=[gift.pk])
        assert client.get(url).status_code in (302, 403, 404), name
        assert client.post(url, {"amount": "50", "reason": "x", "confirm": "1"}).status_code in (
            302,
            403,
            404,
        ), name
    gift.refresh_from_db()
    assert gift.refunded_cents == 0 and not gift.receipts.exists()


def test_nor_through_the_bulk_actions(client, entity_and_network_treasurer, partner_gift):
    _partner, gift = partner_gift
    client.force_login(entity_and_network_treasurer)
    url = f"/admin/bulk/crm/donation/issue_receipts/?id={gift.pk}&next=/admin/crm/donations/"
    client.post(url, {"email": "", "include_not_asked": "on", "include_missing": "on"})
    assert not gift.receipts.exists()


def test_nor_starts_the_entitys_yearly_statements(
    client, entity_and_network_treasurer, partner_gift
):
    from crm.models import StatementRun

    partner, _gift = partner_gift
    client.force_login(entity_and_network_treasurer)
    url = reverse("crm_yearly:entity_statements", args=[partner.pk, TODAY.year - 1])
    assert client.get(url).status_code == 200  # they read the preview, as its treasurer
    assert client.post(url, {"send_email": ""}).status_code in (302, 403)
    assert not StatementRun.objects.exists()


def test_a_user_of_two_networks_gives_a_task_here_to_nobody_of_the_other(client, demo, rel):  # noqa: F811
    from relations.models import Task

    user = get_user_model().objects.get(username="comunicazione-oltre-il-ponte")
    user.groups.add(demo["valle-serena"].communicators_group)
    other = get_user_model().objects.get(username="comunicazione-valle-serena")
    client.force_login(user)
    response = client.post(
        reverse("relations_task:add"),
        {
            "network": demo["oltre-il-ponte"].pk,
            "title": "Richiamare la Fondazione Zebedeo",
            "due_on": TODAY.strftime("%d/%m/%Y"),
            "owner": other.pk,  # emailed the reminders of network A's task
        },
    )
    assert response.status_code == 200
    assert "Scegline uno della stessa rete." in response.content.decode()
    assert not Task.objects.exists()
