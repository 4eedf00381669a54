"""Public pages from the shared cache (issue 21, cms.pagecache): an anonymous visitor's second
view of a story or campaign page is served whole, without a query; publishing changes it; live
figures and the form's CSRF token come from their own small endpoints, so a cached page still
shows today's money and still takes a gift."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from wagtail.models import Page

from campaigns.models import CampaignPage
from cms.models import HomePage
from cms.pagecache import HIT_HEADER, TOKEN_PLACEHOLDER
from crm import gifts
from crm.models import Donation
from crm.money import fiscal_today

FORM = {
    "amount": "2500",
    "frequency": "once",
    "first_name": "Anna",
    "last_name": "Rossi",
    "email": "anna.rossi@example.org",
    "privacy": "on",
}


@pytest.fixture(autouse=True)
def _clear_caches(db):
    for alias in ("default", "fragments", "renditions"):
        caches[alias].clear()
    yield
    for alias in ("default", "fragments", "renditions"):
        caches[alias].clear()


@pytest.fixture
def campaign(demo):
    page = CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")
    page.suggested_amounts = "10 25 50"
    page.save_revision().publish()
    return CampaignPage.objects.get(pk=page.pk)


@pytest.fixture
def memory_cache(settings):
    """The shared cache in memory, as Redis would be: a hit then reads no database at all."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    yield
    cache.clear()


def _url(page, language="it"):
    with translation.override(language):
        return page.get_url()


def _give(campaign):
    with translation.override("it"):
        return reverse("campaigns:give", args=[campaign.pk])


def _paid(campaign, cents, charge):
    gift = Donation.objects.create(
        network=campaign.network,
        campaign=campaign,
        amount_cents=cents,
        status=Donation.Status.PENDING,
    )
    gifts.record_payment(
        gift,
        amount_cents=cents,
        currency="eur",
        received_on=fiscal_today(),
        stripe_charge_id=charge,
    )


def test_an_anonymous_second_view_is_served_from_the_cache_without_a_query(
    client, campaign, memory_cache, django_assert_num_queries
):
    url = _url(campaign)
    first = client.get(url)
    assert first.status_code == 200
    assert first[HIT_HEADER] == "miss"

    with django_assert_num_queries(0):
        second = client.get(url)

    assert second.status_code == 200
    assert second[HIT_HEADER] == "hit"
    assert second.content == first.content
    # the English page is another entry, in English
    english = client.get(_url(campaign, "en"))
    assert english[HIT_HEADER] == "miss"
    assert 'lang="en"' in english.content.decode()


def test_cached_pages_say_public_to_a_cdn_and_vary_on_no_cookie(client, demo):
    home = HomePage.objects.get()
    for expected in ("miss", "hit"):
        response = client.get(_url(home))
        assert response[HIT_HEADER] == expected
        control = response["Cache-Control"]
        assert "public" in control
        assert "max-age=60" in control
        assert "s-maxage=60" in control
        assert "cookie" not in response.get("Vary", "").lower()
        assert not response.cookies  # no CSRF or session cookie from a cached page
        tokens = re.findall(
            r'name="csrfmiddlewaretoken" value="([^"]*)"', response.content.decode()
        )
        assert tokens == [TOKEN_PLACEHOLDER]  # the language switch's, filled by forms.js


def test_publishing_a_page_changes_what_the_cache_serves(client, campaign):
    url = _url(campaign)
    client.get(url)
    assert client.get(url)[HIT_HEADER] == "hit"

    campaign.title = "Un doposcuola ripubblicato"
    campaign.save_revision().publish()

    response = client.get(url)
    assert response[HIT_HEADER] == "miss"
    assert "Un doposcuola ripubblicato" in response.content.decode()
    # and unpublishing takes it off the cache at once
    assert client.get(url)[HIT_HEADER] == "hit"
    CampaignPage.objects.get(pk=campaign.pk).unpublish()
    assert client.get(url).status_code == 404


