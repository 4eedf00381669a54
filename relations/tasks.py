"""The periodic job of relationship fundraising (settings.PERIODIC_JOBS)."""

from django.tasks import task

from . import reminders


@task()
def send_reminders():
    """Email each deadline's owner before it (`relations.reminders`): safe to run twice."""
    return reminders.send_due_reminders()
