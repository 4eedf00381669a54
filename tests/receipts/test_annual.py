"""Yearly statements: one per donor, only for gifts not yet receipted, resumable."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from crm.annual_statements import issue_annual_statements
from crm.models import Donation, Receipt
from crm.receipts import issue_receipt

pytestmark = pytest.mark.django_db


def test_one_statement_per_donor_for_the_gifts_not_yet_covered(
    network, donor_factory, gift_factory, pdf_text, django_capture_on_commit_callbacks
):
    # given two donors, one gift already receipted, one from the year before, one refunded
    anna = donor_factory(first_name="Anna", email="anna@example.com")
    bruno = donor_factory(first_name="Bruno", email="")
    receipted = gift_factory(anna, 1000, datetime.date(2026, 1, 10))
    issue_receipt([receipted])
    gift_factory(anna, 2000, datetime.date(2026, 4, 1))
    gift_factory(anna, 3000, datetime.date(2026, 12, 31))
    gift_factory(anna, 9900, datetime.date(2025, 12, 31))
    gift_factory(anna, 7000, datetime.date(2026, 5, 1), status=Donation.Status.REFUNDED)
    gift_factory(bruno, 4000, datetime.date(2026, 6, 1), method=Donation.Method.CASH)

    # when the command runs
    out, err = io.StringIO(), io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("issue_annual_statements", "2026", "--all-donors", stdout=out, stderr=err)

    # then each donor has one statement for the uncovered 2026 gifts, with a progress bar
    statements = Receipt.objects.filter(kind="annual").order_by("sequence")
    assert [(r.donor, r.amount_cents) for r in statements] == [(anna, 5000), (bruno, 4000)]
    assert "2 statements issued" in out.getvalue()
    assert "2/2" in err.getvalue()
    text = pdf_text(statements[0])
    assert "2026" in text and "01/04/2026" in text and "31/12/2026" in text
    assert "10/01/2026" not in text  # already receipted on its own
    assert anna.receipts.get(kind="annual").emails.count() == 1

    # and running it again (a resumed run) issues nothing new
    call_command(
        "issue_annual_statements",
        "2026",
        "--all-donors",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert Receipt.objects.filter(kind="annual").count() == 2


def test_a_crashed_run_resumes_without_duplicates(donor_factory, gift_factory):
    donors = [donor_factory(first_name=f"D{i}", email="") for i in range(5)]
    for donor in donors:
        gift_factory(donor, received_on=datetime.date(2026, 3, 1))

    class Crash(Exception):
        pass

    def crash_after_two(done, total):
        if done == 2:
            raise Crash

    with pytest.raises(Crash):
        issue_annual_statements(2026, progress=crash_after_two)
    assert Receipt.objects.count() == 2

    assert issue_annual_statements(2026) == 3
    assert sorted(Receipt.objects.values_list("donor", flat=True)) == [d.pk for d in donors]
    assert sorted(Receipt.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5]


def test_scoped_to_one_network(network, network_factory, donor_factory, gift_factory):
    from crm.models import Donor

    other = network_factory("altra")
    gift_factory(donor_factory(), received_on=datetime.date(2026, 3, 1))
    gift_factory(
        Donor.objects.create(network=other, first_name="X"), received_on=datetime.date(2026, 3, 1)
    )
    call_command(
        "issue_annual_statements",
        "2026",
        "--all-donors",
        "--network",
        "altra",
        "--no-email",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert list(Receipt.objects.values_list("network__slug", flat=True)) == ["altra"]
    with pytest.raises(CommandError):
        call_command("issue_annual_statements", "2026", "--all-donors", "--network", "nope")


def test_workers_render_the_pdfs_in_the_command_then_queue_the_emails(
    donor_factory, gift_factory, settings
):
    # given donors with gifts, and a task queue that only records (no background rendering)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    for i in range(3):
        gift_factory(donor_factory(first_name=f"D{i}"), received_on=datetime.date(2026, 3, 1))

    # when the command renders with its own worker (this process)
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "issue_annual_statements", "2026", "--all-donors", "--workers", "1", stdout=out, stderr=err
    )

    # then every statement has its PDF stored before its email is queued
    statements = Receipt.objects.filter(kind="annual")
    assert statements.count() == 3
    assert not statements.filter(pdf_sha256="").exists()
    assert "PDF [" in err.getvalue() and "3/3" in err.getvalue()
    assert "3 emails queued" in out.getvalue()

    # and a rerun queues no second email
    out = io.StringIO()
    call_command(
        "issue_annual_statements", "2026", "--all-donors", "--workers", "1", stdout=out, stderr=err
    )
    assert "0 statements issued" in out.getvalue() and "emails queued" not in out.getvalue()
    assert all(r.emails.count() == 1 for r in statements)
