"""The banking app's worker tasks: each is idempotent (a second run finds the work done)."""

from django.tasks import task

from crm.tasks import enqueue_with_work

from . import mail


def enqueue_on_commit(task_, *args) -> None:  # type: ignore[no-untyped-def]
    """Queued with the caller's transaction (`crm.tasks.enqueue_with_work`)."""
    enqueue_with_work(task_, *args)


@task()
def send_pledge_email(pledge_id: int) -> None:
    """Send the bank transfer details of a pledge to its donor (`banking.mail`)."""
    mail.deliver_pledge_email(pledge_id)


@task()
def sweep_pledge_emails() -> int:
    """The periodic job (settings.PERIODIC_JOBS): queue again the pledge emails a failed send,
    a lost task or a dead worker left behind. Returns how many were queued."""
    pks = mail.due_pledge_emails()
    for pk in pks:
        send_pledge_email.enqueue(pk)
    return len(pks)
