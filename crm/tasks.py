"""Background tasks (Django's tasks API; the django-tasks-db worker runs them in the demo and in
production). Each is scheduled with `transaction.on_commit` and safe to run twice."""

from django.tasks import task


@task()
def render_receipt_pdf(receipt_id):
    """Render and store a receipt's PDF once (a second run finds it stored and stops)."""
    from .models import Receipt
    from .receipts import ensure_receipt_pdf

    receipt = Receipt.objects.filter(pk=receipt_id).first()
    if receipt is not None:
        ensure_receipt_pdf(receipt)


@task()
def send_receipt_email(email_id):
    """Send one receipt email; a failure is recorded and retried with backoff (crm.mail)."""
    from .mail import deliver_receipt_email

    return deliver_receipt_email(email_id).status


@task()
def retry_due_receipt_emails():
    """Sweep: re-enqueue failed receipt emails whose next attempt is due."""
    from .mail import retry_due_emails

    return retry_due_emails()
