"""Before the yearly filing of the accounts, the network's treasurers are reminded of each
report of last year, once: a second run (or a second machine) sends nothing more."""

import datetime

import pytest
from django.core import mail
from wagtail.users.models import UserProfile

from fundraising.models import FilingReminder, FundraisingReport
from fundraising.reminders import filing_deadline, send_filing_reminders

pytestmark = pytest.mark.django_db


@pytest.fixture
def last_years_report(report):
    FundraisingReport.objects.filter(pk=report.pk).update(
        starts_on=datetime.date(2025, 11, 1), ends_on=datetime.date(2025, 12, 20)
    )
    return FundraisingReport.objects.get(pk=report.pk)


def test_the_reminder_is_sent_once_before_the_deadline(last_years_report, settings, people):
    settings.FUNDRAISING_FILING_DAYS_AFTER_YEAR_END = 180
    settings.FUNDRAISING_REMINDER_DAYS = 30
    deadline = filing_deadline(2025)
    assert deadline == datetime.date(2026, 6, 29)
    # Too early: nothing
    assert send_filing_reminders(deadline - datetime.timedelta(days=31)) == 0
    # Within the month before: one email to the network's treasurers
    day = deadline - datetime.timedelta(days=10)
    assert send_filing_reminders(day) == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert people["tesoreria-oltre-il-ponte"].email in email.to
    assert people["tesoreria-valle-serena"].email not in email.to
    assert last_years_report.title in email.subject and "29/06/2026" in email.subject
    assert email.subject.startswith("Rendiconto della raccolta fondi da depositare entro il")
    assert "RUNTS" in email.body
    # Run again (the job twice, a day later): nothing more
    assert send_filing_reminders(day) == 0
    assert send_filing_reminders(day + datetime.timedelta(days=1)) == 0
    assert len(mail.outbox) == 1
    assert FilingReminder.objects.get().sent_at is not None
    # After the deadline: nothing
    assert send_filing_reminders(deadline + datetime.timedelta(days=1)) == 0


def test_a_treasurer_reading_the_admin_in_english_gets_it_in_english(last_years_report, people):
    profile = UserProfile.get_for_user(people["tesoreria-oltre-il-ponte"])
    profile.preferred_language = "en"
    profile.save()
    assert send_filing_reminders(filing_deadline(2025) - datetime.timedelta(days=5)) == 1
    (email,) = mail.outbox
    assert email.subject.startswith("Public fundraising report to file by")
    assert "goes into last year's accounts" in email.body


def test_a_report_of_this_year_waits_for_next_year(report, settings):
    deadline = filing_deadline(report.ends_on.year - 1)
    assert send_filing_reminders(deadline - datetime.timedelta(days=1)) == 0
    assert not mail.outbox
