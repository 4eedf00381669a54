"""The periodic job of public-fundraising reports (settings.PERIODIC_JOBS)."""

from django.tasks import task

from . import reminders


@task()
def send_filing_reminders():
    """Remind the treasurers of each report before the yearly filing deadline: safe to run
    twice (`fundraising.reminders`)."""
    return reminders.send_filing_reminders()
