"""Sign-in lockouts (django-axes, database handler): who is blocked now, and lifting a block.

Axes counts failed sign-ins per username and per client address (AXES_LOCKOUT_PARAMETERS in
config/settings.py): AXES_FAILURE_LIMIT failures on one account from anywhere, or from one
address on any accounts, block further attempts until AXES_COOLOFF_TIME has passed since the
last counted failure. A superuser lifts a block early from Settings → Sign-in security (or
`manage.py axes_reset_username <name>` / `axes_reset_ip <address>`).
"""

import logging

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone

logger = logging.getLogger(__name__)


def _blocked(field):
    """Values of `field` (username or ip_address) whose failures within the cool-off reach
    the limit, with their count and last attempt, newest first; each row also names its
    value `value` (one table template serves both lists)."""
    recent = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - get_cool_off())
    rows = (
        recent.exclude(**{f"{field}__isnull": True})
        .values(field)
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last_attempt")
    )
    return [{**row, "value": row[field]} for row in rows]


def blocked_usernames():
    return _blocked("username")


def blocked_addresses():
    return _blocked("ip_address")


def lift_lockout(*, by, username=None, ip_address=None):
    """Forget the failed attempts of one account or of one address; returns how many
    records went. Exactly one of `username` and `ip_address`."""
    if (username is None) == (ip_address is None):
        raise ValueError("lift_lockout takes a username or an ip_address")
    count = AxesProxyHandler.reset_attempts(username=username, ip_address=ip_address)
    logger.info(
        "sign-in lockout lifted by %s: username=%s ip_address=%s (%d records)",
        by.get_username(),
        username,
        ip_address,
        count,
    )
    return count
