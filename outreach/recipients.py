"""Who receives a message to donors: the consenting, reachable donors of its segment or
campaign, whether it can be sent at all, and who it comes from."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from crm.mail_policy import suppressed
from crm.models import Donation, Donor

from .models import Message
from .segments import reachable


class SendingError(ValidationError):
    """Why a message cannot be sent (shown to the communicator as it is)."""


# --- Who receives it -----------------------------------------------------------------------


def consenting(donors):
    """Of `donors`: the ones who may be written to now (confirmed consent, an address, not
    merged into another record nor erased)."""
    return donors.filter(
        newsletter=True,
        newsletter_confirmed_at__isnull=False,
        merged_into__isnull=True,
        anonymised_at__isnull=True,
    ).exclude(email="")


def recipients_for(message):
    """The donors who may receive the message: the consenting members of its segment, or (no
    segment) the consenting donors of its campaign; never an address suppressed for the
    network (bounced, or marked a message as spam)."""
    network = message.network
    if message.segment_id:
        donors = reachable(message.segment)
    elif message.campaign_id:
        gave = Donation.objects.filter(
            network=network,
            donor=OuterRef("pk"),
            campaign_id=message.campaign_id,
            status__in=Donation.COUNTED_STATUSES,
        )
        donors = Donor.objects.filter(Exists(gave))
    else:
        return Donor.objects.none()
    stopped = suppressed(network.pk).filter(email=Lower(OuterRef("email")))
    return consenting(donors.filter(network=network)).filter(~Exists(stopped))


def check_sendable(message):
    if message.status not in (Message.Status.DRAFT, Message.Status.SCHEDULED):
        raise SendingError(_("This message has already been sent or is being sent."))
    if not message.segment_id and not message.campaign_id:
        raise SendingError(_("Choose who receives it: a segment, or a campaign."))
    if message.segment_id and message.segment.network_id != message.network_id:
        raise SendingError(_("The segment belongs to another network."))
    if not message.subject.strip() or not len(message.body):
        raise SendingError(_("Write a subject and a message before sending."))


def sender_of(network):
    return settings.DEFAULT_FROM_EMAIL, [network.email] if network.email else []
