"""A bank's CSV export read through the network's saved mapping for that bank (`CsvMapping`):
which column holds the date, the amount (signed, or a credit and a debit column), the
description, the payer's name and IBAN, the bank's reference."""

import csv
import datetime
import hashlib
import io
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .models import CsvMapping
from .parsed import Movement, ParsedStatement, StatementRefused


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # a UTF-16 file, or not text at all
            return text
    raise StatementRefused(_("The file's text cannot be read."))


def _cents(text: str, decimal_comma: bool) -> int:
    value = (text or "").strip().replace("€", "").replace(" ", "")
    if not value:
        return 0
    negative = value.startswith("-")
    value = value.lstrip("+-")
    value = value.replace(".", "").replace(",", ".") if decimal_comma else value.replace(",", "")
    try:
        amount = Decimal(value)
        # quantize() raises too, on more digits than a Decimal keeps
        exact = amount.is_finite() and amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise StatementRefused(_("An amount cannot be read: %s") % text) from exc
    if not exact:
        raise StatementRefused(_("An amount cannot be read: %s") % text)
    cents = int(amount * 100)
    return -cents if negative else cents


def _date(text: str, fmt: str) -> datetime.date:
    try:
        return datetime.datetime.strptime((text or "").strip(), fmt).date()
    except ValueError as exc:
        raise StatementRefused(_("A date cannot be read: %s") % text) from exc


def parse_csv(data: bytes, mapping: CsvMapping) -> ParsedStatement:
    try:
        return _parse_csv(data, mapping)
    except csv.Error as exc:  # a cell over the csv module's limit (131,072 characters)
        raise StatementRefused(_("The file is not a CSV the bank could have written.")) from exc


def _parse_csv(data: bytes, mapping: CsvMapping) -> ParsedStatement:
    lines = _decode(data).splitlines()[mapping.skip_lines :]
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter=mapping.delimiter)
    header = set(reader.fieldnames or [])
    needed = [mapping.date_column, mapping.description_column]
    needed += [mapping.amount_column] if mapping.amount_column else [mapping.credit_column]
    missing = [c for c in needed if c and c not in header]
    if missing or not (mapping.amount_column or mapping.credit_column):
        raise StatementRefused(
            _("The file has no column %(columns)s: is it from %(bank)s?")
            % {"columns": ", ".join(missing) or "?", "bank": mapping.bank}
        )
    parsed = ParsedStatement(kind="csv", version=mapping.bank)
    for number, row in enumerate(reader, start=1):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        parsed.movements.append(_movement(row, number, mapping))
    return parsed


def _movement(row: dict, number: int, mapping: CsvMapping) -> Movement:
    def col(name: str) -> str:
        return str(row.get(name) or "").strip() if name else ""

    if mapping.amount_column:
        signed = _cents(col(mapping.amount_column), mapping.decimal_comma)
    else:
        signed = abs(_cents(col(mapping.credit_column), mapping.decimal_comma)) - abs(
            _cents(col(mapping.debit_column), mapping.decimal_comma)
        )
    if signed == 0:
        raise StatementRefused(_("Line %(n)s has no amount.") % {"n": number})
    booked = _date(col(mapping.date_column), mapping.date_format)
    value_text = col(mapping.value_date_column)
    movement = Movement(
        bank_reference=col(mapping.reference_column),
        booked_on=booked,
        value_on=_date(value_text, mapping.date_format) if value_text else None,
        amount_cents=abs(signed),
        credit=signed > 0,
        remittance=col(mapping.description_column)[:500],
        name=col(mapping.name_column)[:140],
        iban=col(mapping.iban_column).replace(" ", "").upper(),
    )
    if not movement.bank_reference:
        key = f"{booked}|{signed}|{movement.remittance}|{movement.name}|{number}"
        movement.bank_reference = "h:" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return movement
