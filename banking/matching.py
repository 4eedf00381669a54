"""What a statement line becomes. A credit carrying the RF reference of an open pledge, for its
amount, becomes that pledge's gift at once; any other credit waits on the review list with what
we propose (a pledge of the same amount and name, the donor whose earlier transfer came from
the same IBAN, a donor of the same name); a credit that is a Stripe payout is linked to its
payout (its gifts are counted already) and never becomes a gift; debits, reversals and returns
never do either.

A gift is recorded through crm's offline-gift verb (`crm.offline.record_offline_gift`: bank
transfer, the value date, the receipt as for any offline gift), with the bank's reference as
its idempotency key: the line is locked, and a gift of the network already carrying that
reference is linked instead of a second one being made."""

import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.payouts.models import Payout
from crm.donors import match_or_create_donor, normalise_name
from crm.models import Donation, Donor
from crm.offline import record_offline_gift

from .models import BankDetails, Pledge, StatementLine
from .pledges import TRIBUTE_FIELDS
from .references import find_references

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PAYOUT_DAYS_BEFORE, PAYOUT_DAYS_AFTER = 2, 5


class LineRefused(ValueError):
    """This line cannot become a gift (a debit, a reversal, already a gift, ignored...)."""


def settle_new_line(line: StatementLine) -> None:
    """Classify a new credit: a Stripe payout, a pledge's gift, or a proposal to review."""
    if line.kind != StatementLine.Kind.CREDIT:
        return
    payout, flagged = stripe_payout_for(line)
    if payout is not None or flagged:
        line.kind = StatementLine.Kind.PAYOUT
        line.status = StatementLine.Status.PAYOUT
        line.payout = payout
        line.save(update_fields=["kind", "status", "payout"])
        return
    pledge = _pledge_by_reference(line)
    if pledge is not None and _pledge_fits(pledge, line):
        donor = match_or_create_donor(line.network, pledge.donor_details)
        record_line_gift(line, donor=donor, pledge=pledge)
        return
    _propose(line, pledge)


def stripe_payout_for(line: StatementLine) -> tuple[Payout | None, bool]:
    """(the network's Stripe payout this credit is, whether the network's payout rule flags
    it): same amount, arriving within a few days, not linked already; or its reference."""
    text = f"{line.remittance} {line.name}".upper()
    details = BankDetails.objects.filter(network=line.network).first()
    marker = (details.payout_marker if details else "STRIPE").strip().upper()
    flagged = bool(marker) and marker in text
    linked = StatementLine.objects.exclude(payout=None).values("payout")
    payouts = Payout.objects.filter(
        network=line.network,
        currency__iexact=line.currency,
        amount_cents=line.amount_cents,
        status__in=[Payout.Status.PAID, Payout.Status.IN_TRANSIT],
    ).exclude(pk__in=linked)
    near = Q(
        arrival_date__gte=line.booked_on - datetime.timedelta(days=PAYOUT_DAYS_AFTER),
        arrival_date__lte=line.booked_on + datetime.timedelta(days=PAYOUT_DAYS_BEFORE),
    )
    for payout in payouts.order_by("arrival_date", "pk"):
        traced = any(
            ref and ref.upper() in text for ref in (payout.trace_id, payout.stripe_payout_id)
        )
        if traced:
            return payout, True
    if flagged:
        return payouts.filter(near).order_by("arrival_date", "pk").first(), True
    return None, False


def _pledge_by_reference(line: StatementLine) -> Pledge | None:
    refs = find_references(line.remittance)
    if not refs:
        return None
    return Pledge.objects.filter(network=line.network, reference__in=refs).first()


def _pledge_fits(pledge: Pledge, line: StatementLine) -> bool:
    return (
        pledge.status == Pledge.Status.OPEN
        and pledge.donation_id is None
        and pledge.amount_cents == line.amount_cents
        and line.currency.upper() == "EUR"
    )


def _propose(line: StatementLine, by_reference: Pledge | None) -> None:
    """Leave the credit for review with the best guess of whose it is."""
    line.pledge = by_reference or _pledge_by_name(line)
    line.proposed_donor = _donor_by_iban(line) or _donor_by_name(line)
    if by_reference is not None:
        line.reason = _("The reference is a pledge's, but the amount or its state differ.")
    line.save(update_fields=["pledge", "proposed_donor", "reason"])


