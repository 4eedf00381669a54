"""Stripe's deliveries acknowledged before Django's stack: the WSGI exit of `POST /stripe/webhook/`
(config/wsgi.py), like the page cache's (`cms.pagecache.CachedPageExit`).

Issue 21 asks for acknowledgements with p99 < 100 ms under 50 concurrent senders on 2 cores:
with that many senders waiting, the latency is the senders over the acknowledgements per second
(Little's law), so it is CPU per acknowledgement. Through Django's handler a delivery also
passed sessions, locale, CSRF, authentication, the second factor, messages, the CSP, redirects
and django-axes, and the URL resolver, none of which a signed server-to-server POST uses.

The exit reads the body, verifies it exactly as the view does (`stripe_api.verify_event`:
stripe's `WebhookSignature.verify_header`), and stores it with the view's own
`webhooks.receive_event`, wrapped in the middleware placed before the page cache in
settings.MIDDLEWARE (request id, metrics and the log line, trusted proxy, SecurityMiddleware),
as on Django's path; its answer is the view's (`webhooks.acknowledged`). Everything else goes
to Django untouched, the body handed back: another method or path, a Host not allowed, a body
too big, a bad signature or an event of the wrong shape (the view answers its 400 itself, word
for word), an error while storing (the transaction rolled back: Django's path starts again
from scratch and answers as it would have). No request signals are sent: a database
connection broken meanwhile fails the statement and the request falls through to Django, whose
`request_started` closes it; an obsolete or failed connection is closed here after the answer,
as `request_finished` would.
"""

import io
import logging
import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.db import connection
from django.urls import get_resolver, set_script_prefix
from django.utils.module_loading import import_string

from . import stripe_api, webhooks

log = logging.getLogger(__name__)

# The middleware that runs around the exit's answer: those before this one in MIDDLEWARE (the
# ones that apply to every response, as for a cached page).
FIRST_SKIPPED = "cms.pagecache.PublicPageCacheMiddleware"


class StripeWebhookExit:
    def __init__(self, application):
        self.application = application
        self._path = None
        self._match = None
        self._chain = None

    def _setup(self):
        if self._chain is None:
            self._path = f"/{get_resolver().reverse('stripe_webhook')}"
            self._match = get_resolver().resolve(self._path)  # names the view in logs, /metrics
            # No convert_exception_to_response between them, unlike Django's handler: an
            # error leaves the chain (nothing counted, nothing logged) and falls through.
            names = list(settings.MIDDLEWARE)
            chain = _acknowledge
            for name in reversed(names[: names.index(FIRST_SKIPPED)]):
                try:
                    chain = import_string(name)(chain)
                except MiddlewareNotUsed:
                    continue
            self._chain = chain
        return self._path

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != self._setup():
            return self.application(environ, start_response)
        set_script_prefix(get_script_name(environ))
        request = WSGIRequest(environ)
        try:
            request.get_host()  # a Host not in ALLOWED_HOSTS: Django's 400
            body = request.body
        except Exception:  # that, a body too big or cut short: Django's answer
            return self.application(environ, start_response)
        given = {"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        try:
            request.stripe_event = stripe_api.verify_event(
                body, request.headers.get("Stripe-Signature")
            )
        except Exception:  # forged, stale, not JSON, not an event: the view's 400
            return self.application({**environ, **given}, start_response)
        request.resolver_match = self._match
        try:
            response = self._chain(request)
        except Exception:
            log.warning("Stripe webhook exit failed: Django's path answers", exc_info=True)
            return self.application({**environ, **given}, start_response)
        finally:
            _release_connection()
        if not response.has_header("Content-Length"):  # as CommonMiddleware sets it
            response["Content-Length"] = str(len(response.content))
        headers = [*response.items()]
        headers += [("Set-Cookie", c.OutputString()) for c in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]


def _acknowledge(request):
    webhooks.receive_event(request.stripe_event)
    return webhooks.acknowledged()


def _release_connection():
    """What `request_finished` does to the connection, without marking it for a health check
    (a SELECT 1 per request): closed if it failed, outlived CONN_MAX_AGE, or was left outside
    its autocommit setting. Inside an atomic block (a test's, never a request's) it is left
    alone, as Django's test client leaves it."""
    if connection.connection is None or connection.in_atomic_block:
        return
    obsolete = connection.close_at is not None and time.monotonic() >= connection.close_at
    wrong_mode = connection.get_autocommit() != connection.settings_dict["AUTOCOMMIT"]
    if connection.errors_occurred or obsolete or wrong_mode:
        connection.close()
