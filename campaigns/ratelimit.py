"""Fixed-window rate limits on starting a checkout, kept in the shared cache.

Card-testing runs start many checkouts from few addresses or with few emails; they must hit
these limits before they reach Stripe (https://docs.stripe.com/disputes/prevention/card-testing).
"""

from django.conf import settings

from crm.throttle import take_ticket

# (max attempts, window in seconds); overridable with the GIVING_RATE_LIMITS setting.
DEFAULT_LIMITS = {"ip": (10, 3600), "email": (5, 3600)}


def _limits():
    return {**DEFAULT_LIMITS, **getattr(settings, "GIVING_RATE_LIMITS", {})}


def client_ip(request):
    # Behind a proxy, configure it to set REMOTE_ADDR (we do not trust X-Forwarded-For).
    return request.META.get("REMOTE_ADDR", "")


def hit(kind, value):
    """Count one attempt to start a checkout; True if it is within the limit."""
    limit, window = _limits()[kind]
    return take_ticket(f"giving:{kind}", value, limit, window)
