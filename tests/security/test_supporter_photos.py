"""A supporter's photo (attack pass, 5 December 2026): it was a public file under /media/, kept
under the name it was sent with, from the moment the form was sent: anyone could host any
image on the charity's domain without confirming an email or waiting for approval. Photos now
live on the private storage under random names, and leave only through a view that serves a
public page's photo, and the moderation screen to the page's own network."""

import importlib
import io
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import re_path, reverse
from django.views.static import serve
from PIL import Image
from wagtail.models import PageViewRestriction

from config import urls as project_urls
from events import fundraisers
from events.models import Fundraiser
from tests.campaigns.conftest import campaign  # noqa: F401 (a fixture)
from tests.events.test_fundraisers import PAGE

MIGRATION = "events.migrations.0005_fundraiser_photos_on_private_storage"
RANDOM_NAME = re.compile(r"^fundraisers/[0-9a-f]{32}\.(png|jpg)$")


def _public_media(request, path):
    """/media/ as config/urls.py serves it with DEBUG on, reading MEDIA_ROOT per request."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [re_path(r"^media/(?P<path>.*)$", _public_media), *project_urls.urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def _png():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def sent(client, campaign, media_root, django_capture_on_commit_callbacks):  # noqa: F811
    """A page opened by a stranger with a PNG named like a JPEG."""
    photo = SimpleUploadedFile("la mia foto.jpg", _png(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("events:fundraiser_start", args=[campaign.pk]),
            {**PAGE, "photo": photo, "photo_alt": "Io che corro"},
        )
    assert response.status_code == 200, response.content.decode()[:2000]
    return Fundraiser.objects.get()


def _approve(page):
    Fundraiser.objects.filter(pk=page.pk).update(status=Fundraiser.Status.PENDING)
    assert fundraisers.moderate(page.pk, "approve", by="comunicazione")


def _photo_url(page):
    return reverse("events:fundraiser_photo", args=[page.slug])


def test_a_photo_is_private_under_a_random_name_with_its_real_extension(client, sent, media_root):
    assert RANDOM_NAME.match(sent.photo.name)
    assert sent.photo.name.endswith(".png")  # what the file is, not what it was called
    assert "mia" not in sent.photo.name
    assert storages["private"].exists(sent.photo.name)
    assert [p for p in media_root.rglob("*") if p.is_file()] == []
    assert client.get(f"/media/{sent.photo.name}").status_code == 404
    assert client.get("/media/fundraisers/la mia foto.jpg").status_code == 404
    _approve(sent)
    assert client.get(f"/media/{sent.photo.name}").status_code == 404


@pytest.mark.parametrize("status", ["unconfirmed", "pending", "hidden", "closed"])
def test_the_photo_of_a_page_not_public_is_a_404(client, sent, status):
    Fundraiser.objects.filter(pk=sent.pk).update(status=status)
    assert client.get(_photo_url(sent)).status_code == 404
    user = get_user_model().objects.get(username="tesoreria-oltre-il-ponte")
    client.force_login(user)  # staff see it in the admin, not from the public address
    assert client.get(_photo_url(sent)).status_code == 404


@pytest.mark.parametrize("how", ["unpublished", "password"])
def test_the_photo_of_a_page_whose_campaign_is_not_public_is_a_404(
    client,
    campaign,  # noqa: F811
    sent,
    how,
    django_capture_on_commit_callbacks,
):
    _approve(sent)
    assert client.get(_photo_url(sent)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        if how == "unpublished":
            campaign.unpublish()
        else:
            PageViewRestriction.objects.create(
                page=campaign, restriction_type=PageViewRestriction.PASSWORD, password="x"
            )
    assert client.get(_photo_url(sent)).status_code == 404


def test_the_photo_of_a_public_page_is_served_as_an_image(client, sent):
    _approve(sent)
    page = client.get(reverse("events:fundraiser", args=[sent.slug])).content.decode()
    assert f'src="{_photo_url(sent)}"' in page
    response = client.get(_photo_url(sent))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == _png()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "max-age=" in response["Cache-Control"]
    assert "la mia foto" not in response.get("Content-Disposition", "")


def test_a_page_without_a_photo_has_none_to_serve(client, sent):
    Fundraiser.objects.filter(pk=sent.pk).update(photo="")
    _approve(sent)
    assert client.get(_photo_url(sent)).status_code == 404


def test_the_networks_staff_see_the_photo_before_approval_others_do_not(client, sent):
    screen = reverse("events_fundraiser", args=[sent.pk])
    photo = reverse("events_fundraiser_photo", args=[sent.pk])
    client.force_login(get_user_model().objects.get(username="tesoreria-valle-serena"))
    assert client.get(photo).status_code in (403, 404)
    client.force_login(get_user_model().objects.get(username="tesoreria-oltre-il-ponte"))
    assert f'src="{photo}"' in client.get(screen).content.decode()
    response = client.get(photo)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]


def test_the_migration_moves_a_public_photo_to_private_storage(client, sent, media_root):
    # given a photo stored the old way: a public file under the name it was sent with
    old = default_storage.save("fundraisers/la mia foto.jpg", ContentFile(_png()))
    Fundraiser.objects.filter(pk=sent.pk).update(photo=old)
    missing = Fundraiser.objects.create(
        network=sent.network,
        campaign=sent.campaign,
        title="Senza file",
        owner_name="Anna",
        email="anna@example.org",
        story="…",
        goal_cents=100,
        photo="fundraisers/gone.jpg",
    )
    assert client.get(f"/media/{old}").status_code == 200  # the leak this migration closes

    move = importlib.import_module(MIGRATION).move_photos_to_private_storage
    move(apps, connection.schema_editor())

    sent.refresh_from_db()
    assert RANDOM_NAME.match(sent.photo.name) and sent.photo.name.endswith(".png")
    with storages["private"].open(sent.photo.name, "rb") as moved:
        assert moved.read() == _png()
    assert not default_storage.exists(old)
    assert client.get(f"/media/{old}").status_code == 404
    missing.refresh_from_db()
    assert missing.photo.name == "fundraisers/gone.jpg"  # left as it was, nothing to move

    # a rerun (after a crash) moves nothing twice
    name = sent.photo.name
    move(apps, connection.schema_editor())
    sent.refresh_from_db()
    assert sent.photo.name == name and storages["private"].exists(name)

    # undone (migrating back): the file is public again, where the old field looks for it
    importlib.import_module(MIGRATION).move_photos_back_to_public_storage(
        apps, connection.schema_editor()
    )
    sent.refresh_from_db()
    assert sent.photo.name == name and default_storage.exists(name)
    assert not storages["private"].exists(name)
