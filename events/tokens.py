"""A ticket's signed token: what its QR code carries (a guessed code is not a ticket)."""

from django.core import signing

from .models import Fundraiser, Ticket

TICKET_SALT = "events.ticket"
CONFIRM_SALT = "events.fundraiser.confirm"


def ticket_token(ticket: Ticket) -> str:
    """What the ticket's QR code carries: its code, signed (a guessed code is not a ticket)."""
    return signing.dumps(ticket.code, salt=TICKET_SALT)


def code_from_token(token: str) -> str | None:
    try:
        return str(signing.loads(token, salt=TICKET_SALT))
    except signing.BadSignature:
        return None


def confirm_token(page: Fundraiser) -> str:
    """The link a supporter opens to confirm the email of their personal page."""
    return signing.dumps(page.pk, salt=CONFIRM_SALT)
