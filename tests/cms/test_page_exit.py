"""The page cache's WSGI exit (cms.pagecache.CachedPageExit, in front of Django under gunicorn;
issue 21): a hit answered before Django's stack is the same response, byte for byte and header
for header, as Django's own path gives; anything a cached page must not answer (a session, a
non-GET, a query) goes to Django; a publish is seen at once, also by the copy of a page each
process keeps (served only while the shared cache says its content version is current and its
shared entry lives)."""

import time
from urllib.parse import unquote_to_bytes, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client, RequestFactory
from django.utils import translation

from campaigns.models import CampaignPage
from cms import pagecache
from cms.pagecache import HIT_HEADER, CachedPageExit

REQUEST_ID = "exit-test-0001"  # echoed back: the same on both paths


@pytest.fixture(autouse=True)
def _clear_caches(db):
    for alias in ("default", "fragments", "renditions"):
        caches[alias].clear()
    yield
    for alias in ("default", "fragments", "renditions"):
        caches[alias].clear()


@pytest.fixture
def wsgi(settings):
    """Django's WSGI handler and the exit in front of it, which records what it passes on. As
    Django's test client does, the test's transaction survives the handler's connection
    cleanup; HSTS on, so the security headers are compared too."""
    settings.SECURE_HSTS_SECONDS = 3600
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    django_app = WSGIHandler()
    passed = []

    def to_django(environ, start_response):
        passed.append(environ["PATH_INFO"])
        return django_app(environ, start_response)

    yield django_app, CachedPageExit(to_django), passed
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def campaign(demo):
    return CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")


def _url(page):
    with translation.override("it"):
        return page.get_url()


def _call(app, path, method="get", secure=True, **headers):
    environ = getattr(RequestFactory(), method)(
        path, secure=secure, HTTP_X_REQUEST_ID=REQUEST_ID, **headers
    ).environ
    # As a WSGI server gives it (PEP 3333: the path's bytes as latin-1), not as the factory's
    # request left it (WSGIRequest writes back the path it decoded).
    environ["PATH_INFO"] = unquote_to_bytes(urlsplit(path).path).decode("iso-8859-1")
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer.update(status=status, headers=response_headers)

    chunks = app(environ, start_response)
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return answer["status"], answer["headers"], body


def test_a_hit_from_the_exit_is_the_response_djangos_path_gives(wsgi, campaign):
    django_app, exit_app, passed = wsgi
    url = _url(campaign)
    # given the page rendered once (through the exit, to Django) and stored
    status, headers, _body = _call(exit_app, url)
    assert status == "200 OK"
    assert (HIT_HEADER, "miss") in headers
    assert passed == [url]
    # when the next visitors ask for it through the exit (the second from the process's copy)
    answers = [_call(exit_app, url), _call(exit_app, url)]
    # then Django was not asked, and each answer is the one Django's own path gives a hit
    assert passed == [url]
    django_status, django_headers, django_body = _call(django_app, url)
    for status, headers, body in answers:
        assert (status, body) == (django_status, django_body)
        assert sorted(headers) == sorted(django_headers)
    status, headers, body = answers[-1]
    named = dict(headers)
    assert named[HIT_HEADER] == "hit"
    assert named["X-Request-ID"] == REQUEST_ID
    assert named["Strict-Transport-Security"].startswith("max-age=3600")
    assert named["X-Content-Type-Options"] == "nosniff"
    assert named["Content-Language"] == "it"
    assert "public" in named["Cache-Control"]
    assert "style-src 'self' 'sha256-" in named["Content-Security-Policy"]
    assert body.decode().count("<h1>") == 1


def test_over_plain_http_a_hit_gets_the_same_redirect_as_on_djangos_path(wsgi, campaign, settings):
    _django_app, exit_app, _passed = wsgi
    url = _url(campaign)
    _call(exit_app, url)  # stored
    # given production's redirect to HTTPS (SecurityMiddleware reads it when it is built)
    settings.SECURE_SSL_REDIRECT = True
    django_app = WSGIHandler()
    exit_app = CachedPageExit(django_app)
    # then a visitor over plain HTTP gets the redirect, not the page, on both paths alike
    status, headers, body = _call(exit_app, url, secure=False)
    assert status.startswith("301")
    assert dict(headers)["Location"] == f"https://testserver{url}"
    assert (status, sorted(headers), body) == (
        lambda answer: (answer[0], sorted(answer[1]), answer[2])
    )(_call(django_app, url, secure=False))


@pytest.mark.parametrize(
    "visitor",
    ["signed in", "session cookie", "messages cookie", "POST", "HEAD", "a search query"],
)
def test_what_a_cached_page_must_not_answer_goes_through_django(wsgi, campaign, visitor):
    django_app, exit_app, passed = wsgi
    url = _url(campaign)
    _call(exit_app, url)  # stored
    assert _call(exit_app, url)[1].count((HIT_HEADER, "hit")) == 1
    passed.clear()
    headers, method, path = {}, "get", url
    if visitor == "signed in":
        editor = get_user_model().objects.create_superuser("ed", "ed@example.org", "pw")
        browser = Client()
        browser.force_login(editor)
        headers["HTTP_COOKIE"] = f"sessionid={browser.cookies['sessionid'].value}"
    elif visitor == "session cookie":
        headers["HTTP_COOKIE"] = "sessionid=anything"
    elif visitor == "messages cookie":
        headers["HTTP_COOKIE"] = "messages=anything"
    elif visitor in ("POST", "HEAD"):
        method = visitor.lower()
    else:
        path = f"{url}?q=scuola"
    status, response_headers, _body = _call(exit_app, path, method=method, **headers)
    assert passed == [url], visitor
    assert (HIT_HEADER, "hit") not in response_headers, visitor


