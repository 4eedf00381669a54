"""What a donor does from the links of a message, by the delivery's token (no login: the
token, unguessable and unique to one email to one donor, is the key): stop the news, or choose
whether and in which language to receive them. Consent itself is `crm`'s (`crm.portal`)."""

from django.db import transaction
from django.utils import timezone

from crm.models import Donor
from crm.portal import set_newsletter

from .models import Delivery, KeptLink

LANGUAGES = ("it", "en")


def delivery_for_token(token):
    """The delivery a link's token names, or None (unknown, malformed, or its donor erased)."""
    if not Delivery.is_token(token):
        return None
    delivery = (
        Delivery.objects.select_related("donor__network", "message__network")
        .filter(token=token)
        .first()
    )
    if delivery is None:
        delivery = _pruned_delivery(token)
    if delivery is None:
        return None
    # Merged since the message went out: the choice is the kept donor's (in memory only; the
    # delivery stays the record of whom it was sent to).
    for _hop in range(10):
        if delivery.donor.merged_into_id is None:
            break
        delivery.donor = Donor.objects.select_related("network").get(
            pk=delivery.donor.merged_into_id
        )
    if delivery.donor.anonymised_at is not None:
        return None
    return delivery


def _pruned_delivery(token):
    """A pruned delivery's link: an unsaved stand-in from what was kept (`KeptLink`), with no
    address (so it cannot prove the mailbox) and nothing to record on."""
    kept = (
        KeptLink.objects.select_related("donor__network", "message__network")
        .filter(token=token)
        .first()
    )
    if kept is None:
        return None
    return Delivery(token=kept.token, message=kept.message, donor=kept.donor, to="")


def unsubscribe(delivery):
    """The donor stops the news (from the message's link or their mail app's one-click
    button): newsletter consent off, and the unsubscription recorded on the delivery it came
    from. Safe to repeat."""
    with transaction.atomic():
        set_newsletter(delivery.donor, False)
        if delivery.pk is not None:  # a pruned delivery's has nothing to record on
            Delivery.objects.filter(pk=delivery.pk, unsubscribed_at__isnull=True).update(
                unsubscribed_at=timezone.now()
            )
    delivery.donor.newsletter = False


def proves_current_address(delivery):
    """Whether the link's email went to the donor's address of today: only then does opening
    it prove the mailbox (double opt-in). An old address (changed since, or a merge kept
    another one) may stop the news, never start them."""
    current = (delivery.donor.email or "").strip().lower()
    return bool(current) and current == delivery.to.strip().lower()


def set_preferences(delivery, newsletter, language):
    """The donor's choice on the preferences page: news or not, Italian or English. Nothing
    else of theirs changes (name, address, email stay as they are)."""
    donor = delivery.donor
    with transaction.atomic():
        if not newsletter:
            unsubscribe(delivery)
        else:
            # The link came to this address: it proves the mailbox is theirs (double opt-in).
            # From an old address (the page refuses it first) the news do not start.
            if proves_current_address(delivery):
                set_newsletter(donor, True)
        if language in LANGUAGES:
            Donor.objects.filter(pk=donor.pk).exclude(language=language).update(
                language=language, updated_at=timezone.now()
            )
    donor.refresh_from_db(fields=["newsletter", "newsletter_confirmed_at", "language"])


def forget_donor(donor):
    """A donor is erased (`crm.privacy.anonymise_donor`, through `crm.extensions.DONOR_ERASED`):
    no delivery keeps their address, nor a provider's error that may quote it; those not sent
    yet never will be. What happened to the others (sent, delivered, bounced) stays, nameless."""
    deliveries = Delivery.objects.filter(donor=donor)
    deliveries.filter(status__in=(Delivery.Status.PENDING, Delivery.Status.FAILED)).update(
        status=Delivery.Status.SKIPPED, next_attempt_at=None
    )
    deliveries.update(to="", last_error="")