def _pledge_by_name(line: StatementLine) -> Pledge | None:
    if not line.name:
        return None
    key = normalise_name(line.name)
    same_amount = Pledge.objects.filter(
        network=line.network, status=Pledge.Status.OPEN, amount_cents=line.amount_cents
    )
    for pledge in same_amount.order_by("-created_at")[:200]:
        first, last = pledge.donor_details.get("first_name"), pledge.donor_details.get("last_name")
        if key in (normalise_name(pledge.name), normalise_name(f"{last} {first}")):
            return pledge
    return None


def _donor_by_iban(line: StatementLine) -> Donor | None:
    if not line.iban:
        return None
    earlier = (
        StatementLine.objects.filter(network=line.network, iban=line.iban)
        .exclude(donation=None)
        .select_related("donation__donor")
        .order_by("-pk")
        .first()
    )
    return earlier.donation.donor if earlier and earlier.donation else None


def _donor_by_name(line: StatementLine) -> Donor | None:
    words = line.name.split()
    if len(words) < 2:
        return None
    key = normalise_name(line.name)
    candidates = Donor.objects.filter(
        network=line.network, anonymised_at=None, merged_into=None
    ).filter(
        Q(last_name__iexact=words[-1])
        | Q(last_name__iexact=words[0])
        | Q(organisation_name__iexact=line.name)
    )
    for donor in candidates[:50]:
        names = (
            f"{donor.first_name} {donor.last_name}",
            f"{donor.last_name} {donor.first_name}",
            donor.organisation_name,
        )
        if key in {normalise_name(n) for n in names if n.strip()}:
            return donor
    return None


def _received_on(line: StatementLine) -> datetime.date:
    """The gift's date: the value date, unless the bank dated it ahead of today."""
    today = timezone.localdate()
    if line.value_on and line.value_on <= today:
        return line.value_on
    return min(line.booked_on, today)


@transaction.atomic
def record_line_gift(
    line: StatementLine,
    *,
    donor: Donor,
    pledge: Pledge | None = None,
    campaign: Any = None,
    wants_receipt: bool | None = None,
    user: "User | None" = None,
) -> Donation:
    """Make a credit a gift of `donor` (once: a second call, or a gift of the network already
    carrying the bank's reference, returns that gift)."""
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    if line.donation_id is not None:
        return line.donation  # type: ignore[return-value]
    if line.kind != StatementLine.Kind.CREDIT or line.status != StatementLine.Status.REVIEW:
        raise LineRefused(_("Only a credit waiting for review can become a gift."))
    if line.currency.upper() != "EUR":
        raise LineRefused(_("Only a credit in euros can become a gift."))
    if donor.network_id != line.network_id:
        raise LineRefused(_("Choose a donor of this network."))
    donation = Donation.objects.filter(
        network=line.network,
        method=Donation.Method.BANK_TRANSFER,
        reference=line.bank_reference,
    ).first()
    if pledge is not None:
        pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
        if pledge.network_id != line.network_id:
            pledge = None
        elif pledge.donation_id is not None:
            # The same money twice (a bank's retry, a donor's double transfer): this credit is
            # not the pledge's gift; the treasurer decides whose it is, or ignores it.
            raise LineRefused(
                _("This pledge was received already: choose the donor, or ignore the credit.")
            )
    if donation is None:
        donation = record_offline_gift(
            network=line.network,
            donor=donor,
            amount_cents=line.amount_cents,
            received_on=_received_on(line),
            method=Donation.Method.BANK_TRANSFER,
            reference=line.bank_reference,
            campaign=pledge.campaign.specific if pledge and pledge.campaign else campaign,
            wants_receipt=pledge.wants_receipt
            if wants_receipt is None and pledge
            else bool(wants_receipt),
            dedication=pledge.dedication if pledge else "",
            tribute={name: getattr(pledge, name) for name in TRIBUTE_FIELDS} if pledge else None,
            recorded_by=user,
        )
    line.donation = donation
    line.status = StatementLine.Status.MATCHED
    line.pledge = pledge or line.pledge
    line.decided_by = user
    line.save(update_fields=["donation", "status", "pledge", "decided_by"])
    if pledge is not None:
        pledge.status = Pledge.Status.RECEIVED
        pledge.donation = donation
        pledge.save(update_fields=["status", "donation"])
    return donation


@transaction.atomic
def ignore_line(line: StatementLine, *, reason: str, user: "User | None" = None) -> None:
    """Leave a credit out of the gifts, saying why."""
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    if line.status != StatementLine.Status.REVIEW:
        raise LineRefused(_("Only a credit waiting for review can be ignored."))
    if not reason.strip():
        raise LineRefused(_("Say why this credit is ignored."))
    line.status = StatementLine.Status.IGNORED
    line.reason = reason.strip()[:500]
    line.decided_by = user
    line.save(update_fields=["status", "reason", "decided_by"])
