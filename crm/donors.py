"""Who gave: finding the donor a gift's details belong to, or creating one.

What a donor types on the public form is a claim, not a fact (docs/design/domain.md, "Identity and
trust"). It never overwrites, nor fills in, an existing donor's name, email, address or
consents: a gift is attached to an existing donor only when every detail it gives is already
theirs (`same_person`); a gift whose codice fiscale, partita IVA or email matches a donor with
other details gets a new donor, flagged `possible_duplicate_of` that donor for a treasurer to
merge (`crm.merging`). The receipt and the emails of the gift then go to the name and address
given with it. Newsletter consent needs the donor's click on a link we email (double opt-in):
`confirm_newsletter`.
"""

import unicodedata

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from wagtail.log_actions import log

from .models import Donor
from .validators import normalise_code

# When the gift gives one of these, the donor must already have exactly that value.
GIVEN_FIELDS = tuple(field for field in Donor.CONTACT_FIELDS if field != "phone")
# Fields copied from what the donor typed (Donation.donor_details) onto a new Donor.
DONOR_FIELDS = ("kind", *Donor.NAME_FIELDS, *GIVEN_FIELDS, "language")
# Compared as people write them (`normalise_name`): equal on both sides, empty included.
NAME_FIELDS = Donor.NAME_FIELDS


def normalise_name(value):
    """A name or an address line as compared between a gift and a donor: accents, case,
    apostrophes, punctuation and spacing aside (`D'Alò` = `d’alo` = `DALO`). A value made only
    of symbols (emoji) is compared as typed, less case and spacing."""
    text = unicodedata.normalize("NFKD", str(value or "")).casefold()
    key = "".join(c for c in text if c.isalnum())
    return key or " ".join(text.split())


def _cleaned(details):
    details = details or {}
    values = {field: str(details.get(field) or "").strip() for field in DONOR_FIELDS}
    values.update(
        email=values["email"].lower(),
        codice_fiscale=normalise_code(values["codice_fiscale"]),
        partita_iva=normalise_code(values["partita_iva"]),
        province=values["province"].upper(),
        kind=values["kind"] or Donor.Kind.PERSON,
        language=values["language"] or "it",
    )
    return values


def same_person(donor, values):
    """True if a gift with these (cleaned) details may be attached to `donor` without changing
    anything of theirs: same kind, the same names, and every contact detail the gift gives
    (email, codice fiscale, partita IVA, address) already the donor's."""
    if donor.kind != values["kind"]:
        return False
    for field in NAME_FIELDS:
        if normalise_name(getattr(donor, field)) != normalise_name(values[field]):
            return False
    for field in GIVEN_FIELDS:
        given = values[field]
        if given and normalise_name(getattr(donor, field)) != normalise_name(given):
            return False
    return True


def _any_of(lookups):
    query = Q()
    for field, value in lookups.items():
        query |= Q(**{field: value})
    return query


def _candidates(network, values):
    """Donors of `network` sharing the gift's codice fiscale, partita IVA or email, strongest
    match first. A donor whose codice fiscale differs from the gift's is another person
    sharing the mailbox: not a candidate."""
    live = Donor.objects.filter(network=network, merged_into__isnull=True, anonymised_at=None)
    fields = [field for field in ("codice_fiscale", "partita_iva", "email") if values[field]]
    if not fields:
        return []
    # One query for the three: each donor is compared afterwards in the same order.
    rows = list(live.filter(_any_of({field: values[field] for field in fields})).order_by("id"))
    found = [donor for field in fields for donor in rows if getattr(donor, field) == values[field]]
    cf = values["codice_fiscale"]
    unique = {}
    for donor in found:
        if cf and donor.codice_fiscale and donor.codice_fiscale != cf:
            continue
        unique.setdefault(donor.pk, donor)
    return list(unique.values())


def match_or_create_donor(network, details):
    """The donor of `network` a gift with these details belongs to. An existing donor only if
    they are the same person (`same_person`), and then unchanged; otherwise a new donor made
    from the details, flagged as a possible duplicate of the donor sharing its codice fiscale,
    partita IVA or email, if any. A new donor's newsletter consent waits for the confirmation
    click (`crm.outbox.queue_newsletter_confirmation`)."""
    values = _cleaned(details)
    candidates = _candidates(network, values)
    for donor in candidates:
        if same_person(donor, values):
            return donor
    donor = Donor(
        network=network,
        source="online",
        possible_duplicate_of=candidates[0] if candidates else None,
        newsletter=False,
        public_mention=bool((details or {}).get("public_mention")),
        **values,
    )
    if (details or {}).get("privacy_notice_version"):
        accepted = details.get("privacy_accepted_at")
        donor.privacy_notice_version = str(details["privacy_notice_version"])[:20]
        donor.privacy_accepted_at = (parse_datetime(accepted) if accepted else None) or (
            timezone.now()
        )
    donor.save()
    return donor


def confirm_newsletter(donor):
    """The donor clicked the confirmation link: newsletter consent, with its time, in the
    consent log (`crm.consent`). Returns False if it was already given."""
    if donor.newsletter:
        return False
    donor.newsletter = True
    donor.newsletter_confirmed_at = timezone.now()
    donor.save(update_fields=["newsletter", "newsletter_confirmed_at", "updated_at"])
    log(donor, "crm.consent.confirmed", data={"email": donor.email})
    return True


def flag_possible_duplicate(donor):
    """A donor a treasurer typed (new, or given another codice fiscale, partita IVA or email)
    is flagged as a possible duplicate of the donor of the network sharing one of them, as a
    public gift's would be (`match_or_create_donor`): until a treasurer decides, their gifts
    are not reported under a codice fiscale someone else has (`crm.merging`). Returns the
    donor flagged against, or None."""
    if donor.possible_duplicate_of_id is not None or donor.anonymised_at:
        return None
    values = _cleaned({field: getattr(donor, field) for field in DONOR_FIELDS})
    others = [other for other in _candidates(donor.network, values) if other.pk != donor.pk]
    if not others:
        return None
    donor.possible_duplicate_of = others[0]
    Donor.objects.filter(pk=donor.pk).update(possible_duplicate_of=others[0])
    return others[0]
