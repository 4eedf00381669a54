"""Two treasurers adding expenses to the same year at the same moment, on PostgreSQL: the year's
row lock lets through only what was received; the other is refused and writes nothing."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from permille.models import PerMilleExpense, PerMilleGrant
from permille.verbs import add_expense

CLICKS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_expenses_never_exceed_what_was_received(network_factory):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    network = network_factory()
    # Given 1.000,00 euro received, and four expenses of 400,00 euro sent at once
    grant = PerMilleGrant.objects.create(
        network=network,
        reference_year=2023,
        amount_cents=100_000,
        received_on=datetime.date(2025, 10, 15),
    )
    barrier = threading.Barrier(CLICKS)
    outcomes = []

    def click(n):
        expense = PerMilleExpense(
            category="other",
            amount_cents=40_000,
            spent_on=datetime.date(2025, 11, 1),
            description=f"Spesa {n}",
        )
        barrier.wait()
        try:
            add_expense(grant, expense, user=None)
            outcomes.append("added")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(n,)) for n in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then two fit (800,00), the others are refused and leave no row
    assert sorted(outcomes) == ["added", "added", "refused", "refused"]
    assert PerMilleExpense.objects.filter(grant=grant).count() == 2
