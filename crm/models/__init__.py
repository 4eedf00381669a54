"""The record: networks (tenants), donors, donations, recurring plans, receipts, donor emails.

Money is integer euro cents everywhere (`*_cents` fields; see `crm.money`). Every row a
treasurer sees belongs to exactly one network; querysets offer `for_user(user)` to scope them.
"""

from .donors import Donor
from .email_templates import EmailTemplate
from .entities import IssuingEntity, IssuingEntityQuerySet
from .giving import KEPT, NET, Donation, DonationQuerySet, Money
from .history import TenantLogEntry
from .imports import ImportBatch
from .in_kind import InKindDocument, InKindGift
from .network import Network, NetworkQuerySet, NetworkScopedQuerySet, Partner
from .plans import RecurringPlan
from .receipts import DonorEmail, Receipt, ReceiptCounter, SuppressedAddress
from .yearly import Refund, StatementRun

__all__ = [
    "KEPT",
    "NET",
    "Money",
    "Donation",
    "DonationQuerySet",
    "DonorEmail",
    "ImportBatch",
    "InKindDocument",
    "InKindGift",
    "Donor",
    "EmailTemplate",
    "IssuingEntity",
    "IssuingEntityQuerySet",
    "Network",
    "NetworkQuerySet",
    "NetworkScopedQuerySet",
    "Partner",
    "Receipt",
    "ReceiptCounter",
    "RecurringPlan",
    "Refund",
    "StatementRun",
    "SuppressedAddress",
    "TenantLogEntry",
]
