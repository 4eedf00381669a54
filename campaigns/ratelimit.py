"""Fixed-window rate limits on starting a checkout, kept in the cache.

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
    """Count one attempt; True if it is within the limit."""
    limit, window = _limits()[kind]
    bucket = int(time.time() // window)
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]
    key = f"giving:rl:{kind}:{digest}:{bucket}"
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, window)
        count = 1
    return count <= limit
