"""Yearly statements rendered by two forked worker processes (PostgreSQL: the children need
the committed rows, which a transactional test gives them)."""

import datetime

import pytest
from django.db import connection

from crm.annual_statements import issue_statements, render_statements
from crm.models import Donation, Donor, Receipt

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    from wagtail.models import Collection

    if not Collection.objects.exists():
        Collection.add_root(name="Root")


def test_two_workers_render_every_statement_once(network):
    donors = Donor.objects.bulk_create(
        Donor(network=network, first_name="D", last_name=str(i)) for i in range(12)
    )
    Donation.objects.bulk_create(
        Donation(
            network=network,
            donor=d,
            amount_cents=1000,
            received_on=datetime.date(2026, 5, 1),
            status=Donation.Status.SUCCEEDED,
        )
        for d in donors
    )
    assert issue_statements(2026, enqueue_render=False) == 12
    seen = []

    failed = render_statements(
        2026, progress=lambda done, total: seen.append((done, total)), workers=2
    )

    assert failed == []
    assert seen[-1] == (12, 12)
    assert not Receipt.objects.filter(pdf_sha256="").exists()
    assert len(set(Receipt.objects.values_list("pdf_sha256", flat=True))) == 12
