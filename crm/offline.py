"""Offline gifts: a bank transfer, cash or a cheque a treasurer records by hand."""

import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log

from . import receipts, thanks
from .models import Donation, Donor, IssuingEntity, Network
from .money import MAX_STORED_CENTS, fiscal_today, format_amount

if TYPE_CHECKING:
    from django.contrib.auth.models import User

OFFLINE_METHODS = (
    Donation.Method.BANK_TRANSFER,
    Donation.Method.CASH,
    Donation.Method.CHEQUE,
    Donation.Method.OTHER,
)


def check_offline_gift(
    *,
    network: Network,
    donor: Donor | None,
    amount_cents: int,
    received_on: datetime.date | None,
    method: str,
    campaign: Any = None,
    entity: IssuingEntity | None = None,
) -> None:
    """Raise ValidationError (by field) if the gift cannot be recorded as given."""
    errors: dict[str, Any] = {}
    if donor is None or donor.network_id != network.pk:
        errors["donor"] = _("Choose a donor of this network.")
    elif donor.anonymised_at:
        errors["donor"] = _("This donor was anonymised: gifts cannot be added.")
    if not amount_cents or amount_cents <= 0:
        errors["amount"] = _("The amount must be more than zero.")
    elif amount_cents > MAX_STORED_CENTS:  # a bank's credit, an import's line: no gift keeps it
        errors["amount"] = _("The amount can be at most %(limit)s.") % {
            "limit": format_amount(MAX_STORED_CENTS)
        }
    if received_on is None:
        errors["received_on"] = _("Enter the date the money was received.")
    elif received_on > max(fiscal_today(), timezone.localdate()):
        errors["received_on"] = _("The date cannot be in the future.")
    if method not in OFFLINE_METHODS:
        errors["method"] = _("Choose bank transfer, cash, cheque or other.")
    if campaign is not None and not campaign_of(campaign, network):
        errors["campaign"] = _("This campaign belongs to another network.")
    if entity is not None and entity.network_id != network.pk:
        errors["entity"] = _("This entity belongs to another network.")
    if errors:
        raise ValidationError(errors)


def campaign_of(campaign: Any, network: Network) -> bool:
    page = getattr(network, "page", None)
    return page is not None and campaign.path.startswith(page.path)


@transaction.atomic
def record_offline_gift(
    *,
    network: Network,
    donor: Donor,
    amount_cents: int,
    received_on: datetime.date,
    method: str,
    reference: str = "",
    campaign: Any = None,  # a campaign page (crm knows no other app)
    entity: IssuingEntity | None = None,  # None: the campaign's, else the network's lead
    wants_receipt: bool = False,
    dedication: str = "",
    tribute: dict | None = None,  # the Donation's tribute fields (a transfer's pledge keeps them)
    recorded_by: "User | None" = None,
    confirm: bool = True,
    auto_receipt: bool = True,
) -> Donation:
    """Record a gift received outside Stripe as succeeded, log it, and receipt it if asked
    (or if the network always issues receipts), and email the donor its confirmation with the
    receipt attached (`crm.thanks`). An import of past gifts (`confirm=False`) confirms
    nothing: only a receipt issued with a gift is emailed, as before; with `auto_receipt`
    false it issues none either (the import decides, `crm.imports`). Returns the Donation."""
    check_offline_gift(
        network=network,
        donor=donor,
        amount_cents=amount_cents,
        received_on=received_on,
        method=method,
        campaign=campaign,
        entity=entity,
    )
    donation = Donation.objects.create(
        network=network,
        entity=entity,
        donor=donor,
        campaign=campaign,
        amount_cents=amount_cents,
        received_on=received_on,
        method=method,
        channel=Donation.Channel.OFFLINE,
        status=Donation.Status.SUCCEEDED,
        reference=(reference or "").strip(),
        wants_receipt=wants_receipt,
        dedication=dedication,
        recorded_by=recorded_by,
        **(tribute or {}),
    )
    log(donation, "wagtail.create", user=recorded_by)
    if confirm:
        thanks.acknowledge_gift(donation)
    elif auto_receipt:
        receipts.receipt_gift_if_due(donation)
    return donation
