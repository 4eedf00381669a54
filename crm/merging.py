"""Duplicate donors: suggestions and a merge that moves gifts, plans and receipts.

A merge keeps one donor and marks the other `merged_into` it (never deleted), so the log entry
and the kept row say what happened and the move can be traced and undone by hand.

Donors flagged when their gift arrived (`Donor.possible_duplicate_of`: the gift came with an
existing donor's codice fiscale or email but other details, `crm.donors`) are listed first;
merging clears the flag, and so does "same person" (`confirm_same_person`) or "not the same
person" (`dismiss_duplicate`, refused while the two share a codice fiscale: one of them typed
the other's, and it must be corrected first).

Until the flag is cleared, a flagged donor who shares a codice fiscale with another donor is
held back from the Agenzia Entrate data (`identity_holds`, read by `crm.tax_data`): what a
stranger typed is a claim, and their gifts must not give someone else a tax benefit.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log

from . import consent
from .models import Donor
from .validators import normalise_code

FLAGGED = _("flagged when the gift arrived: same codice fiscale or email, other details")
SAME_PERSON = "crm.same_person"


class SharedCodiceFiscale(ValueError):
    """Two people cannot share a codice fiscale: one of the two must be corrected first."""


@dataclass
class Hold:
    """Why a donor's gifts wait for a treasurer before being reported under their code."""

    donor_id: int
    other: Donor

    @property
    def reason(self):
        return _(
            "Possible duplicate of %(other)s (donor %(id)s), who has the same codice fiscale: "
            "merge them, or confirm they are the same person, before this is reported."
        ) % {"other": self.other, "id": self.other.pk}


def _live_flagged(donors):
    return donors.filter(
        merged_into__isnull=True,
        anonymised_at__isnull=True,
        possible_duplicate_of__isnull=False,
        possible_duplicate_of__merged_into__isnull=True,
        possible_duplicate_of__anonymised_at__isnull=True,
    )


def _sharing_code(donor):
    """Another live donor of the donor's network with the same codice fiscale, or None."""
    code = normalise_code(donor.codice_fiscale)
    if not code:
        return None
    return (
        Donor.objects.filter(
            network_id=donor.network_id, merged_into__isnull=True, anonymised_at__isnull=True
        )
        .exclude(pk=donor.pk)
        .annotate(code=Upper("codice_fiscale"))
        .filter(code=code)
        .order_by("pk")
        .first()
    )


def identity_holds(network):
    """{donor id: Hold} of the donors of `network` whose gifts are not to be reported under
    their codice fiscale yet: flagged as a possible duplicate, with a codice fiscale another
    live donor has too (usually the donor flagged). Flags are few: a query per flagged donor."""
    holds = {}
    flagged = _live_flagged(Donor.objects.filter(network=network)).exclude(codice_fiscale="")
    for donor in flagged.select_related("possible_duplicate_of"):
        other = _sharing_code(donor)
        if other is not None:
            target = donor.possible_duplicate_of
            same = normalise_code(target.codice_fiscale) == normalise_code(donor.codice_fiscale)
            holds[donor.pk] = Hold(donor.pk, target if same else other)
    return holds


def flagged_duplicates(live, limit=50):
    """Pairs (existing donor, flagged donor) among live donors, newest flag first."""
    flagged = (
        live.filter(
            possible_duplicate_of__isnull=False,
            possible_duplicate_of__merged_into__isnull=True,
            possible_duplicate_of__anonymised_at__isnull=True,
        )
        .select_related("possible_duplicate_of")
        .order_by("-created_at", "-pk")[:limit]
    )
    return [(donor.possible_duplicate_of, donor) for donor in flagged]


def duplicate_suggestions(donors, limit=50):
    """Pairs (donor, other, reason) of likely duplicates among `donors` (already scoped): first
    the donors flagged when their gift arrived, then same email, same codice fiscale, or same
    name and postal code within one network."""
    live = donors.filter(merged_into__isnull=True, anonymised_at__isnull=True)
    pairs = [(keep, other, FLAGGED) for keep, other in flagged_duplicates(live, limit)]
    seen = {(keep.pk, other.pk) for keep, other, _reason in pairs}
    seen |= {(other.pk, keep.pk) for keep, other, _reason in pairs}
    keys = (
        (("email",), _("same email")),
        (("codice_fiscale",), _("same codice fiscale")),
        (("last_name", "first_name", "postal_code"), _("same name and postal code")),
    )
    for fields, reason in keys:
        filled = live.exclude(**{f"{fields[0]}": ""})
        groups = (
            filled.order_by()
            .values("network", *fields)
            .annotate(n=Count("id"))
            .filter(n__gt=1)[:limit]
        )
        for group in groups:
            match = {f: group[f] for f in ("network", *fields)}
            if "last_name" in fields:
                match = {
                    "network": group["network"],
                    "last_name__iexact": group["last_name"],
                    "first_name__iexact": group["first_name"],
                    "postal_code": group["postal_code"],
                }
            members = list(live.filter(**match).order_by("created_at", "pk"))
            for other in members[1:]:
                key = (members[0].pk, other.pk)
                if key not in seen:
                    seen.add(key)
                    pairs.append((members[0], other, reason))
        if len(pairs) >= limit:
            break
    return pairs[:limit]


