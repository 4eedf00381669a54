"""Reading a bank statement in: refused whole with a clear message if it cannot be read (nothing
written), recognised if it came before (by its hash, or its statement id and account: nothing
added), else stored privately with one line per new movement (a movement already read from an
overlapping statement is not added twice: a line is unique by network, account and the bank's
reference), each line classified and its credits matched (`banking.matching`)."""

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from crm.models import Network

from . import matching
from .bank_csv import parse_csv
from .camt import parse_camt053
from .models import CsvMapping, Statement, StatementLine
from .parsed import Movement, ParsedStatement, StatementRefused, check

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def max_bytes() -> int:
    return int(getattr(settings, "BANK_STATEMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass
class Upload:
    statement: Statement
    created: bool


def parse(data: bytes, kind: str, mapping: CsvMapping | None = None) -> ParsedStatement:
    if len(data) > max_bytes():
        raise StatementRefused(
            _("The file is too large (at most %(size)s).") % {"size": filesizeformat(max_bytes())}
        )
    if kind == Statement.Kind.CSV:
        if mapping is None:
            raise StatementRefused(_("Choose the bank whose CSV this is."))
        return check(parse_csv(data, mapping))
    return check(parse_camt053(data))


def _earlier(network: Network, sha: str, parsed: ParsedStatement) -> Statement | None:
    same = Q(sha256=sha)
    if parsed.statement_id:
        same |= Q(account=parsed.account, statement_id=parsed.statement_id)
    return Statement.objects.filter(same, network=network).first()


def import_statement(
    *,
    network: Network,
    data: bytes,
    filename: str,
    kind: str,
    mapping: CsvMapping | None = None,
    user: "User | None" = None,
) -> Upload:
    """Read a statement for `network`: StatementRefused (nothing written) if it cannot be."""
    if mapping is not None and mapping.network_id != network.pk:
        raise StatementRefused(_("This CSV mapping belongs to another network."))
    parsed = parse(data, kind, mapping)
    sha = hashlib.sha256(data).hexdigest()
    earlier = _earlier(network, sha, parsed)
    if earlier is not None:
        return Upload(earlier, False)
    try:
        with transaction.atomic():
            statement = Statement(
                network=network,
                kind=kind,
                version=parsed.version,
                filename=filename[-255:],
                sha256=sha,
                statement_id=parsed.statement_id,
                account=parsed.account,
                uploaded_by=user,
            )
            statement.file.save(filename[-80:] or "statement", ContentFile(data), save=False)
            statement.save()
            added = [line for m in parsed.movements if (line := _add_line(statement, m))]
            statement.lines_added = len(added)
            statement.save(update_fields=["lines_added"])
            for line in added:
                matching.settle_new_line(line)
    except IntegrityError:  # the same statement, uploaded at the same moment by someone else
        earlier = _earlier(network, sha, parsed)
        if earlier is None:
            raise
        return Upload(earlier, False)
    return Upload(statement, True)


def _kind(movement: Movement) -> str:
    if movement.reversal:
        return StatementLine.Kind.REVERSAL
    if movement.returned:
        return StatementLine.Kind.RETURN
    return StatementLine.Kind.CREDIT if movement.credit else StatementLine.Kind.DEBIT


def _add_line(statement: Statement, movement: Movement) -> StatementLine | None:
    """The new line for `movement`, or None if an earlier statement already brought it."""
    network = statement.network
    account = statement.account
    if StatementLine.objects.filter(
        network=network, account=account, bank_reference=movement.bank_reference
    ).exists():
        return None
    kind = _kind(movement)
    return StatementLine.objects.create(
        statement=statement,
        network=network,
        account=account,
        bank_reference=movement.bank_reference,
        booked_on=movement.booked_on,
        value_on=movement.value_on,
        amount_cents=movement.amount_cents,
        currency=movement.currency,
        kind=kind,
        status=(
            StatementLine.Status.REVIEW
            if kind == StatementLine.Kind.CREDIT
            else StatementLine.Status.NOT_A_GIFT
        ),
        remittance=movement.remittance,
        name=movement.name,
        iban=movement.iban,
    )
