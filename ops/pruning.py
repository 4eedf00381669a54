"""Retention: what Trama deletes once it is no longer needed, and what it never deletes.

Kept (never pruned here): receipts, their PDFs and every email sent for a receipt with its
delivery status (the receipt's record), the gifts, refunds, plans, payouts and their balance
transactions, and the emails that are part of a gift's or a plan's record (confirmation,
welcome, refund, failed payment, plan stopped, newsletter confirmation: also the proof of the
double opt-in). Art. 2220 of the codice civile: accounting records "devono essere conservate
per dieci anni dalla data dell'ultima registrazione", and for the same period the letters
received and the copies of those sent; receipts and what proves them fall under it, and the
Agenzia's yearly data and the payout reports are built from the gifts, refunds and payouts.

Pruned, after a set time (settings, days, env vars of the same names):
- finished task results of the database queue (TASK_RESULTS_RETENTION_DAYS): the queue's own
  log, with the database backend only (django-tasks-db's pruning; RQ expires its own);
- Stripe events applied or ignored (STRIPE_EVENTS_RETENTION_DAYS): the replay log; their
  effects are on the gifts. Stripe "automatically resends the undelivered events to your
  endpoint for up to three days" and lists events of the last 30 days only
  (https://docs.stripe.com/webhooks/process-undelivered-events), so an older event is never
  delivered again; events not applied (pending, failed) are kept for a person to look at;
- emails that only carried a short-lived link (the donor's page, a plan's page:
  DONOR_LINK_EMAILS_RETENTION_DAYS), once sent or given up;
- per-donor deliveries of messages to donors (OUTREACH_DELIVERIES_RETENTION_DAYS, at least the
  attribution window), after the message's figures are frozen on it;
- checkout attempts that never reached a payment (CHECKOUT_ATTEMPTS_RETENTION_DAYS, at least a
  week): started on the giving form and left pending or cancelled, with no payment, invoice or
  subscription at Stripe and no donor; no gift and no figure counts them. A Checkout Session
  expires within 24 hours and its events are resent for up to three days, so none can be paid
  after that. Failed payments stay (the treasurer's answer to "my card was refused").

`prune(now)` runs every rule; the scheduler calls it daily (`ops.tasks.prune_old_records` in
settings.PERIODIC_JOBS), `manage.py prune` once.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.tasks import task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from campaigns.models import StripeEvent
from crm.models import Donation, DonorEmail
from outreach.models import Message
from outreach.results import ATTRIBUTION_WINDOW, prune_deliveries

# The emails that carried only a link valid for hours: no record of a gift, plan or consent.
LINK_EMAILS = (DonorEmail.Kind.DONOR_PORTAL, DonorEmail.Kind.PLAN_LINK)
# Sent, given up or skipped: no worker will touch them again.
FINISHED_EMAILS = (
    DonorEmail.Status.SENT,
    DonorEmail.Status.DELIVERED,
    DonorEmail.Status.BOUNCED,
    DonorEmail.Status.COMPLAINED,
    DonorEmail.Status.GAVE_UP,
    DonorEmail.Status.SKIPPED,
)


def days_ago(now, days):
    return now - timedelta(days=days)


def prune_task_results(now):
    """Finished results of every database-queue backend older than the retention time: the
    query of django-tasks-db's own `prune_db_task_results` (its manager's `finished()`), with
    our `now`. Results still queued or running are the queue's business and never touched."""
    cutoff = days_ago(now, settings.TASK_RESULTS_RETENTION_DAYS)
    aliases = [a for a in settings.TASKS if isinstance(task_backends[a], DatabaseBackend)]
    if not aliases:
        return 0
    old = DBTaskResult.objects.finished().filter(backend_name__in=aliases, finished_at__lte=cutoff)
    return old.delete()[0]


def prune_stripe_events(now):
    cutoff = days_ago(now, settings.STRIPE_EVENTS_RETENTION_DAYS)
    done = (StripeEvent.Outcome.APPLIED, StripeEvent.Outcome.IGNORED)
    old = StripeEvent.objects.filter(outcome__in=done, processed_at__lt=cutoff)
    return old.delete()[0]


def prune_link_emails(now):
    cutoff = days_ago(now, settings.DONOR_LINK_EMAILS_RETENTION_DAYS)
    old = DonorEmail.objects.filter(
        kind__in=LINK_EMAILS, status__in=FINISHED_EMAILS, created_at__lt=cutoff
    )
    # Belt and braces: nothing tied to a receipt or a gift, whatever its kind.
    old = old.filter(receipt__isnull=True, donation__isnull=True)
    return old.delete()[0]


def prune_outreach_deliveries(now):
    # Never inside the attribution window: a gift through the email's button still counts.
    days = max(settings.OUTREACH_DELIVERIES_RETENTION_DAYS, ATTRIBUTION_WINDOW.days + 1)
    cutoff = days_ago(now, days)
    finished = (
        Message.objects.filter(status__in=(Message.Status.SENT, Message.Status.CANCELLED))
        .annotate(ended_at=Coalesce("finished_at", "updated_at"))
        .filter(ended_at__lt=cutoff)
        .filter(Q(deliveries__isnull=False))
        .distinct()
    )
    return sum(prune_deliveries(message) for message in finished)


def prune_checkout_attempts(now):
    cutoff = days_ago(now, max(settings.CHECKOUT_ATTEMPTS_RETENTION_DAYS, 7))
    never_paid = Donation.objects.filter(
        status__in=(Donation.Status.PENDING, Donation.Status.CANCELLED),
        channel=Donation.Channel.ONLINE,
        donor__isnull=True,
        recurring_plan__isnull=True,
        stripe_subscription_id="",
        created_at__lt=cutoff,
    )
    for field in ("stripe_payment_intent_id", "stripe_invoice_id"):  # null or blank: none
        never_paid = never_paid.filter(Q(**{f"{field}__isnull": True}) | Q(**{field: ""}))
    # Belt and braces: nothing that points at it (an email, a refund, a receipt).
    never_paid = never_paid.filter(emails__isnull=True, refunds__isnull=True, receipts__isnull=True)
    return never_paid.delete()[0]


RULES = {
    "task_results": prune_task_results,
    "stripe_events": prune_stripe_events,
    "link_emails": prune_link_emails,
    "outreach_deliveries": prune_outreach_deliveries,
    "checkout_attempts": prune_checkout_attempts,
}


def prune(now):
    """Run every retention rule; return {rule: rows deleted}."""
    return {name: rule(now) for name, rule in RULES.items()}
