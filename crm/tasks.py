"""Background tasks (Django's tasks API; `manage.py run_worker` runs them on the configured
backend, database or RQ). Each is queued with the work it follows (`enqueue_with_work`) and
safe to run twice; what is done is read from our own rows, never from the backend (crm.sweep)."""

from django.db import connection, transaction
from django.tasks import task

from . import mail
from .models import DonorEmail, Receipt
from .receipt_files import ensure_receipt_pdf

# The database queue writes its task rows through the default connection, in the transaction
# open there; any other backend (RQ, the immediate one) hands a task over at once. Named, not
# imported: the product does not import a tasks backend (pyproject.toml, import-linter).
IN_TRANSACTION_BACKENDS = {"django_tasks_db.backend.DatabaseBackend"}


def queues_in_transaction(backend):
    """True if `backend` writes a task's row in the transaction open on the default connection."""
    classes = type(backend).__mro__
    return any(f"{c.__module__}.{c.__qualname__}" in IN_TRANSACTION_BACKENDS for c in classes)


def enqueue_with_work(task_, *args):
    """Queue `task_` for the work the caller's transaction is writing. On the database queue
    the task's row is written in that transaction: it commits with the work (one commit, not
    two) or goes with its rollback, and no worker sees it before the rows it reads. On any
    other backend it is queued once the transaction commits (`on_commit`), as a worker could
    otherwise run it before the rows exist."""
    if not connection.in_atomic_block or queues_in_transaction(task_.get_backend()):
        task_.enqueue(*args)
    else:
        transaction.on_commit(lambda: task_.enqueue(*args))


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
