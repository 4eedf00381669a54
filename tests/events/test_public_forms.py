"""The public forms of events/ get the giving form's protections (issue 25's attacker's pass):
a honeypot and per-client limits (a translated 429 with Retry-After, nothing created), the
confirmation link confirms only when its button is pressed (mail scanners open links), and a
personal page's photo is a real image of bounded size."""

import io
import os
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from events.models import Fundraiser, Order
from events.tokens import confirm_token
from tests.campaigns.conftest import campaign  # noqa: F401
from tests.events.test_fundraisers import PAGE
from tests.events.test_tickets import BUYER, buy_url

pytestmark = pytest.mark.django_db


def _start(client, campaign, **extra):  # noqa: F811
    return client.post(reverse("events:fundraiser_start", args=[campaign.pk]), {**PAGE, **extra})


def test_the_open_a_page_form_has_a_honeypot(client, campaign):  # noqa: F811
    form = client.get(reverse("events:fundraiser_start", args=[campaign.pk])).content.decode()
    assert 'name="website"' in form
    response = _start(client, campaign, website="http://spam.example")
    assert response.status_code == 400
    assert not Fundraiser.objects.exists() and not mail.outbox


@pytest.mark.parametrize("language,text", [("it", "Troppi tentativi"), ("en", "Too many attempts")])
def test_opening_pages_is_limited_per_client(client, campaign, settings, language, text):  # noqa: F811
    settings.FUNDRAISER_RATE_LIMITS = {"ip": (2, 3600)}
    prefix = "" if language == "it" else "/en"
    url = prefix + reverse("events:fundraiser_start", args=[campaign.pk]).removeprefix("/en")
    for n in range(2):
        assert client.post(url, {**PAGE, "email": f"s{n}@example.org"}).status_code == 200
    refused = client.post(url, {**PAGE, "email": "s9@example.org"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert text in refused.content.decode()
    assert Fundraiser.objects.count() == 2


def test_opening_pages_is_limited_per_email(client, campaign, settings):  # noqa: F811
    settings.FUNDRAISER_RATE_LIMITS = {"email": (1, 3600)}
    assert _start(client, campaign).status_code == 200
    assert _start(client, campaign, email="Luca+2@Example.org").status_code == 429
    assert Fundraiser.objects.count() == 1


def test_the_ticket_form_shows_its_honeypot(client, event, types):
    html = client.get(event.url).content.decode()
    assert 'name="website"' in html
    form = {**BUYER, f"qty_{types['Adulto'].pk}": "1", "website": "x"}
    assert client.post(buy_url(event), form).status_code == 400
    assert not Order.objects.exists()


def test_ticket_starts_are_limited_per_client(client, event, types, settings):
    settings.GIVING_RATE_LIMITS = {"ip": (1, 3600)}
    free = {f"qty_{types['Bambino'].pk}": "1"}
    assert client.post(buy_url(event), {**BUYER, **free}).status_code == 303
    refused = client.post(buy_url(event), {**BUYER, **free, "email": "b@example.org"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Troppi tentativi" in refused.content.decode()
    assert Order.objects.count() == 1


def test_the_confirmation_link_confirms_only_with_its_button(campaign):  # noqa: F811
    _start(Client(), campaign)
    page = Fundraiser.objects.get()
    browser = Client(enforce_csrf_checks=True)  # the button must work with CSRF checked
    url = reverse("events:fundraiser_confirm", args=[confirm_token(page)])
    shown = browser.get(url)  # what a mail scanner does
    assert shown.status_code == 200
    page.refresh_from_db()
    assert page.status == "unconfirmed"
    html = shown.content.decode()
    assert re.search(r'<form[^>]*method="post"', html)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    confirmed = browser.post(url, {"csrfmiddlewaretoken": token})
    assert confirmed.status_code == 200
    assert 'data-testid="fundraiser-confirmed"' in confirmed.content.decode()
    page.refresh_from_db()
    assert page.status == "pending"
    # single use: the second press changes nothing and logs nothing again
    browser.post(url, {"csrfmiddlewaretoken": token})
    assert list(page.history.values_list("action", flat=True)).count("confirmed") == 1


def test_a_forged_confirmation_post_confirms_nothing(client, campaign):  # noqa: F811
    _start(client, campaign)
    page = Fundraiser.objects.get()
    assert client.post(reverse("events:fundraiser_confirm", args=[str(page.pk)])).status_code == 404
    page.refresh_from_db()
    assert page.status == "unconfirmed"


def _png(padding=0):
    out = io.BytesIO()
    Image.frombytes("RGB", (40, 30), os.urandom(40 * 30 * 3)).save(out, "PNG")  # ~3.6 kB
    return out.getvalue() + b"\0" * padding


def _with_photo(client, campaign, content, name="me.jpg"):  # noqa: F811
    photo = SimpleUploadedFile(name, content, content_type="image/jpeg")
    return _start(client, campaign, photo=photo, photo_alt="Io che corro")


def test_a_20_mb_photo_is_refused(client, campaign, tmp_path, settings):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    response = _with_photo(client, campaign, _png(padding=20 * 1024 * 1024))
    assert response.status_code == 400
    assert "5 MB" in response.content.decode()
    assert not Fundraiser.objects.exists() and not any(tmp_path.rglob("*.*"))


def test_the_photo_limit_is_a_setting(client, campaign, tmp_path, settings):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    settings.FUNDRAISER_PHOTO_MAX_BYTES = 1000
    assert _with_photo(client, campaign, _png()).status_code == 400
    settings.FUNDRAISER_PHOTO_MAX_BYTES = 5 * 1024 * 1024
    assert _with_photo(client, campaign, _png()).status_code == 200
    assert Fundraiser.objects.get().photo


def test_a_text_file_named_jpg_is_refused(client, campaign, tmp_path, settings):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    response = _with_photo(client, campaign, b"not an image at all\n" * 50)
    assert response.status_code == 400
    assert not Fundraiser.objects.exists() and not any(tmp_path.rglob("*.*"))


def test_the_ticket_honeypot_is_a_field_bots_fill(client, event):
    """As on the donation form: a text field moved off screen, not a hidden input (a bot
    leaves hidden inputs as they are)."""
    html = client.get(event.url).content.decode()
    assert re.search(
        r'<div class="hp" aria-hidden="true">.*?<input type="text" name="website"', html, re.S
    )


def test_a_busy_event_asks_the_challenge(client, event, types, settings):
    from tests.campaigns.test_card_testing_attack import solve

    settings.GIVING_RATE_LIMITS = {"campaign": (0, 3600)}  # threshold 0: always asked
    form = {**BUYER, f"qty_{types['Bambino'].pk}": "1"}
    asked = client.post(buy_url(event), form)
    assert asked.status_code == 400 and not Order.objects.exists()
    html = asked.content.decode()
    assert 'data-testid="challenge"' in html and "js/proof_of_work.js" in html
    assert client.post(buy_url(event), {**form, **solve(html)}).status_code == 303
    assert Order.objects.count() == 1


def test_a_cached_ticket_form_sent_without_a_token_gets_the_form_back(event, types):
    """The event page may come from the page cache (no CSRF token in it): without JavaScript
    the buyer gets their form back with a token and a sentence, not Django's plain page."""
    browser = Client(enforce_csrf_checks=True)
    form = {**BUYER, f"qty_{types['Adulto'].pk}": "2"}
    refused = browser.post(buy_url(event), form)
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "Il tuo ordine non è stato avviato: non è stato addebitato nulla." in html
    assert 'name="csrfmiddlewaretoken"' in html and 'value="Giulia"' in html
    assert not Order.objects.exists()


def test_a_ticket_buyer_address_longer_than_the_column_is_refused(client, event, types):
    # found walking the demo: Django's validator takes 300 characters, the buyer's and the
    # donor's email columns keep 254 (a 500 on PostgreSQL when the order is written)
    from tests.security.test_walk_doors import LONG_EMAIL

    form = {**BUYER, f"qty_{types['Adulto'].pk}": "1", "email": LONG_EMAIL}
    response = client.post(buy_url(event), form)
    assert response.status_code == 400
    assert "non contenga più di 254 caratteri" in response.content.decode()
    assert not Order.objects.exists()
