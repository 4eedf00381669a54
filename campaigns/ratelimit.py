"""Fixed-window rate limits on starting a checkout, kept in the shared cache.

Card-testing runs start many checkouts from few addresses or with few emails; they must hit
these limits before they reach Stripe (https://docs.stripe.com/disputes/prevention/card-testing).
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

# (max attempts, window in seconds); overridable with the GIVING_RATE_LIMITS setting.
DEFAULT_LIMITS = {"ip": (10, 3600), "email": (5, 3600)}


def _limits():
    return {**DEFAULT_LIMITS, **getattr(settings, "GIVING_RATE_LIMITS", {})}


def client_ip(request):
    # Behind a proxy, configure it to set REMOTE_ADDR (we do not trust X-Forwarded-For).
    return request.META.get("REMOTE_ADDR", "")


def hit(kind, value):
    """Count one attempt; True if it is within the limit.

    Each allowed attempt takes a numbered ticket with `cache.add`, which is atomic on both our
    backends (the database cache's primary key, Redis' SET NX). `cache.incr` is not: on the
    database cache it is a read then a write, and concurrent attempts would count as one.
    """
    limit, window = _limits()[kind]
    bucket = int(time.time() // window)
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]
    key = f"giving:rl:{kind}:{digest}:{bucket}"
    # The last ticket taken, a hint: tickets up to it are taken, so over the limit one read
    # answers. Racing writers may set it back, never past a free ticket.
    for ticket in range(cache.get(key, 0) + 1, limit + 1):
        if cache.add(f"{key}:{ticket}", 1, window):
            cache.set(key, ticket, window)
            return True
    return False
