"""What a statement file says, whatever its format (`banking.camt`, `banking.bank_csv`)."""

import datetime
import hashlib
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from crm.money import format_amount

# What a statement line's amount column keeps (a BigIntegerField): a credit larger than a gift
# can be is still the bank's word, kept to review (`banking.admin_views.decide` makes no gift
# of it).
MAX_LINE_CENTS = 2**63 - 1


class StatementRefused(ValueError):
    """The file cannot be read as a statement: the message is for the treasurer."""


@dataclass
class Movement:
    bank_reference: str
    booked_on: datetime.date
    amount_cents: int  # always positive; `credit` says the direction
    credit: bool
    currency: str = "EUR"
    value_on: datetime.date | None = None
    reversal: bool = False
    returned: bool = False
    remittance: str = ""
    name: str = ""
    iban: str = ""


@dataclass
class ParsedStatement:
    kind: str
    version: str = ""
    statement_id: str = ""
    account: str = ""
    movements: list[Movement] = field(default_factory=list)


# What a statement line keeps (banking.models.StatementLine): a movement past it is refused
# with the file, never a database error (a 500) halfway through.
MAX_REFERENCE = 140
MAX_IBAN = 42


def fitted_reference(reference: str) -> str:
    """The bank's reference as a line keeps it: a longer one is cut and ends with its own
    fingerprint, the same in every statement that brings it (cut alone, the overlap of two
    statements would not be recognised and the second would fail on the line's uniqueness)."""
    if len(reference) <= MAX_REFERENCE:
        return reference
    digest = hashlib.sha256(reference.encode()).hexdigest()[:40]
    return f"{reference[: MAX_REFERENCE - 41]}#{digest}"


def check(parsed: ParsedStatement) -> ParsedStatement:
    """StatementRefused if a line could not be kept as the file says it (an amount past what
    a line's column keeps, a currency that is not a code, an IBAN that is not one)."""
    if len(parsed.account) > MAX_IBAN:
        raise StatementRefused(_("The statement's account is not an IBAN: %s") % parsed.account)
    parsed.statement_id = fitted_reference(parsed.statement_id)
    for number, movement in enumerate(parsed.movements, start=1):
        if movement.amount_cents > MAX_LINE_CENTS:
            raise StatementRefused(
                _("Line %(n)s: the amount is more than %(limit)s, more than any bank line.")
                % {"n": number, "limit": format_amount(MAX_LINE_CENTS)}
            )
        if not (len(movement.currency) == 3 and movement.currency.isalpha()):
            raise StatementRefused(
                _("Line %(n)s: the currency is not a three-letter code.") % {"n": number}
            )
        if len(movement.iban) > MAX_IBAN:
            raise StatementRefused(
                _("Line %(n)s: the payer's IBAN cannot be read.") % {"n": number}
            )
        movement.bank_reference = fitted_reference(movement.bank_reference)
    return parsed
