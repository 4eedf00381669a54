"""The periodic job of the 5 per mille (settings.PERIODIC_JOBS)."""

from django.tasks import task

from . import reminders


@task()
def send_reminders():
    """Remind the treasurers before each 5 per mille deadline (`permille.reminders`): safe to
    run twice."""
    return reminders.send_due_reminders()
