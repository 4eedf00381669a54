"""The one policy for every email to a donor, the gift emails (`crm.mail`) and the network's
messages (`outreach.mailing`) alike: the same retries (`MAX_ATTEMPTS`, `backoff`), the same
status order (`status_rank`, `TRACKING_STATUS`), the same Message-ID rule
(`message_id_header`) and one suppression list (`suppress_address`, `suppressed`): a bounce or
a spam complaint on any of them stops the network's newsletters and messages to that address.
"""

from datetime import timedelta

from anymail.signals import EventType
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from .models import SuppressedAddress

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)

# Delivery status only moves forward: webhooks arrive in any order (a late "sent" must not hide
# a "delivered"); a bounce or complaint after delivery is news and wins. By status value, shared
# by the gift emails (`DonorEmail.Status`) and the messages' deliveries (outreach); anything
# not yet out (queued, pending, failed, gave up, skipped) ranks 0.
_RANK = {"sent": 1, "delivered": 2, "bounced": 3, "complained": 3}
# What a provider's event says of an email's status, by status value.
TRACKING_STATUS = {
    EventType.SENT: "sent",
    EventType.QUEUED: "sent",
    EventType.DELIVERED: "delivered",
    EventType.BOUNCED: "bounced",
    EventType.REJECTED: "bounced",
    EventType.FAILED: "bounced",
    EventType.COMPLAINED: "complained",
}
# The statuses that suppress the address for the network.
SUPPRESSING = {
    "bounced": SuppressedAddress.Reason.BOUNCED,
    "complained": SuppressedAddress.Reason.COMPLAINED,
}


def status_rank(status: str) -> int:
    """How far an email got: a status only ever moves to a higher rank."""
    return _RANK.get(str(status), 0)


def message_id_header(kind: str, key: object, stamp: object) -> str:
    """One Message-ID per email whatever the attempt: should a crash ever make us send the
    same email twice, mail clients see one message."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">") or "trama.local"
    return f"<trama.{kind}.{key}.{stamp}@{domain}>"


def suppressed(network_id: int) -> "QuerySet[SuppressedAddress]":
    """The network's suppressed addresses (`email` lower-case)."""
    return SuppressedAddress.objects.filter(network_id=network_id)


def suppress_address(
    network_id: int, email: str, reason: str, *, detail: str = "", source: str = ""
) -> None:
    """No later newsletter or message of the network goes to `email`. Idempotent (a second
    event for the same address, or a concurrent one, keeps the first row)."""
    if not network_id or not email:
        return
    try:
        with transaction.atomic():
            SuppressedAddress.objects.get_or_create(
                network_id=network_id,
                email=email.strip().lower(),
                defaults={"reason": reason, "detail": detail[:2000], "source": source},
            )
    except IntegrityError:  # the same address suppressed by a concurrent event
        pass


def backoff(attempts):
    """1, 2, 4, 8 … minutes after the n-th failure, capped at six hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _network_of(email):
    """The network an email speaks for, from whatever it is about."""
    for related in ("donation", "recurring_plan", "donor", "receipt"):
        if getattr(email, f"{related}_id", None):
            return getattr(email, related).network
    return None