def test_a_gift_changes_the_live_figures_while_the_cached_page_is_still_served(client, campaign):
    url = _url(campaign)
    html = client.get(url).content.decode()
    live_url = re.search(r'data-live-url="([^"]+)"', html).group(1)
    before = client.get(live_url).json()
    assert client.get(url)[HIT_HEADER] == "hit"

    _paid(campaign, 4250, "ch_live")

    live = client.get(live_url)
    figures = live.json()
    assert figures["raised_cents"] == before["raised_cents"] + 4250
    assert figures["donors"] == before["donors"] + 1
    assert figures["raised"].startswith("€")
    assert "public" in live["Cache-Control"]
    assert "max-age=5" in live["Cache-Control"]
    # the page's HTML is the cached one: its script shows the new figures
    page = client.get(url)
    assert page[HIT_HEADER] == "hit"
    assert page.content.decode() == html
    # in English, written the English way
    with translation.override("en"):
        english_live = reverse("campaigns:live_figures", args=[campaign.pk])
    english = client.get(english_live).json()
    assert english["raised_cents"] == figures["raised_cents"]
    assert "donor" in english["donors_text"] and "donator" in figures["donors_text"]


def test_live_figures_of_an_unknown_or_unpublished_campaign_are_a_404(client, campaign):
    with translation.override("it"):
        url = reverse("campaigns:live_figures", args=[campaign.pk])
    campaign.unpublish()
    assert client.get(url).status_code == 404
    assert client.get(url.replace(str(campaign.pk), "999999")).status_code == 404


def test_signed_in_users_are_never_served_or_stored_in_the_cache(client, campaign):
    url = _url(campaign)
    client.get(url)  # stored for anonymous visitors
    staff = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(staff)
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        assert HIT_HEADER not in response
        assert "public" not in response.get("Cache-Control", "")
        assert TOKEN_PLACEHOLDER not in response.content.decode()


def test_a_preview_is_never_the_cached_page_nor_cached(client, campaign):
    url = _url(campaign)
    client.get(url)
    draft = CampaignPage.objects.get(pk=campaign.pk)
    draft.title = "Bozza mai pubblicata"
    draft.save_revision()  # a draft, not published

    preview = draft.make_preview_request()

    assert "Bozza mai pubblicata" in preview.content.decode()
    assert HIT_HEADER not in preview
    response = client.get(url)
    assert response[HIT_HEADER] == "hit"
    assert "Bozza mai pubblicata" not in response.content.decode()


def test_a_response_that_sets_a_cookie_is_never_stored(client, demo, monkeypatch):
    serve = HomePage.serve

    def serve_with_cookie(self, request, *args, **kwargs):
        response = serve(self, request, *args, **kwargs)
        response.set_cookie("seen", "1")
        return response

    monkeypatch.setattr(HomePage, "serve", serve_with_cookie)
    url = _url(HomePage.objects.get())
    for _ in range(2):
        response = client.get(url)
        assert HIT_HEADER not in response
        assert "seen" in response.cookies


def test_query_strings_skip_the_cache_except_tracking_parameters(client, campaign):
    url = _url(campaign)
    client.get(url)
    assert client.get(url, {"utm_source": "newsletter"})[HIT_HEADER] == "hit"
    # the email a visitor came through (?m=) is theirs: never from or into the cache
    personal = client.get(url, {"m": "whatever"})
    assert HIT_HEADER not in personal
    assert client.get(url, {"page": "2"}).get(HIT_HEADER) is None


def test_a_visitor_with_a_session_or_messages_is_not_served_from_the_cache(client, campaign):
    url = _url(campaign)
    client.get(url)
    client.cookies["messages"] = "x"
    assert HIT_HEADER not in client.get(url)
    del client.cookies["messages"]
    client.cookies["sessionid"] = "x"
    assert HIT_HEADER not in client.get(url)


def test_the_donation_form_of_a_cached_page_takes_a_gift_with_the_fetched_token(
    campaign, stripe_standin
):
    browser = Client(enforce_csrf_checks=True)
    url = _url(campaign)
    browser.get(url)
    html = browser.get(url)
    assert html[HIT_HEADER] == "hit"
    page = html.content.decode()
    assert 'name="csrfmiddlewaretoken" value="from-the-page-script"' in page
    token_url = re.search(r'data-csrf-url="([^"]+)"', page).group(1)
    # without a token the gift is refused, as any forged post
    assert browser.post(_give(campaign), FORM).status_code == 403
    placeholder = {**FORM, "csrfmiddlewaretoken": TOKEN_PLACEHOLDER}
    assert browser.post(_give(campaign), placeholder).status_code == 403

    token = browser.get(token_url)

    assert "no-store" in token["Cache-Control"]
    assert "csrftoken" in token.cookies
    form = {**FORM, "csrfmiddlewaretoken": token.json()["token"]}
    # an error comes back on a page of its own, never stored, with the visitor's token
    wrong = browser.post(_give(campaign), {**form, "email": "not-an-email"})
    assert wrong.status_code == 400
    assert HIT_HEADER not in wrong
    assert TOKEN_PLACEHOLDER not in wrong.content.decode()
    assert 'name="csrfmiddlewaretoken"' in wrong.content.decode()
    started = browser.post(_give(campaign), form)
    assert started.status_code == 303
    assert started["Location"].startswith(stripe_standin)
    # and the page is still served from the cache to this visitor (the CSRF cookie is no
    # session)
    assert browser.get(url)[HIT_HEADER] == "hit"


