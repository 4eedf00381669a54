"""An optional challenge on the donation form for a network under attack: off by default.

Set GIVING_CHALLENGE to the dotted path of a class (instantiated once per request) with:

    html(request, campaign) -> str   # markup put in the form, above the give button
    verify(request, campaign) -> bool  # whether the posted form passed the challenge

e.g. a wrapper around Cloudflare Turnstile or hCaptcha. The challenge is checked after the form
is valid and before the rate limits count the attempt, so failed challenges never use up a real
donor's room, and a refused one never reaches Stripe.
"""

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe


def active_challenge():
    """An instance of the configured challenge, or None when off."""
    path = getattr(settings, "GIVING_CHALLENGE", "")
    return import_string(path)() if path else None


def challenge_html(request, campaign):
    challenge = active_challenge()
    return mark_safe(challenge.html(request, campaign)) if challenge else ""  # noqa: S308


def passes(request, campaign):
    challenge = active_challenge()
    return challenge is None or bool(challenge.verify(request, campaign))
