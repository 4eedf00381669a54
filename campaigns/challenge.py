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

import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe

BUILT_IN = "campaigns.challenge.ProofOfWork"


def active_challenge():
    """An instance of the configured challenge (the built-in proof of work by default)."""
    return import_string(getattr(settings, "GIVING_CHALLENGE", "") or BUILT_IN)()


def challenge_html(request, campaign):
    return mark_safe(active_challenge().html(request, campaign))  # noqa: S308


def passes(request, campaign):
    return bool(active_challenge().verify(request, campaign))


class ProofOfWork:
    """The donor's browser finds a number `n` such that SHA-256("<puzzle>:<n>") starts with
    `difficulty` zero bits (static/js/giving.js: 2^difficulty hashes on average, 65,536 at 16),
    then sends the form again by itself. We check it with one hash. A puzzle is
    signed (not stored), names its campaign, expires after PUZZLE_MAX_AGE seconds and is
    accepted once (its nonce taken in the shared cache): a card tester pays the work for
    every start instead of once."""

    SALT = "campaigns.challenge.pow"
    PUZZLE_MAX_AGE = 15 * 60

    def difficulty(self):
        return getattr(settings, "GIVING_CHALLENGE_DIFFICULTY", 16)

    def html(self, request, campaign):
        difficulty = self.difficulty()
        puzzle = signing.dumps(
            {"c": campaign.pk, "n": secrets.token_hex(8), "d": difficulty}, salt=self.SALT
        )
        context = {"puzzle": puzzle, "difficulty": difficulty}
        return render_to_string("campaigns/_proof_of_work.html", context, request=request)

    def verify(self, request, campaign):
        puzzle = request.POST.get("pow_puzzle", "")
        answer = request.POST.get("pow_answer", "")
        if not (answer.isascii() and answer.isdigit() and len(answer) <= 12):
            return False
        try:
            data = signing.loads(puzzle, salt=self.SALT, max_age=self.PUZZLE_MAX_AGE)
        except signing.BadSignature:
            return False
        if data.get("c") != campaign.pk:
            return False
        digest = hashlib.sha256(f"{puzzle}:{answer}".encode()).digest()
        if int.from_bytes(digest) >> (256 - int(data["d"])):
            return False
        # Once: the first start that shows this solved puzzle takes its nonce.
        return cache.add(f"giving:pow:{data['n']}", 1, self.PUZZLE_MAX_AGE + 60)
