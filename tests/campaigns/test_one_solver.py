"""One proof-of-work solver for every form that asks it (sign-in, a busy campaign's or event's
form): static/js/proof_of_work.js. A second copy would drift (a fix made in one only)."""

from pathlib import Path

import pytest

from .test_card_testing_attack import solve
from .test_giving import FORM, give_url

STATIC = Path(__file__).resolve().parents[2] / "static" / "js"
pytestmark = pytest.mark.django_db


def test_the_solver_is_written_once():
    scripts = {path.name: path.read_text() for path in STATIC.glob("*.js")}
    solvers = [name for name, text in scripts.items() if "crypto.subtle.digest" in text]
    assert solvers == ["proof_of_work.js"]


def test_a_busy_campaign_asks_the_check_with_the_one_solver(client, campaign, settings):
    # given a campaign so busy that every start is asked the check
    settings.GIVING_RATE_LIMITS = {"campaign": (0, 3600)}
    asked = client.post(give_url(campaign), FORM)
    # then the form comes back with the check and the script that solves it, which sends the
    # form once it is found (the donor already pressed the button)
    html = asked.content.decode()
    assert asked.status_code == 400
    assert 'data-testid="challenge"' in html and 'data-pow-send="found"' in html
    assert "js/proof_of_work.js" in html
    assert solve(html)["pow_answer"]
