"""The one way an email to a donor leaves Trama: gift and plan emails (`crm.mail`, rows of
`DonorEmail`) and the network's messages (`outreach.mailing`, rows of `Delivery`) alike.

- `email_message` builds the email with the one Message-ID rule (`message_id_header`: stable
  per email whatever the attempt, so a copy sent again after a crash is the same message).
- `send` checks the one suppression list, hands the email to the mail backend (every backend
  gives up after MAIL_TIMEOUT seconds, see config/mailers.py) outside any transaction, and
  returns an `Outcome`: the status (one set of values, `SendStatus`), the provider's id or our
  Message-ID, the error and, by the one retry policy (`MAX_ATTEMPTS`, `backoff`), when to try
  again. `Outcome.values` is what the caller writes on its row, under its own claim.

Who is stopped by the suppression list (`Purpose`), as the law allows:
- MARKETING (messages, newsletters): stopped by a bounce or a spam complaint on any email to the
  address; sending them needs consent, and a complaint withdraws it (GDPR art. 21(2)-(3),
  Codice Privacy art. 130).
- OWED (receipts, gift confirmations, refunds, plan notices, a failed payment): the donor is
  owed them for a gift or a plan they made (GDPR art. 6(1)(b)-(c)), so a complaint does not
  stop them; a hard bounce does, since the address takes no mail and every further send only
  harms the network's standing with providers. The row says "skipped" with the reason; the
  receipt stays on the donor's page and in the admin, to send again once the address is fixed.
- REQUESTED (the newsletter's confirmation link, the links to the plan or the donor's page):
  the donor asked for it just now, which is newer than any bounce or complaint: never stopped.
"""

import datetime
import enum
from collections.abc import Collection
from dataclasses import dataclass

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import connection as db_connection
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .mail_policy import MAX_ATTEMPTS, backoff, message_id_header, suppressed
from .models import SuppressedAddress


class Purpose(enum.StrEnum):
    MARKETING = "marketing"
    OWED = "owed"
    REQUESTED = "requested"


# The suppression reasons that stop each purpose.
STOPPED_BY = {
    Purpose.MARKETING: {SuppressedAddress.Reason.BOUNCED, SuppressedAddress.Reason.COMPLAINED},
    Purpose.OWED: {SuppressedAddress.Reason.BOUNCED},
    Purpose.REQUESTED: set(),
}


class SendStatus(models.TextChoices):
    """What one attempt left on the row: the values both tables' `Status` share (with their
    own waiting state, "queued" or "pending", and the provider's later news: delivered,
    bounced, complained, ranked by `crm.mail_policy.status_rank`)."""

    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Failed, gave up")
    SKIPPED = "skipped", _("Not sent: the address is suppressed")


@dataclass(frozen=True)
class Outcome:
    status: str
    provider_id: str = ""  # the provider's id, or our Message-ID if it gives none
    error: str = ""
    next_attempt_at: datetime.datetime | None = None
    sent_at: datetime.datetime | None = None

    @property
    def sent(self) -> bool:
        return self.status == SendStatus.SENT

    def values(self, id_field: str) -> dict[str, object]:
        """The fields to write on the email's row (its provider id in `id_field`)."""
        values: dict[str, object] = {
            "status": self.status,
            "last_error": self.error,
            "next_attempt_at": self.next_attempt_at,
        }
        if self.sent:
            values.update({id_field: self.provider_id, "sent_at": self.sent_at})
        return values


def email_message(
    *,
    kind: str,
    key: object,
    stamp: object,
    subject: str,
    text: str,
    html: str,
    to: str,
    from_email: str | None = None,
    reply_to: list[str] | None = None,
    headers: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    tags: list[str] | None = None,
) -> EmailMultiAlternatives:
    """One email to one donor, HTML with its text, carrying the one Message-ID rule."""
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=from_email,
        to=[to],
        reply_to=reply_to or [],
        headers={"Message-ID": message_id_header(kind, key, stamp), **(headers or {})},
    )
    message.attach_alternative(html, "text/html")
    # anymail: ties provider events back to the row; harmless for other backends.
    message.metadata = metadata or {}  # type: ignore[attr-defined]
    message.tags = tags or [kind]  # type: ignore[attr-defined]
    return message


def stopped(network_id: int | None, addresses: Collection[str], purpose: Purpose) -> set[str]:
    """Of `addresses`, those (lower-case) the network's suppression list stops for `purpose`."""
    reasons = STOPPED_BY[purpose]
    if not network_id or not addresses or not reasons:
        return set()
    return set(
        suppressed(network_id)
        .filter(email__in={a.strip().lower() for a in addresses}, reason__in=reasons)
        .values_list("email", flat=True)
    )


def failure(exc: BaseException, attempts: int) -> Outcome:
    """The `attempts`-th attempt failed: try again after `backoff`, or give up after
    MAX_ATTEMPTS (the one retry policy)."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if attempts >= MAX_ATTEMPTS:
        return Outcome(SendStatus.GAVE_UP, error=error)
    return Outcome(
        SendStatus.FAILED, error=error, next_attempt_at=timezone.now() + backoff(attempts)
    )


def _in_transaction() -> bool:
    """An atomic block of ours is open (a test case's own wrapping does not count)."""
    return any(not getattr(b, "_from_testcase", False) for b in db_connection.atomic_blocks)


def send(
    message: EmailMessage,
    *,
    network_id: int | None,
    purpose: Purpose,
    attempts: int,
    connection=None,
    stopped_addresses: Collection[str] | None = None,
) -> Outcome:
    """Send `message` (its `attempts`-th attempt, counting this one) unless the suppression
    list stops it; `stopped_addresses`, when given, is that list already read for a batch.
    Never inside a transaction: a slow provider must hold no lock. `connection` is an open
    connection of the default mailer (a batch's), else the default mailer is opened for it."""
    if _in_transaction():
        raise RuntimeError("an email is sent outside any transaction")
    to = {address.strip().lower() for address in message.to}
    if stopped_addresses is None:
        stopped_addresses = stopped(network_id, to, purpose)
    if to and to <= set(stopped_addresses):
        reasons = suppressed(network_id or 0).filter(email__in=to).values_list("reason", flat=True)
        return Outcome(SendStatus.SKIPPED, error=f"suppressed: {', '.join(sorted(reasons))}")
    try:
        if connection is None:
            message.send(using="default")
        else:
            connection.send_messages([message])
    except Exception as exc:  # noqa: BLE001  (recorded on the row, retried by the policy)
        return failure(exc, attempts)
    status = getattr(message, "anymail_status", None)
    provider_id = status.message_id if status is not None else None
    header_id = message.extra_headers.get("Message-ID", "")
    return Outcome(
        SendStatus.SENT,
        provider_id=str(provider_id or header_id)[:255],
        sent_at=timezone.now(),
    )
