"""One account guessed from many addresses: each address is stopped at its own limit, but a
botnet has thousands. After SIGN_IN_CHALLENGE_FAILURES failures on the account from
SIGN_IN_CHALLENGE_ADDRESSES addresses or more, its sign-in form asks the proof of work (the
same as busy campaigns, `crm.challenge`): a guess without it tests no password, so each guess
costs the guesser; the real user still signs in (their browser solves it), nobody is locked
out."""

import hashlib
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "una-Password-lunga-42"
OFFICE = "192.0.2.44"


@pytest.fixture
def colleague(db):
    return get_user_model().objects.create_user("tesoriera", "tesoriera@example.org", PASSWORD)


def sign_in(username, password, ip, **extra):
    return Client().post(
        "/admin/login/", {"username": username, "password": password, **extra}, REMOTE_ADDR=ip
    )


def solve(html):
    """What the browser does (static/js/proof_of_work.js)."""
    puzzle = re.search(r'name="pow_puzzle" value="([^"]+)"', html).group(1)
    difficulty = int(re.search(r'data-difficulty="(\d+)"', html).group(1))
    answer = 0
    while int.from_bytes(hashlib.sha256(f"{puzzle}:{answer}".encode()).digest()) >> (
        256 - difficulty
    ):
        answer += 1
    return {"pow_puzzle": puzzle, "pow_answer": str(answer)}


def guess_from_many(username, count):
    for n in range(count):
        # a new address for every guess, as a botnet does: no address reaches its own limit
        assert sign_in(username, f"guess-{n}", f"198.51.100.{n + 10}").status_code == 200


def test_an_account_guessed_from_many_addresses_asks_a_challenge_not_a_lockout(colleague):
    # given a colleague's sign-in that asks nothing while guesses are few
    below = settings.SIGN_IN_CHALLENGE_FAILURES - 1
    guess_from_many("tesoriera", below)
    assert "pow_puzzle" not in sign_in("tesoriera", "guess-x", "198.51.100.250").content.decode()

    # when the account was guessed from many addresses (a botnet)
    guess_from_many("Tesoriera", 2)

    # then a guess without the challenge is refused before the password is tried: even the
    # right password does not pass without it, and the form carries the challenge
    asked = sign_in("tesoriera", PASSWORD, "203.0.113.77")
    assert asked.status_code == 200 and "_auth_user_id" not in asked.client.session
    page = asked.content.decode()
    assert 'data-testid="challenge"' in page and "proof_of_work.js" in page
    # a wrong or a forged answer is refused
    solution = solve(page)
    wrong = {**solution, "pow_answer": str(int(solution["pow_answer"]) + 1)}
    forged = {**solution, "pow_puzzle": solution["pow_puzzle"][:-2] + "xx"}
    for attempt in (wrong, forged):
        assert sign_in("tesoriera", PASSWORD, OFFICE, **attempt).status_code == 200

    # and the colleague signs in from the office, their browser solving the challenge
    signed_in = sign_in("tesoriera", PASSWORD, OFFICE, **solution)
    assert signed_in.status_code == 302
    # a solved puzzle is taken once: the guesser cannot reuse it
    assert sign_in("tesoriera", "guess-y", "203.0.113.78", **solution).status_code == 200


def test_guesses_from_one_address_do_not_ask_the_challenge(colleague):
    # the owner mistyping from home is stopped by the per-address block, not a challenge
    for n in range(settings.SIGN_IN_CHALLENGE_FAILURES + 2):
        sign_in("tesoriera", f"typo-{n}", "203.0.113.5")
    response = sign_in("tesoriera", PASSWORD, OFFICE)
    assert response.status_code == 302
