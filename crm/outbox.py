"""Emails to donors are queued here: a `DonorEmail` row in the caller's transaction, and the
`crm.tasks.send_donor_email` task queued with it (`crm.tasks.enqueue_with_work`). Nothing is
lost when the mail provider or the worker is down: the row stays queued (or failed, with its
next attempt) until sent."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from . import receipt_log_actions as history
from . import tasks
from .models import Donation, DonorEmail
from .receipt_files import ReceiptError


def _send_after_commit(email):
    tasks.enqueue_with_work(tasks.send_donor_email, email.pk)


def queue_receipt_email(receipt, *, user=None, again=True):
    """Queue the thank-you email with the receipt's PDF attached. Each call is one more email
    (`again=False`: none if the receipt already has one, as a statement run asks); a second
    one ("resend") is recorded in the receipt's history with `user`. It goes to the address
    the receipt was issued to (its donor snapshot: the address given with the gift), not to
    whatever address its donor has after a merge. Returns the email, or None."""
    to = receipt.donor_snapshot.get("email") or receipt.donor.email
    if not to:
        raise ReceiptError("the donor has no email address")
    earlier = receipt.emails.filter(kind=DonorEmail.Kind.RECEIPT).count()
    if earlier and not again:
        return None
    try:
        # The unique (receipt, resend) decides between two workers queueing the same email.
        with transaction.atomic():
            if earlier:
                history.log_receipt(receipt, history.RESEND, user, to=to)
            email = DonorEmail.objects.create(receipt=receipt, to=to, resend=earlier)
    except IntegrityError:
        if not again:
            return None
        raise ReceiptError(_("Another email of this receipt was just queued.")) from None
    _send_after_commit(email)
    return email


def queue_payment_failed_email(plan):
    """Queue the failed-payment notice for a monthly donor. None without an address."""
    if plan.donor_id is None or not plan.donor.email:
        return None
    email = DonorEmail.objects.create(
        kind=DonorEmail.Kind.PAYMENT_FAILED, recurring_plan=plan, to=plan.donor.email
    )
    _send_after_commit(email)
    return email


def _queue_plan_email(plan, kind):
    if plan.donor_id is None or not plan.donor.email or plan.donor.anonymised_at:
        return None
    email = DonorEmail.objects.create(kind=kind, recurring_plan=plan, to=plan.donor.email)
    _send_after_commit(email)
    return email


def queue_plan_stopped_email(plan):
    """Queue the "plan stopped" notice (whoever stopped it). None without an address."""
    return _queue_plan_email(plan, DonorEmail.Kind.PLAN_STOPPED)


def queue_plan_changed_email(plan, changes, *, by=""):
    """Queue the confirmation of a change to the plan (amount, frequency, pause, resume), in
    the transaction that recorded it: `changes` as `crm.plans.update_plan` lists them, kept
    on the email. Whoever made it (`by`): the donor hears of a change they did not ask for
    too. None without an address."""
    if plan.donor_id is None or not plan.donor.email or plan.donor.anonymised_at:
        return None
    email = DonorEmail.objects.create(
        kind=DonorEmail.Kind.PLAN_CHANGED,
        recurring_plan=plan,
        to=plan.donor.email,
        details={
            "changes": list(changes),
            "by": by,
            # The plan as it stands after this change, for the email to say it.
            "amount_cents": plan.amount_cents,
            "interval": plan.interval,
            "paused": plan.status == plan.Status.PAUSED,
            "next_charge_at": plan.upcoming_charge.isoformat() if plan.upcoming_charge else None,
        },
    )
    _send_after_commit(email)
    return email


def queue_plan_link_email(plan):
    """Queue the email carrying the signed link to the plan's page. None without an address."""
    return _queue_plan_email(plan, DonorEmail.Kind.PLAN_LINK)


def queue_newsletter_confirmation(donor, *, again=False):
    """Queue the email whose signed link confirms the newsletter (double opt-in: a ticked box
    on a public form proves nothing about who owns the mailbox). Once per donor: None if they
    already receive it, were already asked (unless `again`: a treasurer's new request,
    `crm.consent`), or have no address."""
    if donor.newsletter or not donor.email or donor.anonymised_at:
        return None
    asked = DonorEmail.objects.filter(kind=DonorEmail.Kind.NEWSLETTER_CONFIRM, donor=donor)
    if not again and asked.exists():
        return None
    email = DonorEmail.objects.create(
        kind=DonorEmail.Kind.NEWSLETTER_CONFIRM, donor=donor, to=donor.email
    )
    _send_after_commit(email)
    return email


def queue_refund_email(donation, amount_cents):
    """Queue the notice that `amount_cents` of a gift went back to the donor (and what became
    of its receipt). None without an address."""
    donor = donation.donor
    if donor is None or not donor.email or donor.anonymised_at:
        return None
    email = DonorEmail.objects.create(
        kind=DonorEmail.Kind.REFUND, donation=donation, amount_cents=amount_cents, to=donor.email
    )
    _send_after_commit(email)
    return email


def queue_gift_email(donation, *, receipt=None):
    """Queue the confirmation of a succeeded gift, once per gift: the welcome for a plan's
    first gift, else the gift's confirmation; `receipt` (issued with it) is attached to it,
    one email rather than two. None without an address, or if the gift already has one."""
    donor = donation.donor
    if donor is None or not donor.email or donor.anonymised_at:
        return None
    kind = DonorEmail.Kind.GIFT
    plan_id = donation.recurring_plan_id
    welcomed = DonorEmail.objects.filter(
        kind=DonorEmail.Kind.PLAN_WELCOME, donation__recurring_plan_id=plan_id
    )
    # The welcome says "its first payment has arrived": only the plan's first gift (the one
    # its checkout started, created before any charge) gets it, and only once.
    earlier = Donation.objects.filter(recurring_plan_id=plan_id, pk__lt=donation.pk)
    if plan_id and not welcomed.exists() and not earlier.exists():
        kind = DonorEmail.Kind.PLAN_WELCOME
    to = (receipt.donor_snapshot.get("email") if receipt else "") or donor.email
    try:
        # The unique constraint (`one_confirmation_per_gift`) decides whether the gift already
        # has its confirmation, and between two racing deliveries of the same gift.
        with transaction.atomic():
            email = DonorEmail.objects.create(kind=kind, donation=donation, receipt=receipt, to=to)
    except IntegrityError:
        return None
    _send_after_commit(email)
    return email


def queue_tribute_email(donation):
    """Queue, once per gift, the notice to the family named with a gift in memory or in honour
    of someone: only if the donor gave their address with consent (the form keeps it only
    then). None otherwise, or if the gift already has its notice."""
    donor = donation.donor
    if not (donation.tribute and donation.tribute_name and donation.tribute_notify_email):
        return None
    if donor is None or donor.anonymised_at:
        return None
    try:
        with transaction.atomic():
            email = DonorEmail.objects.create(
                kind=DonorEmail.Kind.TRIBUTE, donation=donation, to=donation.tribute_notify_email
            )
    except IntegrityError:
        return None
    _send_after_commit(email)
    return email


def queue_donor_portal_email(donor):
    """Queue the email with the signed link to the donor's own page (crm.portal)."""
    if not donor.email or donor.anonymised_at or donor.merged_into_id:
        return None
    kind = DonorEmail.Kind.DONOR_PORTAL
    email = DonorEmail.objects.create(kind=kind, donor=donor, to=donor.email)
    _send_after_commit(email)
    return email
