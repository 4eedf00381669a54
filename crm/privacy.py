"""Privacy (GDPR arts. 15, 17, 20): a donor's data as JSON, and erasure by anonymisation.

Anonymising removes personal and contact data from the donor but keeps issued receipts and
their frozen donor details: Italian tax law requires keeping them for ten years (art. 2220
c.c., art. 22 DPR 600/1973), which art. 17(3)(b) GDPR allows.
"""

from django.conf import settings
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log
from wagtail.log_actions import registry as log_registry

from . import extensions
from .models import Donor

KEPT_NOTICE = _(
    "Personal and contact data were removed. Issued receipts are kept for ten years as tax "
    "law requires (art. 2220 c.c., art. 22 DPR 600/1973)."
)


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def donor_export(donor):
    """Everything we hold about the donor, as JSON-ready data (dates as ISO 8601 text)."""
    return _plain(donor_data(donor))


def donor_data(donor):
    """Everything we hold about the donor: a section per kind of record, each key the name of
    a field of that record (the donor's own copy as CSV reads them as labels), values as
    stored (dates as dates)."""
    # Not the links to other donors (a merge, a possible duplicate): they are the treasurer's
    # and say who else gives (a codice fiscale typed on the donor's page is flagged against
    # the donor who has it: the copy would tell whether that person gives here).
    identity = {
        k: v
        for k, v in model_to_dict(donor).items()
        if k not in ("merged_into", "possible_duplicate_of")
    }
    return {
        "donor": identity,
        "consents": {
            "privacy_notice_version": donor.privacy_notice_version,
            "privacy_accepted_at": donor.privacy_accepted_at,
            "newsletter": donor.newsletter,
            "public_mention": donor.public_mention,
        },
        "donations": [
            {
                "id": d.pk,
                "received_on": d.received_on,
                "amount_cents": d.amount_cents,
                "currency": d.currency,
                "method": d.method,
                "channel": d.channel,
                "status": d.status,
                "campaign": d.campaign.title if d.campaign else None,
                "dedication": d.dedication,
            }
            for d in donor.donations.select_related("campaign").order_by("received_on")
        ],
        # Goods given, apart from the money gifts above.
        "gifts_in_kind": [
            {
                "received_on": g.received_on,
                "description": g.description,
                "value_cents": g.value_cents,
                "valuation": g.valuation,
            }
            for g in donor.in_kind_gifts.order_by("received_on")
        ],
        "recurring_plans": [
            {"amount_cents": p.amount_cents, "interval": p.interval, "status": p.status}
            for p in donor.recurring_plans.all()
        ],
        "receipts": [
            {
                "number": r.number,
                "issued_at": r.issued_at,
                "amount_cents": r.amount_cents,
                "status": r.status,
            }
            for r in donor.receipts.all()
        ],
    }


@transaction.atomic
def anonymise_donor(donor, *, user=None):
    """Blank the donor's personal data; keep gifts (as amounts) and issued receipts."""
    donor = Donor.objects.select_for_update().get(pk=donor.pk)
    if donor.anonymised_at:
        return donor
    # What the outer apps keep of the donor goes too, in the same transaction.
    extensions.donor_erased(donor)
    for field in Donor.PERSONAL_FIELDS:
        setattr(donor, field, "")
    donor.newsletter = False
    donor.public_mention = False
    donor.anonymised_at = timezone.now()
    donor.save()
    donor.donations.update(donor_details={}, dedication="")
    log(donor, "crm.anonymise", user=user)
    # Each history entry keeps the label the donor had when it was written (their name):
    # rewrite them all, so Reports → Site history and its exports no longer name them.
    with translation.override(settings.LANGUAGE_CODE):
        label = str(donor)
    log_registry.get_logs_for_instance(donor).update(label=label)
    return donor
