"""Superusers set networks up in the admin; nobody else reaches that screen."""

import pytest
from django.contrib.auth import get_user_model

from crm.models import Network


@pytest.fixture
def superuser_client(client, demo):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def test_superuser_adds_a_network_with_partners(superuser_client):
    response = superuser_client.post(
        "/admin/networks/new/",
        {
            "name": "Rete Nuova",
            "slug": "rete-nuova",
            "legal_name": "Rete Nuova APS",
            "codice_fiscale": "92012340011",
            "entity_kind": "aps",
            "tax_regime": "detraction_30",
            "street_address": "Via Po 1",
            "postal_code": "10100",
            "city": "Torino",
            "province": "to",
            "signer_name": "Luca Bianchi",
            "signer_role": "Presidente",
            "min_amount_cents": 500,
            "max_amount_cents": 100000,
            "partners-TOTAL_FORMS": 1,
            "partners-INITIAL_FORMS": 0,
            "partners-MIN_NUM_FORMS": 0,
            "partners-MAX_NUM_FORMS": 1000,
            "partners-0-name": "Comune di Torino",
            "partners-0-role": "Ente pubblico",
            "partners-0-ORDER": 1,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    network = Network.objects.get(slug="rete-nuova")
    assert network.province == "TO"
    assert [p.name for p in network.partners.all()] == ["Comune di Torino"]
    assert network.treasurers_group is not None


def test_bad_codice_fiscale_is_refused_with_a_clear_error(superuser_client):
    response = superuser_client.post(
        "/admin/networks/new/",
        {
            "name": "X",
            "slug": "x",
            "legal_name": "X",
            "codice_fiscale": "RSSMRA85T10A562T",
            "entity_kind": "aps",
            "tax_regime": "none",
            "street_address": "V",
            "postal_code": "1",
            "city": "C",
            "signer_name": "S",
            "signer_role": "R",
            "min_amount_cents": 500,
            "max_amount_cents": 1000,
            "partners-TOTAL_FORMS": 0,
            "partners-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "carattere di controllo" in response.content.decode()  # the admin speaks Italian
    assert not Network.objects.filter(slug="x").exists()


@pytest.mark.parametrize("username", ["tesoreria-oltre-il-ponte", "comunicazione-valle-serena"])
def test_only_superusers_reach_networks(client, demo, username):
    client.force_login(get_user_model().objects.get(username=username))
    network = demo["oltre-il-ponte"]
    for url in ("/admin/networks/", f"/admin/networks/edit/{network.pk}/", "/admin/networks/new/"):
        assert client.get(url).status_code in (302, 403), url


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_network_page_is_not_copied_but_explained(superuser_client, language):
    """Each network has exactly one page: copying it would need a second network link."""
    from cms.models import NetworkPage

    page = NetworkPage.objects.order_by("pk").first()
    pages_before = NetworkPage.objects.count()
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(get_user_model().objects.get(username="admin"))
    profile.preferred_language = language
    profile.save()
    url = f"/admin/pages/{page.pk}/copy/"
    response = superuser_client.get(url, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    expected = {
        "it": "La pagina di una rete non si copia",
        "en": "A network's page cannot be copied",
    }[language]
    assert expected in text.replace("&#x27;", "'")
    response = superuser_client.post(
        url,
        {"new_title": "Copia", "new_slug": "copia", "new_parent_page": page.get_parent().pk},
        follow=True,
    )
    assert response.status_code == 200
    assert NetworkPage.objects.count() == pages_before


def test_a_home_page_copy_with_network_pages_below_is_refused(superuser_client):
    from cms.models import NetworkPage

    home = NetworkPage.objects.order_by("pk").first().get_parent()
    response = superuser_client.post(
        f"/admin/pages/{home.pk}/copy/",
        {
            "new_title": "Copia",
            "new_slug": "copia-home",
            "new_parent_page": home.get_parent().pk,
            "copy_subpages": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert not type(home).objects.filter(slug="copia-home").exists()
