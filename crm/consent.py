"""Newsletter consent: given only by the donor, from a link we email to their current address
(double opt-in), and every change of it written to the donor's history, the consent log
(Wagtail's log entries: who, when, what, to which address).

A treasurer cannot give consent on a donor's behalf: ticking "newsletter" on the donor's form,
or changing the address of a donor who receives the news, sends the donor a new confirmation
email and the consent counts only once they confirm (`request_newsletter`). Outreach writes
only to donors whose consent is on and confirmed (`outreach.recipients.consenting`), so nothing is
sent in between. Withdrawing (the donor's unsubscribe, or the treasurer unticking) clears the
confirmation too, so an old confirmation can never make a later tick count.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.log_actions import log

from . import outbox
from .models import Donor

REQUESTED = "crm.consent.requested"
CONFIRMED = "crm.consent.confirmed"
WITHDRAWN = "crm.consent.withdrawn"
ACTIONS = (REQUESTED, CONFIRMED, WITHDRAWN)

# Why a confirmation was asked for, or who withdrew (the `by` / `reason` of a log entry).
TICKED, EMAIL_CHANGED, MERGED = "ticked_by_staff", "email_changed", "merged"
BY_DONOR, BY_STAFF = "donor", "staff"


@hooks.register("register_log_actions")
def register_consent_log_actions(actions):
    actions.register_action(
        REQUESTED, _("Ask to confirm the newsletter"), _("Newsletter confirmation sent")
    )
    actions.register_action(CONFIRMED, _("Confirm the newsletter"), _("Newsletter confirmed"))
    actions.register_action(WITHDRAWN, _("Stop the newsletter"), _("Newsletter consent withdrawn"))


def log_consent(donor, action, *, user=None, **data):
    """One entry of the consent log, in the caller's transaction."""
    return log(instance=donor, action=action, user=user, data={"email": donor.email, **data})


def request_newsletter(donor, *, reason, user=None):
    """Staff want the news for `donor` (ticked the box, changed the address of a donor who had
    it, or merged into it a record whose other address confirmed them): no consent until the
    donor confirms from the link emailed to their current address. Returns the queued email,
    or None when the donor has no address."""
    Donor.objects.filter(pk=donor.pk).update(
        newsletter=False, newsletter_confirmed_at=None, updated_at=timezone.now()
    )
    donor.newsletter, donor.newsletter_confirmed_at = False, None
    email = outbox.queue_newsletter_confirmation(donor, again=True)
    log_consent(donor, REQUESTED, user=user, reason=reason, sent=email is not None)
    return email


def withdraw_newsletter(donor, *, by, user=None):
    """The news stop (and the confirmation that started them goes with them). Returns False if
    the donor did not receive them."""
    had = donor.newsletter or donor.newsletter_confirmed_at is not None
    Donor.objects.filter(pk=donor.pk).update(
        newsletter=False, newsletter_confirmed_at=None, updated_at=timezone.now()
    )
    donor.newsletter, donor.newsletter_confirmed_at = False, None
    if had:
        log_consent(donor, WITHDRAWN, user=user, by=by)
    return had


def staff_saved_donor(before, donor, *, user):
    """After a treasurer saved the donor's form (`before`: the row as it was, None for a new
    donor): a tick or a new address starts a new double opt-in, an untick withdraws. Returns
    what happened: REQUESTED (with the queued email or None), WITHDRAWN, or None."""
    had = before is not None and before.newsletter
    old_email = (before.email if before else "").strip().lower()
    email_changed = before is not None and old_email != (donor.email or "").strip().lower()
    if donor.newsletter and (not had or email_changed):
        reason = TICKED if not had else EMAIL_CHANGED
        return REQUESTED, request_newsletter(donor, reason=reason, user=user)
    if had and not donor.newsletter:
        withdraw_newsletter(donor, by=BY_STAFF, user=user)
        return WITHDRAWN, None
    return None
