"""Request ids and request metrics, outermost in MIDDLEWARE."""

import contextlib
import ipaddress
import logging
import re
import time
import uuid

from django.conf import settings

from . import metrics
from .log import current_request_id

logger = logging.getLogger("ops.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the front server or the caller is kept only if it is a plain token: it goes into
# every log line and back into a response header.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")


class RequestIdMiddleware:
    """Takes the request's id from `X-Request-ID` (set by the front server) or makes one, puts
    it on every log line of the request (ops.log) and echoes it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if VALID_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            current_request_id.reset(token)


class MetricsMiddleware:
    """Counts and times every request by view name and status (ops.metrics), and logs one
    line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        # The URL pattern's name, never the path: a bounded set of labels.
        view = match.view_name if match else "unmatched"
        metrics.observe_request(view, request.method, response.status_code, seconds)
        logger.info(
            "%s %s %s %.0fms",
            request.method,
            view,
            response.status_code,
            seconds * 1000,
            extra={"status": response.status_code, "view": view, "duration_ms": seconds * 1000},
        )
        return response


class TrustedProxyMiddleware:
    """Behind a front server (Caddy, nginx) every request comes from the proxy's address, so
    the per-address limits (giving, sign-in) would count all donors as one. When the peer is
    one of `settings.TRUSTED_PROXIES` (addresses or networks), REMOTE_ADDR becomes the address
    the proxy saw: the rightmost entry of X-Forwarded-For that is not itself a trusted proxy
    (entries further left are whatever the client wrote, never trusted). With no trusted
    proxies (the default) nothing changes."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in settings.TRUSTED_PROXIES]

    def trusted(self, address):
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)

    def __call__(self, request):
        if self.proxies and self.trusted(request.META.get("REMOTE_ADDR", "")):
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
            for address in reversed([a.strip() for a in forwarded.split(",") if a.strip()]):
                if not self.trusted(address):
                    # Garbage in the header: keep the proxy's address.
                    with contextlib.suppress(ValueError):
                        request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(address))
                    break
        return self.get_response(request)
