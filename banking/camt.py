"""camt.053 (ISO 20022 BankToCustomerStatement), the versions Italian banks send (001.02 and
later ones: 001.04 … 001.08 and on), read safely: defusedxml refuses any DTD, entity or
external reference (billion laughs, XXE) and the caller caps the size first.

Each entry (`Ntry`) is a movement; a batch entry with several transactions (`TxDtls`) gives one
movement per transaction. Credits and debits by `CdtDbtInd`; a reversal by `RvslInd`; a
returned transfer by its bank transaction code (sub-family ...RRTN / RTR) or its return
information (`RtrInf`). Only booked entries (`Sts` BOOK) are read."""

import datetime
import hashlib
import re
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.utils.translation import gettext as _

from .parsed import Movement, ParsedStatement, StatementRefused

NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.(\d{3}\.\d{2})\}Document$")
RETURN_CODES = {"RRTN", "RPCR", "RCDT-RRTN", "ARET"}


def _strip(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(node: Element | None, path: str) -> Element | None:
    """The first descendant along `path` (local names, "/"-separated), namespaces ignored."""
    for step in path.split("/"):
        if node is None:
            return None
        node = next((c for c in node if _strip(c.tag) == step), None)
    return node


def _all(node: Element | None, name: str) -> list[Element]:
    return [c for c in node if _strip(c.tag) == name] if node is not None else []


def _text(node: Element | None, path: str) -> str:
    found = _find(node, path)
    return " ".join((found.text or "").split()) if found is not None else ""


def _date(node: Element | None) -> datetime.date | None:
    text = _text(node, "Dt") or _text(node, "DtTm")[:10]
    try:
        return datetime.date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise StatementRefused(_("A date of the statement cannot be read: %s") % text) from exc


def _cents(node: Element | None) -> tuple[int, str]:
    if node is None:
        raise StatementRefused(_("An entry of the statement has no amount."))
    try:
        amount = Decimal((node.text or "").strip())
        # quantize() raises too, on more digits than a Decimal keeps
        exact = amount.is_finite() and amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise StatementRefused(_("An amount of the statement cannot be read.")) from exc
    if amount < 0 or not exact:
        raise StatementRefused(_("An amount of the statement cannot be read."))
    return int(amount * 100), node.get("Ccy", "EUR")


def parse_camt053(data: bytes) -> ParsedStatement:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise StatementRefused(
            _("The file declares a DTD or entities: statements never do, so it was refused.")
        ) from exc
    except (ParseError, ValueError) as exc:
        raise StatementRefused(_("The file is not well-formed XML.")) from exc
    match = NAMESPACE.match(root.tag)
    if not match:
        raise StatementRefused(_("The file is not a camt.053 bank statement."))
    statement = _find(root, "BkToCstmrStmt/Stmt")
    if statement is None:
        raise StatementRefused(_("The file holds no statement."))
    account = _text(statement, "Acct/Id/IBAN") or _text(statement, "Acct/Id/Othr/Id")
    parsed = ParsedStatement(
        kind="camt053",
        version=f"camt.053.{match.group(1)}",
        statement_id=_text(statement, "Id"),
        account=account.replace(" ", "").upper(),
    )
    for index, entry in enumerate(_all(statement, "Ntry")):
        parsed.movements.extend(_movements(entry, index, parsed))
    return parsed


def _booked(entry: Element) -> bool:
    status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
    return status in ("", "BOOK")


def _family(entry: Element, details: Element | None) -> str:
    for node in (details, entry):
        domain = _find(node, "BkTxCd/Domn")
        if domain is not None:
            return f"{_text(domain, 'Fmly/Cd')}-{_text(domain, 'Fmly/SubFmlyCd')}"
    return ""


def _party(details: Element | None, role: str) -> tuple[str, str]:
    parties = _find(details, "RltdPties")
    name = _text(parties, f"{role}/Nm") or _text(parties, f"{role}/Pty/Nm")
    iban = _text(parties, f"{role}Acct/Id/IBAN")
    return name, iban.replace(" ", "").upper()


def _remittance(details: Element | None) -> str:
    info = _find(details, "RmtInf")
    parts = [" ".join((u.text or "").split()) for u in _all(info, "Ustrd")]
    for structured in _all(info, "Strd"):
        parts.append(_text(structured, "CdtrRefInf/Ref"))
    return " ".join(p for p in parts if p)[:500]


def _movements(entry: Element, index: int, parsed: ParsedStatement) -> list[Movement]:
    if not _booked(entry):
        return []
    credit = _text(entry, "CdtDbtInd") == "CRDT"
    reversal = _text(entry, "RvslInd").lower() in ("true", "1")
    booked = _date(_find(entry, "BookgDt")) or _date(_find(entry, "ValDt"))
    if booked is None:
        raise StatementRefused(_("An entry of the statement has no booking date."))
    value_on = _date(_find(entry, "ValDt"))
    entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    details = [tx for block in _all(entry, "NtryDtls") for tx in _all(block, "TxDtls")]
    entry_cents, currency = _cents(_find(entry, "Amt"))
    rows: list[Element | None] = [*details] or [None]
    movements = []
    for position, tx in enumerate(rows):
        amount = _find(tx, "Amt")
        if amount is None:
            amount = _find(tx, "AmtDtls/TxAmt/Amt")
        several = amount is not None and len(rows) > 1
        cents, ccy = _cents(amount) if several else (entry_cents, currency)
        role = "Dbtr" if credit else "Cdtr"
        name, iban = _party(tx, role)
        family = _family(entry, tx)
        returned = _find(tx, "RtrInf") is not None or family.split("-")[-1] in RETURN_CODES
        tx_ref = _text(tx, "Refs/AcctSvcrRef") or _text(tx, "Refs/EndToEndId")
        if tx_ref == "NOTPROVIDED":
            tx_ref = ""
        reference = (
            f"{entry_ref}/{position}" if entry_ref and len(rows) > 1 else entry_ref
        ) or tx_ref
        movement = Movement(
            bank_reference="",
            booked_on=booked,
            value_on=value_on,
            amount_cents=cents,
            currency=ccy,
            credit=credit,
            reversal=reversal,
            returned=returned,
            remittance=_remittance(tx) or _text(entry, "AddtlNtryInf")[:500],
            name=name[:140],
            iban=iban,
        )
        movement.bank_reference = reference or _fallback_reference(parsed, index, movement)
        movements.append(movement)
    return movements


def _fallback_reference(parsed: ParsedStatement, index: int, movement: Movement) -> str:
    """A bank that gives no reference: the movement's own fingerprint in its statement."""
    key = "|".join(
        str(x)
        for x in (
            parsed.statement_id,
            index,
            movement.booked_on,
            movement.amount_cents,
            movement.credit,
            movement.remittance,
        )
    )
    return "h:" + hashlib.sha256(key.encode()).hexdigest()[:40]
