"""The proof of work: a small price a browser pays, without a person doing anything, for each
attempt at something an attacker would try by the thousand (a busy campaign's checkout
starts, `campaigns.challenge`; the sign-in of an account guessed from many addresses,
`accounts.forms`). No third party sees the visitor.

The browser finds a number `n` such that SHA-256("<puzzle>:<n>") starts with `difficulty`
zero bits (static/js/proof_of_work.js, static/js/giving.js: 2^difficulty hashes on average,
65,536 at 16) and posts it as `pow_answer` with `pow_puzzle`. We check it with one hash. A
puzzle is signed (not stored), names its `scope` (the campaign, the account), expires after
PUZZLE_MAX_AGE seconds and is accepted once (its nonce taken in the shared cache): an
attacker pays the work for every attempt instead of once.
"""

import hashlib
import secrets
from collections.abc import Mapping

from django.conf import settings
from django.core import signing
from django.core.cache import cache

PUZZLE_MAX_AGE = 15 * 60


def difficulty() -> int:
    return getattr(settings, "GIVING_CHALLENGE_DIFFICULTY", 16)


def new_puzzle(scope: str, *, salt: str) -> tuple[str, int]:
    """A fresh signed puzzle for `scope`, and its difficulty."""
    bits = difficulty()
    return signing.dumps({"s": scope, "n": secrets.token_hex(8), "d": bits}, salt=salt), bits


def solved(data: Mapping[str, str], scope: str, *, salt: str) -> bool:
    """Whether the posted `data` carries a solved puzzle of `scope`, seen for the first time."""
    puzzle = data.get("pow_puzzle", "") or ""
    answer = data.get("pow_answer", "") or ""
    if not (answer.isascii() and answer.isdigit() and len(answer) <= 12):
        return False
    try:
        found = signing.loads(puzzle, salt=salt, max_age=PUZZLE_MAX_AGE)
    except signing.BadSignature:
        return False
    if found.get("s") != scope:
        return False
    digest = hashlib.sha256(f"{puzzle}:{answer}".encode()).digest()
    if int.from_bytes(digest) >> (256 - int(found["d"])):
        return False
    # Once: the first attempt that shows this solved puzzle takes its nonce.
    return bool(cache.add(f"pow:{salt}:{found['n']}", 1, PUZZLE_MAX_AGE + 60))
