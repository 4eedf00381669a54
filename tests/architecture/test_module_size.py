"""No product module over 400 lines (issue 22): a file that long holds more than one room's
work; split it where its parts stop talking to each other. The Stripe stand-in (`standin/`),
the benches, the tests and the migrations are not the product."""

from tests.architecture.test_private_api import ROOT, _product_files

LIMIT = 400


def test_no_product_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _product_files()
        if (lines := len(path.read_text().splitlines())) > LIMIT
    }
    assert not long, f"modules over {LIMIT} lines (split them by what they do): {long}"