def test_rendering_the_home_page_writes_nothing_to_the_database(client, demo):
    """Wagtail's rendition cache lives in each process (CACHES["renditions"]): a view of a page
    with images commits no write, even with the database cache."""
    staff = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(staff)  # not from the page cache: the page is rendered
    url = _url(HomePage.objects.get())
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    writes += [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("DELETE")]
    assert writes == []


def test_the_home_page_first_image_comes_with_the_page_and_images_are_webp(client, demo):
    html = client.get(_url(HomePage.objects.get())).content.decode()
    images = re.findall(r"<img [^>]*>", html)
    assert len(images) >= 2
    # the first card's image (a phone's largest paint) is in the page: no second round trip
    first = images[0]
    assert re.search(r'src="data:image/webp;base64,[A-Za-z0-9+/=]+"', first)
    assert 'fetchpriority="high"' in first
    assert "lazy" not in first
    assert re.search(r'width="\d+" height="\d+"', first)  # its room kept: no layout shift
    # and the others wait until they are scrolled near, fetched as WebP
    assert all('loading="lazy"' in image for image in images[1:])
    assert all(".webp" in re.search(r'src="([^"]+)"', image).group(1) for image in images[1:])


def test_a_campaign_hero_comes_with_the_page_on_a_phone_and_in_webp_on_wider_screens(
    client, campaign
):
    html = client.get(_url(campaign)).content.decode()
    picture = re.search(r"<picture>.*?</picture>", html, re.S).group(0)
    hero = re.search(r'<img [^>]*class="hero-image"[^>]*>', picture).group(0)
    assert re.search(r'src="data:image/webp;base64,', hero)
    assert 'fetchpriority="high"' in hero
    assert re.search(r'<source media="\(min-width: 30rem\)" srcset="[^"]*\.webp 800w', picture)


def test_pages_outside_the_story_are_never_cached(client, campaign):
    """Only the page types that say so (cache_whole_page): the return pages, the donor's page
    and the admin are rendered for each visitor."""
    assert all(getattr(model, "cache_whole_page", False) for model in (CampaignPage, HomePage))
    assert not getattr(Page, "cache_whole_page", False)
    with translation.override("it"):
        ask = reverse("donor_portal:ask", args=[campaign.network.slug])
    for _ in range(2):
        response = client.get(ask)
        assert HIT_HEADER not in response
    html = response.content.decode()
    # the donor's page has one stylesheet, in the page (cms.stylesheet), none to fetch
    assert len(re.findall(r"<style>", html)) == 1
    assert 'rel="stylesheet"' not in html


def test_without_javascript_the_refused_form_comes_back_filled_in_with_a_token(
    campaign, stripe_standin
):
    browser = Client(enforce_csrf_checks=True)
    url = _url(campaign)
    browser.get(url)
    assert browser.get(url)[HIT_HEADER] == "hit"
    # the cached form sent as it is (its script did not run)
    refused = browser.post(_give(campaign), {**FORM, "csrfmiddlewaretoken": TOKEN_PLACEHOLDER})
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "non è stato addebitato nulla" in html
    assert 'value="anna.rossi@example.org"' in html
    assert not Donation.objects.filter(campaign=campaign, status="pending").exists()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert token != TOKEN_PLACEHOLDER
    # pressing the button again starts the gift
    again = browser.post(_give(campaign), {**FORM, "csrfmiddlewaretoken": token})
    assert again.status_code == 303
    # other refusals stay Django's
    assert browser.post("/i18n/setlang/", {"language": "en"}).status_code == 403
