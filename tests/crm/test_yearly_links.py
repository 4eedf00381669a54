"""The Year end screen's network rows open what they say. A network with one issuing entity
previews its statements from its row; a network with several has one preview per entity (the
entities' table below): its row used to offer "Preview statements", which came back to the
Year end screen itself, and "Agenzia Entrate data", which opened the lead entity's alone."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests.entities import partner_entity

pytestmark = pytest.mark.django_db

Y = 2025
EACH_ENTITY = {
    "it": "Ogni ente emittente ha le sue dichiarazioni annuali",
    "en": "Each issuing entity has its own statements",
}


@pytest.fixture
def networks(network_factory):
    """A network with one entity and one with two, and a treasurer of both."""
    single = network_factory("rete-sola", receipt_series="RS")
    several = network_factory("rete-enti", receipt_series="RE")
    partner_entity(several)
    treasurer = get_user_model().objects.create_user("tesoriere-due-reti", password="x")
    treasurer.groups.add(single.treasurers_group, several.treasurers_group)
    return single, several, treasurer


def _network_rows(page):
    table = re.search(r'data-testid="networks".*?</table>', page, re.S).group(0)
    return re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]  # the heading row left out


@pytest.mark.parametrize("language", ["it", "en"])
def test_each_network_row_opens_what_it_says(client, networks, language):
    single, several, treasurer = networks
    profile = UserProfile.get_for_user(treasurer)
    profile.preferred_language = language
    profile.save()
    client.force_login(treasurer)
    index = reverse("crm_yearly:index")
    page = client.get(index, {"year": Y}).content.decode()
    rows = _network_rows(page)
    single_rows = [row for row in rows if single.name in row]
    several_rows = [row for row in rows if several.name in row]
    assert single_rows and several_rows
    # the one-entity network's buttons open its preview and its Agenzia data
    for row in single_rows:
        links = re.findall(r'href="([^"]+)"', row)
        assert len(links) == 2, row
        for link in links:
            response = client.get(link)
            assert response.status_code == 200, link
            assert single.legal_name in response.content.decode()
        assert "preview-summary" in client.get(links[0]).content.decode()
    # the several-entity network's row offers no button that leads back here, and says
    # where its statements are
    for row in several_rows:
        assert "href=" not in row, row
        assert EACH_ENTITY[language] in row
    # where every entity has its own preview
    for entity in several.entities.all():
        url = reverse("crm_yearly:entity_statements", args=[entity.pk, Y])
        assert url in page
        response = client.get(url)
        assert response.status_code == 200 and "preview-summary" in response.content.decode()
