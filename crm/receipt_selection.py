"""Who gets a receipt: what a receipt needs of a donor (`missing_receipt_data`), and the gifts
of a bulk issue (the bulk action, an import batch) sorted into those issued by default and why
each of the others is not (`sort_for_receipts`, `issue_receipts_for`). Issuing itself is
`crm.receipts`.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .models import Donation, Donor, Receipt
from .receipt_files import ReceiptError
from .receipts import _receipted_amount, email_receipt, issue_receipt

if TYPE_CHECKING:
    from django.contrib.auth.models import User


CODICE_FISCALE, ADDRESS = "codice_fiscale", "address"
MISSING_LABELS = {CODICE_FISCALE: _("codice fiscale"), ADDRESS: _("address")}


def missing_receipt_data(donor: Donor) -> list[str]:
    """What a receipt needs of `donor` and the donor lacks, as codes (`CODICE_FISCALE`,
    `ADDRESS`): a receipt names the donor by codice fiscale (an organisation's partita IVA will
    do) and address (art. 83 D.Lgs. 117/2017 and the Agenzia's precompiled return; the same
    rule as the donation form, campaigns.forms)."""
    missing = []
    if donor.kind == Donor.Kind.ORGANISATION:
        if not (donor.codice_fiscale or donor.partita_iva):
            missing.append(CODICE_FISCALE)
    elif not donor.codice_fiscale:
        missing.append(CODICE_FISCALE)
    if not all(str(v or "").strip() for v in (donor.street_address, donor.postal_code, donor.city)):
        missing.append(ADDRESS)
    return missing


def describe_missing(missing: Iterable[str]) -> str:
    """ "codice fiscale, address", as the treasurer reads it."""
    return ", ".join(str(MISSING_LABELS[code]) for code in missing)


@dataclass
class ReceiptSelection:
    """Gifts sorted for a bulk issue (`sort_for_receipts`): which get a receipt by default and
    why each of the others does not."""

    #: (gift, asked, missing codes) for every gift that may have a receipt.
    eligible: list[tuple[Donation, bool, list[str]]] = field(default_factory=list)
    #: gifts already covered by an issued receipt.
    covered: list[Donation] = field(default_factory=list)
    #: (gift, reason code): "cash", or "not_receiptable" (not completed, no donor, refunded).
    not_eligible: list[tuple[Donation, str]] = field(default_factory=list)

    @property
    def ready(self) -> list[Donation]:
        """The gifts issued by default: the donor asked, and the data is there."""
        return [g for g, asked, missing in self.eligible if asked and not missing]

    @property
    def not_asked(self) -> list[Donation]:
        return [g for g, asked, _missing in self.eligible if not asked]

    @property
    def missing_data(self) -> list[tuple[Donation, list[str]]]:
        """(gift, missing codes) of the gifts whose donor asked but lacks what a receipt needs."""
        return [(g, missing) for g, asked, missing in self.eligible if asked and missing]

    def chosen(
        self, *, include_not_asked: bool = False, include_missing: bool = False
    ) -> tuple[list[tuple[Donation, list[str]]], list[tuple[Donation, str]]]:
        """(gift, missing codes) to issue; and (gift, reason code) left out."""
        issue, left = [], [(g, "covered") for g in self.covered] + list(self.not_eligible)
        for gift, asked, missing in self.eligible:
            if not (asked or include_not_asked):
                left.append((gift, "not_asked"))
            elif missing and not include_missing:
                left.append((gift, "missing_data"))
            else:
                issue.append((gift, missing))
        return issue, left


def donor_asked(gift: Donation) -> bool:
    """The donor asked for a receipt with this gift, or the network issues one for every gift."""
    return bool(gift.wants_receipt or gift.network.always_issue_receipts)


def sort_for_receipts(donations: Iterable[Donation]) -> ReceiptSelection:
    """Sort `donations` for a bulk issue (a few queries, whatever their number): covered, not
    eligible (cash gives no tax benefit: art. 83 c.1 D.Lgs. 117/2017), or eligible with whether
    the donor asked and what data is missing."""
    ids = [d.pk for d in donations]
    gifts = Donation.objects.filter(pk__in=ids).select_related("donor", "network").order_by("pk")
    covered = set(
        Receipt.objects.filter(donations__in=ids, status=Receipt.Status.ISSUED).values_list(
            "donations", flat=True
        )
    )
    selection = ReceiptSelection()
    for gift in gifts:
        if gift.pk in covered:
            selection.covered.append(gift)
        elif (
            gift.status not in Donation.COUNTED_STATUSES
            or gift.donor is None
            or _receipted_amount(gift) <= 0
        ):
            selection.not_eligible.append((gift, "not_receiptable"))
        elif gift.method == Donation.Method.CASH:
            selection.not_eligible.append((gift, "cash"))
        else:
            selection.eligible.append((gift, donor_asked(gift), missing_receipt_data(gift.donor)))
    return selection


def issue_receipts_for(
    donations: Iterable[Donation],
    *,
    issued_by: "User | None" = None,
    email: bool = True,
    include_not_asked: bool = False,
    include_missing: bool = False,
) -> dict[str, Any]:
    """One receipt per gift for `donations` (the bulk action, an import batch): by default only
    for gifts whose donor asked and whose donor data is complete; `include_not_asked` and
    `include_missing` take the others too (an issue without the data is confirmed, and logged
    as such). Gifts covered, paid in cash, not completed or without a donor are left out. Each
    receipt is emailed to the donor unless `email` is false. Returns a report: `issued`
    (receipts), `emailed` (count) and `skipped` (list of (gift, reason code))."""
    issue, left = sort_for_receipts(donations).chosen(
        include_not_asked=include_not_asked, include_missing=include_missing
    )
    report: dict[str, Any] = {"issued": [], "emailed": 0, "skipped": left}
    for gift, missing in issue:
        try:
            with transaction.atomic():
                receipt = issue_receipt([gift], issued_by=issued_by, confirmed_missing=missing)
                if email and email_receipt(receipt):
                    report["emailed"] += 1
        except ReceiptError:
            report["skipped"].append((gift, "not_receiptable"))
            continue
        report["issued"].append(receipt)
    return report