@transaction.atomic
def merge_donors(keep, duplicate, *, user=None):
    """Move the duplicate's gifts, plans and receipts to `keep`, fill `keep`'s empty fields
    from it, carry the most recent consent, and mark the duplicate as merged. The newsletter
    carries over only to the address that confirmed it; a kept address of its own is sent a
    new confirmation (`crm.consent`)."""
    if keep.pk == duplicate.pk or keep.network_id != duplicate.network_id:
        raise ValueError("Only two different donors of the same network can be merged.")
    keep = Donor.objects.select_for_update().get(pk=keep.pk)
    duplicate = Donor.objects.select_for_update().get(pk=duplicate.pk)
    moved = {
        "donations": list(duplicate.donations.values_list("pk", flat=True)),
        "recurring_plans": list(duplicate.recurring_plans.values_list("pk", flat=True)),
        "receipts": list(duplicate.receipts.values_list("pk", flat=True)),
        "in_kind_gifts": list(duplicate.in_kind_gifts.values_list("pk", flat=True)),
    }
    duplicate.donations.update(donor=keep)
    duplicate.in_kind_gifts.update(donor=keep)
    duplicate.recurring_plans.update(donor=keep)
    duplicate.receipts.update(donor=keep)  # their frozen details stay as issued
    for field in Donor.CONTACT_FIELDS:
        if not getattr(keep, field) and getattr(duplicate, field):
            setattr(keep, field, getattr(duplicate, field))
    if (duplicate.privacy_accepted_at or 0) and (
        not keep.privacy_accepted_at or duplicate.privacy_accepted_at > keep.privacy_accepted_at
    ):
        keep.privacy_accepted_at = duplicate.privacy_accepted_at
        keep.privacy_notice_version = duplicate.privacy_notice_version
        keep.public_mention = duplicate.public_mention
    confirmed_elsewhere = False
    if duplicate.newsletter and not keep.newsletter:
        if (keep.email or "").lower() == (duplicate.email or "").lower():
            # Given by a click on a link sent to this very address, so it carries over.
            keep.newsletter = True
            keep.newsletter_confirmed_at = duplicate.newsletter_confirmed_at
        else:
            confirmed_elsewhere = True  # the kept address must confirm it itself (below)
    if keep.possible_duplicate_of_id == duplicate.pk:
        keep.possible_duplicate_of = None
    keep.save()
    duplicate.merged_into = keep
    duplicate.possible_duplicate_of = None
    duplicate.save(update_fields=["merged_into", "possible_duplicate_of", "updated_at"])
    # Donors flagged as look-alikes of the merged one are now look-alikes of the kept one.
    Donor.objects.filter(possible_duplicate_of=duplicate).exclude(pk=keep.pk).update(
        possible_duplicate_of=keep
    )
    data = {"kept": keep.pk, "merged": duplicate.pk, "moved": moved}
    log(keep, "crm.merge", user=user, data=data)
    log(duplicate, "crm.merge", user=user, data=data)
    if confirmed_elsewhere:
        consent.request_newsletter(keep, reason=consent.MERGED, user=user)
    return keep


@transaction.atomic
def confirm_same_person(donor, *, user=None):
    """A treasurer checked a flagged donor: the same person as the one flagged, kept as two
    records (two addresses, say). The flag goes; their gifts are reported together under the
    shared codice fiscale. Returns False if there was no flag."""
    donor = Donor.objects.select_for_update().get(pk=donor.pk)
    if donor.possible_duplicate_of_id is None:
        return False
    data = {"donor": donor.pk, "same_as": donor.possible_duplicate_of_id}
    donor.possible_duplicate_of = None
    donor.save(update_fields=["possible_duplicate_of", "updated_at"])
    log(donor, SAME_PERSON, user=user, data=data)
    return True


@transaction.atomic
def dismiss_duplicate(donor, *, user=None):
    """A treasurer checked a flagged donor: not the same person as the one flagged. Returns
    False if there was no flag; raises SharedCodiceFiscale while the donor shares a codice
    fiscale with another donor (two people cannot: the wrong one must be corrected)."""
    donor = Donor.objects.select_for_update().get(pk=donor.pk)
    if donor.possible_duplicate_of_id is None:
        return False
    other = _sharing_code(donor)
    if other is not None:
        raise SharedCodiceFiscale(
            _(
                "%(donor)s and %(other)s have the same codice fiscale (%(code)s): two people "
                "cannot. Correct it on the record of the one it does not belong to, then mark "
                "them as different people."
            )
            % {"donor": donor, "other": other, "code": normalise_code(donor.codice_fiscale)}
        )
    data = {"donor": donor.pk, "not_duplicate_of": donor.possible_duplicate_of_id}
    donor.possible_duplicate_of = None
    donor.save(update_fields=["possible_duplicate_of", "updated_at"])
    log(donor, "wagtail.edit", user=user, data=data)  # shown as an edit in its history
    return True
