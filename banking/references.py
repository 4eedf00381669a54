"""ISO 11649 creditor references ("RF" + two check digits + up to 21 characters): the check
digits are ISO 7064 MOD 97-10, computed as for an IBAN (the body, then "RF00", letters as
numbers A=10 … Z=35; 98 minus the remainder). Our bodies are 15 random digits: easy to type
in a banking app, and found again in a statement's remittance text whatever its spacing."""

import re
import secrets

BODY_DIGITS = 15
_FOUND = re.compile(rf"RF\d{{2}}[0-9]{{{BODY_DIGITS}}}(?![0-9])")


def _numeric(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text))


def with_check_digits(body: str) -> str:
    body = body.upper()
    check = 98 - _numeric(body + "RF00") % 97
    return f"RF{check:02d}{body}"


def is_valid(reference: str) -> bool:
    ref = "".join(reference.split()).upper()
    if not re.fullmatch(r"RF\d{2}[0-9A-Z]{1,21}", ref):
        return False
    return _numeric(ref[4:] + ref[:4]) % 97 == 1


def new_reference() -> str:
    body = "".join(secrets.choice("0123456789") for _ in range(BODY_DIGITS))
    return with_check_digits(body)


def grouped(reference: str) -> str:
    """`RF18 5390 0754 7034`: in fours, as people read it out."""
    return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))


def find_references(text: str) -> list[str]:
    """The valid RF references of ours in a remittance text (spaces and case aside)."""
    squeezed = "".join(str(text or "").split()).upper()
    return [ref for ref in _FOUND.findall(squeezed) if is_valid(ref)]
