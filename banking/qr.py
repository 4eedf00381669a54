"""The EPC QR code (the European Payments Council's "SCT" quick response code, guideline
EPC069-12: version 002, character set 1 = UTF-8, identification SCT) a banking app scans to
fill in a SEPA credit transfer: BIC, beneficiary, IBAN, amount and the RF reference (the
structured remittance line; the unstructured one left empty, as the guideline asks of one or
the other). The symbol is made by segno with the guideline's error correction level M, as
`segno.helpers.make_epc_qr` does."""

from decimal import Decimal

import segno

from crm.money import cents_to_decimal

from .models import BankDetails, Pledge

MAX_PAYLOAD_BYTES = 331


def _compact(value: str) -> str:
    return "".join(str(value or "").split()).upper()


def epc_payload(details: BankDetails, pledge: Pledge) -> bytes:
    """The bytes the QR code carries, line by line as in EPC069-12 §5.3."""
    amount: Decimal = cents_to_decimal(pledge.amount_cents)
    lines = [
        "BCD",  # service tag
        "002",  # version
        "1",  # character set: UTF-8
        "SCT",  # identification: SEPA credit transfer
        _compact(details.bic),
        details.beneficiary.strip()[:70],
        _compact(details.iban),
        f"EUR{amount:.2f}",
        "",  # purpose
        pledge.reference,  # structured remittance: the ISO 11649 creditor reference
    ]
    payload = "\n".join(lines).encode("utf-8")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError("EPC payload too long")
    return payload


def epc_qr(details: BankDetails, pledge: Pledge) -> segno.QRCode:
    return segno.make_qr(epc_payload(details, pledge), error="m", boost_error=False)


def epc_svg(details: BankDetails, pledge: Pledge) -> str:
    """The QR code as inline SVG markup (no XML declaration), with its quiet zone."""
    return str(epc_qr(details, pledge).svg_inline(scale=5, title="EPC QR"))


def parse_epc(payload: bytes | str) -> dict:
    """The fields of an EPC payload (for tests and checks)."""
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    lines = [*text.split("\n"), *[""] * 12]
    keys = ("service", "version", "charset", "identification", "bic", "name", "iban")
    fields = dict(zip(keys, lines[:7], strict=True))
    fields.update(amount=lines[7], purpose=lines[8], reference=lines[9], text=lines[10])
    return fields
