"""Each network and partner entity gets groups of its own, whatever their names: two networks
of one name, two partners of one legal name, a group an administrator made by hand."""

import pytest
from django.contrib.auth.models import Group

from crm.models import Network
from tests.entities import partner_entity

pytestmark = pytest.mark.django_db


def test_two_networks_of_one_name_get_groups_of_their_own(network_factory):
    first = network_factory("rete-lecco", name="Rete Welfare")
    second = network_factory("rete-como", name="Rete Welfare")

    assert first.treasurers_group != second.treasurers_group
    assert first.communicators_group != second.communicators_group
    assert second.treasurers_group.name == "Rete Welfare · tesoreria (2)"
    assert second.communicators_group.name == "Rete Welfare · comunicazione (2)"


def test_a_group_made_by_hand_is_not_taken_over(network_factory, django_user_model):
    stranger = django_user_model.objects.create_user("estraneo", password="x")
    by_hand = Group.objects.create(name="Rete Nuova · tesoreria")
    stranger.groups.add(by_hand)

    network = network_factory("rete-nuova", name="Rete Nuova")

    assert network.treasurers_group != by_hand
    assert not Network.objects.for_user(stranger).exists()


def test_two_partners_of_one_legal_name_get_groups_of_their_own(network_factory):
    network = network_factory()
    first = partner_entity(network)
    second = partner_entity(network, receipt_series="CQ", codice_fiscale="01234560158")

    assert first.treasurers_group is not None
    assert second.treasurers_group is not None
    assert first.treasurers_group != second.treasurers_group
