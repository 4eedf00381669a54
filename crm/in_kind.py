"""Gifts in kind (erogazioni liberali in natura): a treasurer records goods given, with their
value, how it was set and the documents; the receipt follows if asked.

The rules (see the README, "Gifts in kind"): art. 83 c.1 and c.2 D.Lgs. 117/2017 give the
benefit for gifts "in denaro o in natura"; the decree of the Minister of Labour of 28 November
2019 (GU n. 24 of 30 January 2020) sets the value (art. 3: the normal value of art. 9 TUIR; a
business's capital goods at their residual tax value; its stock at the lower of normal and
inventory value; a sworn appraisal no older than 90 days above EUR 30,000 or where no objective
criterion gives the value) and the documents (art. 4: the donor's written declaration with the
goods described item by item and their values, and the entity's declaration that it will use
them directly for its statutory activity).

Goods are never money: they are not a `Donation`, so no money figure, payout or Agenzia data
of money gifts (DM 3 February 2021: "erogazioni liberali in denaro") can count them."""

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import log

from . import receipts
from .models import Donor, InKindDocument, InKindGift, IssuingEntity, Network
from .models.in_kind import APPRAISAL_ABOVE_CENTS, APPRAISAL_MAX_AGE_DAYS
from .money import fiscal_today
from .offline import campaign_of
from .storage import in_kind_document_path, private_storage

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A document of a gift in kind: at most this size (a scanned appraisal fits).
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
Valuation = InKindGift.Valuation


def check_in_kind_gift(
    *,
    network: Network,
    donor: Donor | None,
    description: str,
    value_cents: int | None,
    valuation: str,
    received_on: datetime.date | None,
    appraisal_date: datetime.date | None = None,
    campaign: Any = None,
    entity: IssuingEntity | None = None,
    documents: Sequence[UploadedFile] = (),
) -> None:
    """Raise ValidationError (by field) if the gift in kind cannot be recorded as given."""
    errors: dict[str, Any] = {}
    if donor is None or donor.network_id != network.pk:
        errors["donor"] = _("Choose a donor of this network.")
    elif donor.anonymised_at:
        errors["donor"] = _("This donor was anonymised: gifts cannot be added.")
    if not (description or "").strip():
        errors["description"] = _("Describe the goods given, item by item.")
    if not value_cents or value_cents <= 0:
        errors["value"] = _("The value must be more than zero.")
    if valuation not in Valuation.values:
        errors["valuation"] = _("Choose how the value was set.")
    if received_on is None:
        errors["received_on"] = _("Enter the date the goods were received.")
    elif received_on > max(fiscal_today(), timezone.localdate()):
        errors["received_on"] = _("The date cannot be in the future.")
    appraisal_needed = valuation == Valuation.SWORN_APPRAISAL or (
        (value_cents or 0) > APPRAISAL_ABOVE_CENTS
        and valuation in (Valuation.NORMAL_VALUE, Valuation.INVOICE)
    )
    if appraisal_needed and valuation != Valuation.SWORN_APPRAISAL:
        # DM 28/11/2019 art. 3 c.4: above EUR 30,000 the normal value needs an appraisal.
        errors["valuation"] = _("Goods worth more than € 30.000 need a sworn appraisal.")
    elif appraisal_needed and appraisal_date is None:
        errors["appraisal_date"] = _("Enter the date of the sworn appraisal.")
    elif appraisal_needed and received_on and appraisal_date:
        age = (received_on - appraisal_date).days
        if not 0 <= age <= APPRAISAL_MAX_AGE_DAYS:
            errors["appraisal_date"] = _(
                "The sworn appraisal must date from the 90 days before the goods were received."
            )
    if campaign is not None and not campaign_of(campaign, network):
        errors["campaign"] = _("This campaign belongs to another network.")
    if entity is not None and entity.network_id != network.pk:
        errors["entity"] = _("This entity belongs to another network.")
    if any(getattr(doc, "size", 0) > MAX_DOCUMENT_BYTES for doc in documents):
        errors["documents"] = _("A document may be at most 10 MB.")
    if errors:
        raise ValidationError(errors)


def record_in_kind_gift(
    *,
    network: Network,
    donor: Donor,
    description: str,
    value_cents: int,
    valuation: str,
    received_on: datetime.date,
    valuation_note: str = "",
    appraisal_date: datetime.date | None = None,
    campaign: Any = None,
    entity: IssuingEntity | None = None,  # None: the campaign's, else the network's lead
    documents: Sequence[UploadedFile] = (),
    wants_receipt: bool = False,
    recorded_by: "User | None" = None,
) -> InKindGift:
    """Record goods given, store their documents privately, log it, and issue the in-kind
    receipt, in the series of the entity that received the goods, if the donor asked for one
    or the network always issues receipts. No money moves
    and no money email is sent. Returns the InKindGift."""
    check_in_kind_gift(
        network=network,
        donor=donor,
        description=description,
        value_cents=value_cents,
        valuation=valuation,
        received_on=received_on,
        appraisal_date=appraisal_date,
        campaign=campaign,
        entity=entity,
        documents=documents,
    )
    # The files first, outside the transaction (a bucket is an outbound call): a failed
    # recording leaves an unreferenced private file, never a gift pointing at no file.
    stored = [
        (private_storage().save(in_kind_document_path(network), upload), upload.name or "")
        for upload in documents
    ]
    with transaction.atomic():
        gift = InKindGift.objects.create(
            network=network,
            entity=entity,
            donor=donor,
            campaign=campaign,
            description=description.strip(),
            value_cents=value_cents,
            valuation=valuation,
            valuation_note=(valuation_note or "").strip(),
            appraisal_date=appraisal_date if valuation == Valuation.SWORN_APPRAISAL else None,
            received_on=received_on,
            wants_receipt=wants_receipt,
            recorded_by=recorded_by,
        )
        for path, name in stored:
            InKindDocument.objects.create(gift=gift, file=path, name=name[:255] or "document")
        log(gift, "wagtail.create", user=recorded_by)
        if wants_receipt or network.always_issue_receipts:
            receipts.issue_in_kind_receipt(gift, issued_by=recorded_by)
    return gift
