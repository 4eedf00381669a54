"""Whole public pages from the shared cache, for anonymous visitors (a giving day's crowd).

A GET of a story or campaign page (`cache_whole_page = True` on its model) by a visitor with no
session and no pending messages is answered from the shared cache (`CACHES["default"]`: Redis
in production), before any session, routing or page query: one round trip (MGET) reads the
site's content version and the page's entry. The first such visit renders the page normally and
stores it, so a page is written to the cache once per content version, never once per view.

The key: host and path (language included: `/en/...`). The entry says the content version it
was rendered at (bumped when any page is published, unpublished, moved or deleted, or a donor
wall moderated: `bump_content_version`): an entry of another version is a miss, rendered again
and written over. An entry lives at
most PAGE_CACHE_SECONDS, so what a page shows from elsewhere (a network's name, an image) lags
at most that long. Live figures (raised, donors, days left) are not in the key: the page's
script refreshes them from a small endpoint (`campaigns.views.live_figures`) every few seconds,
and the figures written in the cached HTML (for visitors without JavaScript) are at most
PAGE_CACHE_SECONDS old. Likewise the CSRF token: cached pages carry none; the script fetches one
(`campaigns.views.csrf_token`, no-store) before a form is sent.

Never stored: a request with a query string (except tracking parameters, which are ignored on
the way in), a POST, a preview, anything but a 200, a response that sets a cookie or says
private/no-store. Cached pages say `Cache-Control: public, max-age=PAGE_CACHE_MAX_AGE,
s-maxage=PAGE_CACHE_CDN_SECONDS` and vary on nothing a CDN would split on (the language is in
the path; the session cookie is absent by construction: a CDN must bypass its cache when the
visitor sends Django's `sessionid`).
"""

import hashlib
import logging
import time
import uuid

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.http import HttpResponse
from django.urls import ResolverMatch, set_script_prefix
from django.utils.cache import patch_cache_control
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

CONTENT_VERSION_KEY = "pagecache:content-version"
# Query parameters that never change a page (campaign tracking): the cached page is served.
HARMLESS_PARAMS = {"fbclid", "gclid", "mc_cid", "mc_eid", "ref"}
HIT_HEADER = "X-Page-Cache"


def _served_from_cache(request):  # never called: names the view of a hit in logs and /metrics
    raise NotImplementedError


# A hit is counted and logged (ops.middleware) as the view "cms:page_cache".
HIT_MATCH = ResolverMatch(_served_from_cache, (), {}, url_name="page_cache", namespaces=["cms"])


def enabled():
    return settings.PAGE_CACHE_SECONDS > 0


