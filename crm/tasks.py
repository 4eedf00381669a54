"""Background tasks (Django's tasks API; `manage.py run_worker` runs them on the configured
backend, database or RQ). Each is queued with `transaction.on_commit` and safe to run twice;
what is done is read from our own rows, never from the backend (crm.sweep)."""

from django.tasks import task

from . import mail
from .models import DonorEmail, Receipt
from .receipt_files import ensure_receipt_pdf


@task()
def render_receipt_pdf(receipt_id):
    """Render and store a receipt's PDF once (a second run finds it stored and stops)."""
    receipt = Receipt.objects.filter(pk=receipt_id).first()
    if receipt is not None:
        ensure_receipt_pdf(receipt)


@task()
def send_donor_email(email_id):
    """Send one email to a donor (`crm.mail.deliver_email`). A failed attempt is queued again
    for its `next_attempt_at` where the queue can defer (the database queue); otherwise the
    worker's sweep (`crm.sweep.enqueue_unsent_emails`) picks it up when due."""
    email = mail.deliver_email(email_id)
    failed = email.status == DonorEmail.Status.FAILED and email.next_attempt_at
    if failed and send_donor_email.get_backend().supports_defer:
        # The sweep reads this: the retry is on the queue for then.
        DonorEmail.objects.filter(pk=email.pk).update(enqueued_at=email.next_attempt_at)
        send_donor_email.using(run_after=email.next_attempt_at).enqueue(email.pk)
    return email.status
