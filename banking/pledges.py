"""Pledges: a donor chose to give by bank transfer. The pledge holds the amount and the RF
reference the transfer should carry; it is expected money, never a gift and never counted in
any figure, until a statement line brings the money (`banking.matching`). A pledge past its
days is "expired" (computed: `Pledge.state`), and a transfer that arrives late is still
matched by its reference."""

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import Network

from . import references, tasks
from .models import BankDetails, Pledge


def bank_details_of(network: Network | None) -> BankDetails | None:
    """The network's bank details, or None when it takes no bank transfers."""
    if network is None:
        return None
    return BankDetails.objects.filter(network=network).exclude(iban="").first()


# What a pledge keeps of the dedication section besides the message, for the gift to come.
TRIBUTE_FIELDS = ("tribute", "tribute_name", "tribute_notify_email", "tribute_show_amount")


def create_pledge(
    *,
    network: Network,
    campaign: Any,
    amount_cents: int,
    donor_details: dict,
    wants_receipt: bool = False,
    dedication: str = "",
    tribute: dict | None = None,
    today: datetime.date | None = None,
) -> Pledge:
    """A new pledge with a unique RF reference, and its email (the bank details and QR code)
    queued to the donor in their language once it commits. `tribute`: the gift's person and
    the family to tell (`TRIBUTE_FIELDS`), kept for the gift the transfer will become."""
    details = bank_details_of(network)
    if details is None:
        raise ValueError("this network takes no bank transfers")
    if amount_cents <= 0:
        raise ValueError("a pledge needs an amount")
    today = today or timezone.localdate()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                pledge = Pledge.objects.create(
                    network=network,
                    campaign=campaign,
                    reference=references.new_reference(),
                    amount_cents=amount_cents,
                    donor_details=donor_details,
                    language="en" if donor_details.get("language") == "en" else "it",
                    wants_receipt=wants_receipt,
                    dedication=dedication,
                    **{
                        name: value
                        for name, value in (tribute or {}).items()
                        if name in TRIBUTE_FIELDS
                    },
                    expires_on=today + datetime.timedelta(days=details.pledge_days),
                )
                tasks.enqueue_on_commit(tasks.send_pledge_email, pledge.pk)
                return pledge
        except IntegrityError:  # the one-in-10^15 reference already taken: draw again
            continue
    raise RuntimeError("could not draw a free reference")


def open_pledges(network: Network) -> "Any":
    """The network's pledges still waiting (expired ones included: money may come late)."""
    return Pledge.objects.filter(network=network, status=Pledge.Status.OPEN)
