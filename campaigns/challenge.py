"""The challenge asked of every donor while a campaign is busy (past its threshold of checkout
starts in the window, campaigns.ratelimit): instead of refusing everyone, which would close the
campaign to its real donors for an attacker, each start must prove it is worth something.

GIVING_CHALLENGE is the dotted path of a class (instantiated once per request) with:

    html(request, campaign) -> str   # markup put in the form, above the give button
    verify(request, campaign) -> bool  # whether the posted form passed the challenge

By default the built-in `ProofOfWork`: no third party sees the donor and nothing is to be solved
by hand. A network may plug in a captcha instead (a Cloudflare Turnstile or hCaptcha wrapper).
The challenge is shown on the refused form, never on the campaign page itself (which stays the
same for every visitor, so it can be cached). It is checked after the form is valid and before
the rate limits count the attempt, so failed challenges never use up a real donor's room, and a
start that fails it writes no row and never reaches Stripe.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe

from crm import challenge

BUILT_IN = "campaigns.challenge.ProofOfWork"


def active_challenge():
    """An instance of the configured challenge (the built-in proof of work by default)."""
    return import_string(getattr(settings, "GIVING_CHALLENGE", "") or BUILT_IN)()


def challenge_html(request, campaign):
    return mark_safe(active_challenge().html(request, campaign))  # noqa: S308


def passes(request, campaign):
    return bool(active_challenge().verify(request, campaign))


class ProofOfWork:
    """The built-in proof of work (`crm.challenge`), one puzzle per start, scoped to its
    campaign (static/js/giving.js solves it and sends the form again by itself)."""

    SALT = "campaigns.challenge.pow"
    PUZZLE_MAX_AGE = challenge.PUZZLE_MAX_AGE

    def difficulty(self):
        return challenge.difficulty()

    def html(self, request, campaign):
        puzzle, difficulty = challenge.new_puzzle(f"campaign:{campaign.pk}", salt=self.SALT)
        context = {"puzzle": puzzle, "difficulty": difficulty}
        return render_to_string("campaigns/_proof_of_work.html", context, request=request)

    def verify(self, request, campaign):
        return challenge.solved(request.POST, f"campaign:{campaign.pk}", salt=self.SALT)
