"""The admin's sign-in form (WAGTAILADMIN_USER_LOGIN_FORM): Wagtail's, plus the challenge
asked of an account guessed from many addresses (`accounts.lockouts.guessed_from_many`).

The challenge is checked before the password: a post without it tests nothing and counts no
failure, so a botnet pays a proof of work (`crm.challenge`) for every guess, while the real
user's browser solves it (static/js/proof_of_work.js) and they sign in as before. It is not a
lockout: nobody can keep a colleague out by guessing their password.
"""

import hashlib

from axes.handlers.proxy import AxesProxyHandler
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from wagtail.admin.forms.auth import LoginForm

from crm import challenge

from .lockouts import guessed_from_many

SALT = "accounts.sign-in.pow"


def _scope(username: str) -> str:
    return "sign-in:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:24]


class SignInForm(LoginForm):
    challenge_html: SafeString | str = ""

    def clean(self):
        username = self.cleaned_data.get("username")
        # An address already blocked on this account gets its block (429) at once, not a puzzle.
        locked = username and AxesProxyHandler.is_locked(self.request, {"username": username})
        if username and not locked and guessed_from_many(username):
            passed = challenge.solved(self.data, _scope(username), salt=SALT)
            # A fresh puzzle on the form whatever happens next (a mistyped password too).
            puzzle, difficulty = challenge.new_puzzle(_scope(username), salt=SALT)
            self.challenge_html = mark_safe(  # noqa: S308  (our template, escaped values)
                render_to_string(
                    "accounts/_proof_of_work.html",
                    {"puzzle": puzzle, "difficulty": difficulty},
                    request=self.request,
                )
            )
            if not passed:
                raise ValidationError(
                    _(
                        "Many wrong passwords were tried on this account from several places, "
                        "so this browser makes a short check first. Enter your password again "
                        "and sign in: the check is done by itself."
                    ),
                    code="challenge",
                )
        return super().clean()
