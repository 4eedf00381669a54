"""Sliding-window limits on starting a checkout, kept in the shared cache (crm.throttle).

Card-testing runs start many checkouts from few addresses, with few emails, or on one campaign;
they must hit these limits before they reach Stripe
(https://docs.stripe.com/disputes/prevention/card-testing). Real donors must not: a charity
dinner on shared Wi-Fi gives 30+ times from one address in an hour, so the address limit is
generous and the email limit tight.

- per client (an IPv4 address or an IPv6 /64, `crm.throttle.client_key`) and per email: over
  the limit, the start is refused (a translated 429 that says when to try again);
- per campaign: a threshold, not a refusal. Past it the campaign is busy (a giving day, or an
  attack from many addresses) and every start must pass the challenge (campaigns.challenge):
  refusing everyone would close the campaign to its real donors for the attacker.

Settings (all optional), each kind as (max attempts, window in seconds):
    GIVING_RATE_LIMITS = {"ip": (60, 3600), "email": (5, 3600), "campaign": (600, 3600)}
    GIVING_CHALLENGE = "dotted.path.to.Challenge"  # default: the built-in proof of work

A campaign threshold of 0 asks the challenge of every start. Emails are counted normalised
(`normalise_email`), so `Anna.Rossi+1@Gmail.com` and `annarossi@gmail.com` share one count.
"""

from django.conf import settings

from crm.throttle import Decision, client_key, sliding_window, window_has_room

DEFAULT_LIMITS = {"ip": (60, 3600), "email": (5, 3600), "campaign": (600, 3600)}
# Providers that ignore dots in the local part (and treat googlemail.com as gmail.com).
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def limits():
    return {**DEFAULT_LIMITS, **getattr(settings, "GIVING_RATE_LIMITS", {})}


def client_ip(request):
    # Behind a front server, list it in TRUSTED_PROXIES (ops.middleware sets REMOTE_ADDR).
    # Counted by client (`crm.throttle.client_key`: an IPv6 /64 is one client).
    return request.META.get("REMOTE_ADDR", "")


def normalise_email(email):
    """One mailbox, one key. The rule: lower case and trimmed; for every domain the `+tag` of
    the local part is dropped (plus addressing delivers `anna+x@` to `anna@` at Gmail, Outlook,
    iCloud, Fastmail, Proton...); for Gmail only (gmail.com, googlemail.com) the dots of the
    local part are dropped too, since Gmail ignores them. Other providers keep their dots."""
    local, _at, domain = (email or "").strip().lower().rpartition("@")
    if not local:
        return (email or "").strip().lower()
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        domain = DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def _value(kind, value):
    if kind == "email":
        return normalise_email(value)
    if kind == "ip":
        return client_key(value)
    return str(value)


def check(kind, value, *, now=None):
    """Count one attempt to start a checkout for `kind` ("ip", "email", "campaign"); a
    crm.throttle.Decision (true if within the limit, else with `retry_after` seconds)."""
    limit, window = limits()[kind]
    return sliding_window(f"giving:{kind}", _value(kind, value), limit, window, now=now)


def hit(kind, value, *, now=None):
    """True if one more attempt of `kind` for `value` is within the limit (counted)."""
    return check(kind, value, now=now).allowed


def campaign_busy(campaign_id, *, now=None):
    """True when the campaign reached its threshold in the window: every start must then pass
    the challenge. Counts nothing."""
    limit, window = limits()["campaign"]
    return not window_has_room("giving:campaign", str(campaign_id), limit, window, now=now)


def check_all(*, ip, email, campaign_id, now=None):
    """The per-client limits, most specific first: an email over its limit does not use up the
    address's room. The first refusal is returned; else the start is counted on the campaign's
    threshold (`campaign_busy`) too, and an allowed Decision returned. Refused starts are
    counted nowhere."""
    for kind, value in (("email", email), ("ip", ip)):
        decision = check(kind, value, now=now)
        if not decision:
            return decision
    # Over the threshold this count is refused and not kept: the campaign stays busy until its
    # window has room again.
    check("campaign", campaign_id, now=now)
    return Decision(True)
