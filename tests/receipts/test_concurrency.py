"""Gapless numbering under real concurrency (PostgreSQL row locks; SQLite serialises writes and
proves nothing here)."""

import threading

import pytest
from django.db import connection, connections

from crm.models import Donation, Donor, Receipt
from crm.receipts import issue_receipt, void_receipt

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS, RECEIPTS = 8, 400


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    # Rendering 400 PDFs is the bench's job; here the queue only records the tasks.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    # A transactional test flushes the tables, taking Wagtail's root collection with them.
    from wagtail.models import Collection

    if not Collection.objects.exists():
        Collection.add_root(name="Root")


def test_eight_threads_issue_400_receipts_numbered_1_to_400(network, gift_factory):
    # given 400 succeeded gifts from different donors
    donors = Donor.objects.bulk_create(
        Donor(network=network, first_name="D", last_name=str(i)) for i in range(RECEIPTS)
    )
    gifts = Donation.objects.bulk_create(
        Donation(
            network=network,
            donor=d,
            amount_cents=1000,
            received_on="2026-06-01",
            status=Donation.Status.SUCCEEDED,
        )
        for d in donors
    )
    start = threading.Barrier(THREADS)
    errors = []

    def worker(batch):
        try:
            start.wait()
            for gift in batch:
                issue_receipt([gift])
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    # when 8 threads issue them at once
    threads = [threading.Thread(target=worker, args=(gifts[i::THREADS],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then the numbers are exactly 1..400, and a void keeps its number
    assert errors == []
    sequences = sorted(Receipt.objects.filter(year=2026).values_list("sequence", flat=True))
    assert sequences == list(range(1, RECEIPTS + 1))
    voided = void_receipt(Receipt.objects.get(sequence=200), reason="test")
    assert voided.sequence == 200
    assert Receipt.objects.filter(year=2026).count() == RECEIPTS
    next_one = issue_receipt(
        [
            Donation.objects.create(
                network=network,
                donor=donors[0],
                amount_cents=500,
                received_on="2026-07-01",
                status=Donation.Status.SUCCEEDED,
            )
        ]
    )
    assert next_one.sequence == RECEIPTS + 1


def test_two_threads_receipting_the_same_gift_make_one_receipt(
    network, donor_factory, gift_factory
):
    gift = gift_factory(donor_factory())
    start = threading.Barrier(2)
    outcomes = []

    def worker():
        start.wait()
        try:
            outcomes.append(issue_receipt([gift]).number)
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["RP-2026/00001", "ReceiptError"]
    assert Receipt.objects.count() == 1
