"""The story pages serve, in Italian and English, and communicators edit only their network."""

import io

import pytest
from django.contrib.auth import get_user_model

from cms.models import NetworkPage
from crm.models import Partner


@pytest.fixture
def client_as(client):
    def login(username):
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return login


def test_home_lists_both_networks(client, demo):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Oltre il Ponte" in html
    assert "Comunità Valle Serena" in html
    assert "Un doposcuola per ogni quartiere" in html  # an open campaign


def test_network_page_tells_the_story(client, demo):
    response = client.get("/oltre-il-ponte/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Chi siamo" in html
    assert "Comune di Lecco" in html  # partners block
    assert "1.240" in html  # key figures
    assert 'lang="it"' in html
    assert '<main id="main"' in html


def test_english_version(client, demo):
    response = client.get("/en/oltre-il-ponte/")
    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()


def test_names_are_escaped_on_pages(client, network_factory, demo):
    network = demo["oltre-il-ponte"]
    Partner.objects.create(network=network, name="<script>alert(1)</script>D'Alò")
    html = client.get("/oltre-il-ponte/").content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


def test_communicator_edits_own_network_page(client_as, demo):
    client = client_as("comunicazione-oltre-il-ponte")
    own = NetworkPage.objects.get(network=demo["oltre-il-ponte"])
    response = client.get(f"/admin/pages/{own.pk}/edit/")
    assert response.status_code == 200


def test_communicator_is_refused_other_network_pages(client_as, demo):
    client = client_as("comunicazione-oltre-il-ponte")
    other = NetworkPage.objects.get(network=demo["valle-serena"])
    assert client.get(f"/admin/pages/{other.pk}/edit/").status_code in (302, 403)
    response = client.post(f"/admin/pages/{other.pk}/edit/", {"title": "Hacked"})
    assert response.status_code in (302, 403)
    other.refresh_from_db()
    assert other.title == "Comunità Valle Serena"
    for child in other.get_descendants():
        assert client.get(f"/admin/pages/{child.pk}/edit/").status_code in (302, 403)
    assert client.get(f"/admin/pages/add/cms/standardpage/{other.pk}/").status_code in (302, 403)


def test_communicator_cannot_edit_home(client_as, demo):
    client = client_as("comunicazione-valle-serena")
    home = NetworkPage.objects.get(network=demo["valle-serena"]).get_parent()
    assert client.get(f"/admin/pages/{home.pk}/edit/").status_code in (302, 403)


def test_seed_is_idempotent(demo):
    from django.core.management import call_command

    from campaigns.models import CampaignPage
    from crm.models import IssuingEntity

    call_command("seed_demo", stdout=io.StringIO())
    assert NetworkPage.objects.count() == 2
    assert CampaignPage.objects.count() == 3
    assert IssuingEntity.objects.count() == 3


def test_the_promote_tab_speaks_italian(client_as, demo):
    """Wagtail's Italian catalogue leaves the Promote tab's "title tag" and "meta description"
    (and the title tag's help) in English; ours, read first (LOCALE_PATHS), translates them."""
    from wagtail.users.models import UserProfile

    # given a communicator whose admin is in Italian
    client = client_as("comunicazione-oltre-il-ponte")
    profile = UserProfile.get_for_user(
        get_user_model().objects.get(username="comunicazione-oltre-il-ponte")
    )
    profile.preferred_language = "it"
    profile.save()
    own = NetworkPage.objects.get(network=demo["oltre-il-ponte"])
    # when they open their page's editor
    html = client.get(f"/admin/pages/{own.pk}/edit/").content.decode()
    # then the Promote tab's labels read in Italian
    assert "Titolo nei risultati di ricerca" in html
    assert "Descrizione nei risultati di ricerca" in html
    assert "titolo cliccabile" in html
    # and so does the editor's check of an empty description (in a JSON attribute)
    assert "La descrizione per i motori di ricerca" in html
    for english in ("Title tag", "Meta description", "clickable headline", "concise description"):
        assert english not in html
