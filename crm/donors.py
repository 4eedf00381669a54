"""Who gave: finding the donor a gift's details belong to, or creating one."""

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import Donor
from .validators import normalise_code

# Fields copied from what the donor typed (Donation.donor_details) onto a Donor.
DONOR_FIELDS = (
    "kind",
    "first_name",
    "last_name",
    "organisation_name",
    "email",
    "codice_fiscale",
    "partita_iva",
    "street_address",
    "postal_code",
    "city",
    "province",
    "language",
)


def match_or_create_donor(network, details):
    """The donor of `network` these details belong to: same codice fiscale (or partita IVA),
    else same email; created if none. Empty fields of a matched donor are filled in; consents
    only ever widen here (withdrawing them is the donor's explicit act)."""
    details = details or {}
    email = (details.get("email") or "").strip().lower()
    cf = normalise_code(details.get("codice_fiscale"))
    piva = normalise_code(details.get("partita_iva"))
    donors = Donor.objects.filter(network=network, merged_into__isnull=True, anonymised_at=None)
    donor = None
    if cf:
        donor = donors.filter(codice_fiscale=cf).order_by("id").first()
    if donor is None and piva:
        donor = donors.filter(partita_iva=piva).order_by("id").first()
    if donor is None and email:
        # A donor with a different codice fiscale is a different person sharing the mailbox.
        same_email = donors.filter(email=email).order_by("id")
        if cf:
            same_email = same_email.filter(Q(codice_fiscale="") | Q(codice_fiscale=cf))
        donor = same_email.first()
    values = {field: details.get(field) or "" for field in DONOR_FIELDS}
    values.update(email=email, codice_fiscale=cf, partita_iva=piva)
    values["kind"] = values["kind"] or Donor.Kind.PERSON
    values["language"] = values["language"] or "it"
    values["newsletter"] = bool(details.get("newsletter"))
    values["public_mention"] = bool(details.get("public_mention"))
    if details.get("privacy_notice_version"):
        accepted = details.get("privacy_accepted_at")
        values["privacy_notice_version"] = details["privacy_notice_version"]
        values["privacy_accepted_at"] = parse_datetime(accepted) if accepted else timezone.now()
    if donor is None:
        donor = Donor(network=network, source="online", **values)
        donor.save()
        return donor
    changed = []
    for field, value in values.items():
        # Consents only widen; the latest privacy acknowledgement replaces the older one.
        replaces = field.startswith("privacy_") or not getattr(donor, field)
        if value and replaces and getattr(donor, field) != value:
            setattr(donor, field, value)
            changed.append(field)
    if changed:  # a returning donor with nothing new costs no write
        donor.save(update_fields=[*changed, "updated_at"])
    return donor