def content_version():
    version = cache.get(CONTENT_VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex[:12]
        # add(): two processes starting at once agree on one version.
        cache.add(CONTENT_VERSION_KEY, version, None)
        version = cache.get(CONTENT_VERSION_KEY) or version
    return version


def bump_content_version(**kwargs):
    """Every cached page is stale: a page was published, unpublished, moved or deleted (its
    own page, menus and listings elsewhere may change with it). Old entries are never served
    again: each is rendered anew at its next view."""
    cache.set(CONTENT_VERSION_KEY, uuid.uuid4().hex[:12], None)


def _harmless(name):
    return name.startswith("utm_") or name in HARMLESS_PARAMS


def _candidate(request):
    """A request the cache may answer: an anonymous GET of a plain address."""
    if request.method != "GET" or getattr(request, "is_dummy", False):
        return False
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies:
        return False
    return all(_harmless(name) for name in request.GET)


def _key(request):
    address = f"{request.get_host()}{request.path}"
    return f"pagecache:{hashlib.sha256(address.encode()).hexdigest()}"


def is_cacheable(request):
    """True while rendering a page that will be stored (set by `mark_page`): the page must
    not depend on the visitor (no CSRF token, no session)."""
    return getattr(request, "page_cache_storable", False)


def mark_page(page, request):
    """Wagtail's before_serve_page hook: this page, served to this request, may be stored."""
    if (
        getattr(request, "page_cache_candidate", False)
        and not request.GET
        and getattr(page.specific_class, "cache_whole_page", False)
        and not page.get_view_restrictions().exists()
    ):
        request.page_cache_storable = True


def _storable(request, response):
    if not is_cacheable(request) or response.status_code != 200 or response.streaming:
        return False
    if response.cookies or getattr(request, "is_preview", False):
        return False
    control = response.get("Cache-Control", "")
    return not any(word in control for word in ("private", "no-store", "no-cache"))


def _public_headers(response):
    patch_cache_control(
        response,
        public=True,
        max_age=settings.PAGE_CACHE_MAX_AGE,
        s_maxage=settings.PAGE_CACHE_CDN_SECONDS,
    )
    # Rendered for a visitor without session (the user bar touched an empty one) in the
    # language of its path: neither the cookie nor Accept-Language changes it.
    vary = [
        v.strip()
        for v in response.get("Vary", "").split(",")
        if v.strip() and v.strip().lower() not in {"cookie", "accept-language"}
    ]
    if vary:
        response["Vary"] = ", ".join(vary)
    elif "Vary" in response:
        del response["Vary"]


# Where the WSGI exit leaves its lookup for the middleware on a miss (one MGET per request).
LOOKUP_KEY = "trama.page_cache.lookup"


def _lookup(request, key=None):
    """(key, the content version, the page's entry or None): one round trip (MGET) reads the
    version and the entry, which says the version it was rendered at. May raise (no cache)."""
    key = key or _key(request)
    looked_up = request.META.pop(LOOKUP_KEY, None)  # the WSGI exit's, for this same key
    found = looked_up[1] if looked_up and looked_up[0] == key else None
    if found is None:
        found = cache.get_many([CONTENT_VERSION_KEY, key])
    return key, found.get(CONTENT_VERSION_KEY), found.get(key), found


def _hit(request, entry):
    response = HttpResponse(entry["content"], status=200, headers=entry["headers"])
    response[HIT_HEADER] = "hit"
    request.resolver_match = HIT_MATCH
    return response


class PublicPageCacheMiddleware:
    """Placed right after SecurityMiddleware (and WhiteNoise): a hit skips sessions, locale,
    CSRF, authentication and Wagtail's routing; HSTS and the request id still apply. Under
    gunicorn, hits are answered before Django's stack (CachedPageExit, below); this serves the
    rest (and every hit where the exit is not in front: tests, runserver)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not enabled() or not _candidate(request):
            return self.get_response(request)
        try:
            key, version, entry, _found = _lookup(request)
            version = version or content_version()
        except Exception:  # a cache that does not answer serves pages uncached, never a 500
            log.exception("page cache unavailable")
            return self.get_response(request)
        # An entry of an older version is never served.
        if entry is not None and entry["version"] == version:
            return _hit(request, entry)
        request.page_cache_candidate = True
        response = self.get_response(request)
        if _storable(request, response):
            _public_headers(response)
            entry = {
                "version": version,  # read before rendering: a publish meanwhile wins
                "content": response.content,
                "headers": dict(response.headers),
                # When the shared cache drops it: a process's own copy (CachedPageExit) is
                # never served after that either.
                "expires": time.time() + settings.PAGE_CACHE_SECONDS,
            }
            try:
                cache.set(key, entry, settings.PAGE_CACHE_SECONDS)
            except Exception:
                log.exception("page cache unavailable")
            response[HIT_HEADER] = "miss"
        return response


class CachedPageExit:
    """The WSGI application in front of Django's (config/wsgi.py): a hit is answered before
    Django's handler and most of its middleware, which cost about 4x the hit's own lookup
    (issue 21: 1,000 cached pages a second on 2 workers).

    The same request object, checks and key as the middleware's (`_candidate`, `_key`: GET
    only, no session or messages cookie, harmless query parameters only), the same version
    check, and the same response: the stored headers (Cache-Control, the CSP, Content-Language,
    X-Frame-Options) and the middleware placed before PublicPageCacheMiddleware in
    settings.MIDDLEWARE (request id, metrics and log line, trusted proxy, SecurityMiddleware's
    redirect and headers), run around the hit exactly as on Django's path. Anything else, or a
    cache that does not answer, goes to Django untouched, with the lookup passed along.

    Each process keeps its own copy of the pages it served (at most LOCAL_PAGES of them, each
    until its shared entry's `expires`): a hit on a copy still asks the shared cache for the
    content version (one GET of a few bytes instead of the MGET of the whole page and its
    unpickling), so a publish is seen at the very next request, as without the copies."""

    LOCAL_PAGES = 100  # ~50 KB each: a few MB per process at most

    def __init__(self, application):
        self.application = application
        self._outer = None
        self._pages = {}  # key: entry, as read from the shared cache

    def _outer_middleware(self):
        if self._outer is None:
            names = list(settings.MIDDLEWARE)
            handler = convert_exception_to_response(_serve_hit)
            for name in reversed(names[: names.index(f"{__name__}.PublicPageCacheMiddleware")]):
                try:
                    handler = convert_exception_to_response(import_string(name)(handler))
                except MiddlewareNotUsed:
                    continue
            self._outer = handler
        return self._outer

    def _own_copy(self, key):
        """This process's copy of the page, if the shared cache still holds it and it is of
        the current content version (one GET); else None, and the copy is dropped."""
        entry = self._pages.get(key)
        if entry is None:
            return None
        if entry["expires"] > time.time() and cache.get(CONTENT_VERSION_KEY) == entry["version"]:
            return entry
        self._pages.pop(key, None)
        return None

    def _keep(self, key, entry):
        if "expires" not in entry:  # stored before the copies existed: its age is unknown
            return
        if len(self._pages) >= self.LOCAL_PAGES and key not in self._pages:
            self._pages.clear()  # rare (more hot pages than that): they come back on use
        self._pages[key] = entry

    def _find(self, request):
        """The entry to serve, or None with the lookup left for the middleware. May raise."""
        key = _key(request)
        entry = self._own_copy(key)
        if entry is not None:
            return entry
        key, version, entry, found = _lookup(request, key)
        if entry is None or version is None or entry["version"] != version:
            request.environ[LOOKUP_KEY] = (key, found)
            return None
        self._keep(key, entry)
        return entry

    def __call__(self, environ, start_response):
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or not enabled()
            or environ.get("PATH_INFO", "").startswith(settings.STATIC_URL)
        ):
            return self.application(environ, start_response)
        set_script_prefix(get_script_name(environ))
        # A copy: WSGIRequest writes the path it decoded back into its environ, and Django
        # given that one would decode it again (a page whose address is not ASCII, such as
        # ".../solidarietà/", was a 404 under gunicorn).
        request = WSGIRequest(environ.copy())
        try:
            entry = self._find(request) if _candidate(request) else None
        except Exception:  # a bad host, a cache that does not answer: Django's answer
            entry = None
        if entry is None:
            return self.application(environ, start_response)
        request.page_cache_entry = entry
        response = self._outer_middleware()(request)
        headers = [*response.items()]
        headers += [("Set-Cookie", c.OutputString()) for c in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]


def _serve_hit(request):
    return _hit(request, request.page_cache_entry)


# What {% csrf_token %} writes in a page rendered for the cache, instead of a token: the page's
# script (static/js/forms.js) puts the visitor's own in its place; sent as it is, Django refuses
# it as any missing token (wrong length).
TOKEN_PLACEHOLDER = "from-the-page-script"


def context(request):
    """Context processor: a page being rendered for the cache carries no CSRF token (it would
    be the first visitor's, and asking for one sets a cookie); see TOKEN_PLACEHOLDER."""
    return {"csrf_token": TOKEN_PLACEHOLDER} if is_cacheable(request) else {}