def test_tracking_parameters_are_answered_from_the_exit(wsgi, campaign):
    _django_app, exit_app, passed = wsgi
    url = _url(campaign)
    _call(exit_app, url)
    status, headers, _body = _call(exit_app, f"{url}?utm_source=newsletter")
    assert (status, passed) == ("200 OK", [url])
    assert (HIT_HEADER, "hit") in headers


def test_a_publish_is_seen_at_once_through_the_exit(wsgi, campaign):
    _django_app, exit_app, passed = wsgi
    url = _url(campaign)
    _call(exit_app, url)
    assert b"Giornata del dono" not in _call(exit_app, url)[2]
    # when an editor publishes a new title
    campaign.title = "Giornata del dono"
    campaign.save_revision().publish()
    # then the next visitor gets it rendered anew by Django, and the one after from the exit
    passed.clear()
    status, headers, body = _call(exit_app, url)
    assert passed == [url]
    assert (HIT_HEADER, "miss") in headers
    assert b"Giornata del dono" in body
    status, headers, body = _call(exit_app, url)
    assert passed == [url]
    assert (HIT_HEADER, "hit") in headers
    assert b"Giornata del dono" in body


def _copy_served(exit_app, url, passed):
    """Stored, then served once from the shared cache (the process keeps its copy)."""
    _call(exit_app, url)
    assert (HIT_HEADER, "hit") in _call(exit_app, url)[1]
    passed.clear()


def test_the_process_copy_is_never_served_after_a_publish(wsgi, campaign, monkeypatch):
    _django_app, exit_app, passed = wsgi
    url = _url(campaign)
    _copy_served(exit_app, url, passed)
    # given a copy that the shared cache would no longer give: entries now say another title
    # (only the content version, bumped by the publish, may tell the copy is stale)
    campaign.title = "Giornata del dono"
    campaign.save_revision().publish()
    status, headers, body = _call(exit_app, url)
    assert passed == [url]
    assert (HIT_HEADER, "miss") in headers
    assert b"Giornata del dono" in body


@pytest.mark.parametrize("change", ["donor wall moderated", "shared cache emptied"])
def test_the_process_copy_follows_the_shared_content_version(wsgi, campaign, change):
    _django_app, exit_app, passed = wsgi
    url = _url(campaign)
    _copy_served(exit_app, url, passed)
    if change == "donor wall moderated":
        pagecache.bump_content_version()
    else:
        caches["default"].clear()
    status, headers, _body = _call(exit_app, url)
    assert passed == [url], change
    assert (HIT_HEADER, "miss") in headers


def test_the_process_copy_dies_with_its_shared_entry(wsgi, campaign, settings, monkeypatch):
    """What the page shows from elsewhere (the totals written in it for visitors without
    JavaScript, a network's name) is never older than PAGE_CACHE_SECONDS, copy or not."""
    _django_app, exit_app, passed = wsgi
    url = _url(campaign)
    _copy_served(exit_app, url, passed)
    later = time.time() + settings.PAGE_CACHE_SECONDS + 1
    monkeypatch.setattr(pagecache.time, "time", lambda: later)
    caches["default"].delete(pagecache._key(RequestFactory().get(url)))  # expired there too
    status, headers, _body = _call(exit_app, url)
    assert passed == [url]
    assert (HIT_HEADER, "miss") in headers


def test_the_process_keeps_a_bounded_number_of_copies(wsgi, campaign):
    _django_app, exit_app, _passed = wsgi
    entry = {"version": "v", "content": b"", "headers": {}, "expires": time.time() + 60}
    for n in range(CachedPageExit.LOCAL_PAGES * 3):
        exit_app._keep(f"pagecache:{n}", entry)
    assert 0 < len(exit_app._pages) <= CachedPageExit.LOCAL_PAGES
    exit_app._keep("pagecache:old", {k: v for k, v in entry.items() if k != "expires"})
    assert "pagecache:old" not in exit_app._pages


def test_a_page_whose_address_is_not_ascii_is_found_through_the_exit(wsgi, demo):
    # given the demo's campaign "Il pulmino della solidarietà" (its address: ...solidariet%C3%A0/)
    _django_app, exit_app, passed = wsgi
    url = _url(CampaignPage.objects.get(slug="il-pulmino-della-solidarietà"))
    assert "%C3%A0" in url
    # then it is found through the exit as on Django's own path: rendered (a miss), then a hit
    # (the exit once handed Django the path it had decoded: the page was a 404 under gunicorn)
    status, headers, _body = _call(exit_app, url)
    assert (status, len(passed)) == ("200 OK", 1)
    assert (HIT_HEADER, "miss") in headers
    status, headers, _body = _call(exit_app, url)
    assert status == "200 OK"
    assert (HIT_HEADER, "hit") in headers
