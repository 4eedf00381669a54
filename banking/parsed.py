"""What a statement file says, whatever its format (`banking.camt`, `banking.bank_csv`)."""

import datetime
from dataclasses import dataclass, field


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
