"""The donor's own page, opened by a signed link we email them (no password): their gifts to
one network, receipts and statements, address and codice fiscale for future receipts, plans,
newsletter consent, and a copy of their data. The verbs here are what its views
(`crm.portal_views`) call; the links live in `crm.portal_links`.

Asking for a link answers the same whether or not we know the address (no enumeration); the
answer is throttled per client and per address (`crm.throttle`).
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import outbox
from .consent import BY_DONOR, withdraw_newsletter
from .display import EMPTY, human
from .donors import confirm_newsletter, flag_possible_duplicate
from .models import Donation, Donor, InKindGift, Receipt, RecurringPlan
from .privacy import donor_data, donor_export
from .throttle import client_key, take_ticket
from .validators import normalise_code

# At most this many links per address and per client an hour: enough for a typo and a retry.
LINKS_PER_ADDRESS = 3
LINKS_PER_CLIENT = 20
WINDOW = 3600

SHOWN_STATUSES = (
    Donation.Status.SUCCEEDED,
    Donation.Status.PARTIALLY_REFUNDED,
    Donation.Status.REFUNDED,
    Donation.Status.DISPUTED,
)
# What a donor may change themselves: what the next receipts print (issued ones stay as they
# are: a receipt is corrected by reissuing it, by a treasurer).
DETAIL_FIELDS = ("codice_fiscale", "street_address", "postal_code", "city", "province")


def normalise_email(value):
    return (value or "").strip().lower()


def may_ask(network, email, client):
    """Take a ticket for one more link; False when the client or the address asked too often.
    Counted whether or not we know the address: the answer must not tell. `client` is
    counted by `client_key` (an IPv6 /64 is one client)."""
    client = client_key(client)
    return take_ticket("portal:client", client, LINKS_PER_CLIENT, WINDOW) and take_ticket(
        "portal:address", f"{network.pk}:{email}", LINKS_PER_ADDRESS, WINDOW
    )


def send_link(network, email):
    """Email the link to each live donor of `network` with this address (usually one).
    Returns how many were queued; callers never show it."""
    donors = Donor.objects.filter(
        network=network,
        email__iexact=normalise_email(email),
        merged_into__isnull=True,
        anonymised_at__isnull=True,
    ).order_by("pk")[:3]
    with transaction.atomic():
        return sum(1 for d in donors if outbox.queue_donor_portal_email(d))


def session_value(donor, address_key):
    return {"d": donor.pk, "e": address_key, "at": int(timezone.now().timestamp())}


def session_fresh(value):
    age = timezone.now().timestamp() - int(value.get("at") or 0)
    return 0 <= age <= settings.DONOR_PORTAL_SESSION_MAX_AGE


def gifts_of(donor):
    return (
        donor.donations.filter(status__in=SHOWN_STATUSES)
        .select_related("campaign", "recurring_plan")
        .order_by("-received_on", "-pk")
    )


def receipts_of(donor):
    return donor.receipts.filter(status=Receipt.Status.ISSUED).order_by("-year", "-issued_at")


def plans_of(donor):
    return donor.recurring_plans.select_related("campaign").order_by("-started_at", "-pk")


@transaction.atomic
def update_details(donor, cleaned):
    """Save the address and codice fiscale the donor typed (already validated) for their
    future receipts. Returns the fields that changed."""
    locked = Donor.objects.select_for_update().get(pk=donor.pk)
    changed = []
    for field in DETAIL_FIELDS:
        value = (cleaned.get(field) or "").strip()
        if field in ("codice_fiscale", "province"):
            value = normalise_code(value)
        if getattr(locked, field) != value:
            setattr(locked, field, value)
            changed.append(field)
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    if "codice_fiscale" in changed:
        flag_possible_duplicate(locked)  # another donor's code: held until a treasurer checks
    return changed


@transaction.atomic
def set_newsletter(donor, wanted):
    """The donor's own choice on their page: they opened a link sent to this address, which
    proves the mailbox is theirs (the double opt-in's point)."""
    locked = Donor.objects.select_for_update().get(pk=donor.pk)
    if wanted:
        return confirm_newsletter(locked)
    if not locked.newsletter:
        return False
    # The confirmation goes with the consent: only a new click can start the news again.
    return withdraw_newsletter(locked, by=BY_DONOR)


def export_json(donor):
    return json.dumps(donor_export(donor), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


# The sections of the donor's copy (`privacy.donor_data`): the record whose fields their keys
# name, and what a row of the CSV calls them.
COPY_SECTIONS = {
    "donor": (Donor, _("Your details")),
    "consents": (Donor, _("Consents")),
    "donations": (Donation, _("Donation %(number)s")),
    "gifts_in_kind": (InKindGift, _("Gift in kind %(number)s")),
    "recurring_plans": (RecurringPlan, _("Recurring gift %(number)s")),
    "receipts": (Receipt, _("Receipt %(number)s")),
}


def _cell(donor, field, value):
    if field.name == "network":
        value = donor.network  # by its name (another record, a possible duplicate, by number)
    shown = human(value, field)
    return "" if shown == EMPTY else shown


def _labelled(donor, section, number, record):
    model, name = COPY_SECTIONS[section]
    if number is not None:
        name = name % {"number": number}
    for key, value in record.items():
        field = model._meta.get_field(key)
        label = _("%(section)s – %(field)s") % {"section": name, "field": field.verbose_name}
        yield label, _cell(donor, field, value)


def export_rows(donor):
    """The same data as the JSON, one (label, value) row per value, for the donor to read in
    their language: "Donazione 1 – importo", "€ 10,50", dates in the site's time zone, Sì/No,
    choice labels, nothing for nothing. Call it in the language the rows are wanted in."""
    rows = []
    for section, content in donor_data(donor).items():
        if isinstance(content, dict):
            rows.extend(_labelled(donor, section, None, content))
        else:
            for number, record in enumerate(content, start=1):
                rows.extend(_labelled(donor, section, number, record))
    return rows
