"""Sign-in lockouts (django-axes, database handler): who is blocked now, and lifting a block.

Guessing is stopped where it comes from, never at the account: a block never keeps a colleague
out from their own connection.

- An account from one address: AXES_FAILURE_LIMIT failures (username AND client address,
  AXES_LOCKOUT_PARAMETERS in config/settings/security.py) block that account from that address only.
  The block lasts SIGN_IN_COOLOFF after the last counted failure the first time, and twice as
  long each time it comes back within a day (`cool_off`), up to a day: a guesser gets a few
  dozen tries a day from an address, the colleague at the office signs in all the same.
- One address on any accounts (spraying): ADDRESS_FAILURE_LIMIT failures, a coarser limit
  (an office or a school may share one address), block the address.
- One account from many addresses (a botnet): each address is stopped at its own limit; the
  account itself is never blocked (anyone could then keep its owner out). After
  SIGN_IN_CHALLENGE_FAILURES failures within a day from SIGN_IN_CHALLENGE_ADDRESSES addresses
  or more (`guessed_from_many`), its sign-in form asks a proof of work before the password is
  tried (`accounts.forms`): each guess costs the guesser, the owner's browser solves it. The
  second factor (ops: TWO_STEP_REQUIRED for superusers and treasurers) is what a guessed
  password still cannot pass.

A superuser lifts a block early from Settings → Sign-in security (or `manage.py
axes_reset_username <name>` / `axes_reset_ip <address>`). The failed attempts are kept for
the block's time; the log of blocks (AccessFailureLog, which makes them grow) for a day.
"""

import datetime
import logging

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import Count, Max, Sum
from django.utils import timezone

from .limits import sign_in_client

logger = logging.getLogger(__name__)


ADDRESS_FAILURE_LIMIT = getattr(settings, "SIGN_IN_ADDRESS_FAILURE_LIMIT", 20)
# Blocks of an account from an address come back within this time: each one lasts twice the
# one before (up to MAX_COOL_OFF).
ROUNDS_WINDOW = datetime.timedelta(days=1)
MAX_COOL_OFF = datetime.timedelta(days=1)


def _base_cool_off():
    return settings.SIGN_IN_COOLOFF


def _who(request):
    """(username, client address) of a sign-in request, as axes reads them."""
    credentials = getattr(request, "axes_credentials", None)
    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None) or sign_in_client(request)
    return username, address


def rounds(username, address, now=None):
    """How many times this account was blocked from this address within ROUNDS_WINDOW."""
    now = now or timezone.now()
    return AccessFailureLog.objects.filter(
        username=username,
        ip_address=address,
        locked_out=True,
        attempt_time__gte=now - ROUNDS_WINDOW,
    ).count()


def cool_off(request=None):
    """AXES_COOLOFF_TIME: SIGN_IN_COOLOFF, doubled for each earlier block of the same account
    from the same address within a day (the first block: SIGN_IN_COOLOFF). Without a request
    (the lists below), the base time."""
    base = _base_cool_off()
    if request is None:
        return base
    username, address = _who(request)
    if username is None or address is None:
        return base
    earlier = max(rounds(username, address) - 1, 0)
    return min(base * 2 ** min(earlier, 16), MAX_COOL_OFF)


def guessed_from_many(username: str, now: datetime.datetime | None = None) -> bool:
    """Whether the account had SIGN_IN_CHALLENGE_FAILURES failed sign-ins or more within
    ROUNDS_WINDOW, from SIGN_IN_CHALLENGE_ADDRESSES addresses or more (whatever the case the
    name was typed in)."""
    now = now or timezone.now()
    found = AccessFailureLog.objects.filter(
        username__iexact=username.strip(), attempt_time__gte=now - ROUNDS_WINDOW
    ).aggregate(failures=Count("id"), addresses=Count("ip_address", distinct=True))
    return (
        found["failures"] >= settings.SIGN_IN_CHALLENGE_FAILURES
        and found["addresses"] >= settings.SIGN_IN_CHALLENGE_ADDRESSES
    )


class SignInHandler(AxesDatabaseHandler):
    """axes' database handler, counting by account and address, and by address alone against
    the coarser ADDRESS_FAILURE_LIMIT."""

    def get_failures(self, request, credentials=None):
        pair = super().get_failures(request, credentials)
        threshold = request.axes_attempt_time - get_cool_off(request)
        address = (
            AccessAttempt.objects.filter(
                ip_address=request.axes_ip_address, attempt_time__gte=threshold
            ).aggregate(failures=Sum("failures_since_start"))["failures"]
            or 0
        )
        if address >= ADDRESS_FAILURE_LIMIT:
            return max(pair, get_failure_limit(request, credentials))
        return pair

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        # The log of blocks is kept only while it makes them grow.
        AccessFailureLog.objects.filter(attempt_time__lt=timezone.now() - ROUNDS_WINDOW).delete()


def _recent():
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - get_cool_off())


def blocked_usernames():
    """Accounts blocked from at least one address, with their failures, the addresses they are
    blocked from (`from`) and last attempt, newest first (`value`: one table template serves
    both lists)."""
    pairs = (
        _recent()
        .exclude(username__isnull=True)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )
    accounts = {}
    for pair in pairs:
        row = accounts.setdefault(
            pair["username"],
            {"username": pair["username"], "value": pair["username"], "failures": 0},
        )
        row["failures"] += pair["failures"]
        row.setdefault("from", []).append(pair["ip_address"])
        row["last_attempt"] = max(
            row.get("last_attempt", pair["last_attempt"]), pair["last_attempt"]
        )
    return sorted(accounts.values(), key=lambda row: row["last_attempt"], reverse=True)


def blocked_addresses():
    """Addresses over ADDRESS_FAILURE_LIMIT, as `blocked_usernames`."""
    rows = (
        _recent()
        .exclude(ip_address__isnull=True)
        .values("ip_address")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=ADDRESS_FAILURE_LIMIT)
        .order_by("-last_attempt")
    )
    return [{**row, "value": row["ip_address"]} for row in rows]


def lift_lockout(*, by, username=None, ip_address=None):
    """Forget the failed attempts of one account or of one address; returns how many
    records went. Exactly one of `username` and `ip_address`."""
    if (username is None) == (ip_address is None):
        raise ValueError("lift_lockout takes a username or an ip_address")
    count = AxesProxyHandler.reset_attempts(username=username, ip_address=ip_address)
    # and the blocks that made the next one longer
    AccessFailureLog.objects.filter(
        **{"username": username} if username is not None else {"ip_address": ip_address}
    ).delete()
    logger.info(
        "sign-in lockout lifted by %s: username=%s ip_address=%s (%d records)",
        by.get_username(),
        username,
        ip_address,
        count,
    )
    return count
