"""The record: networks (tenants), donors, donations, recurring plans, receipts, Stripe events.

Money is integer euro cents everywhere (`*_cents` fields; see `crm.money`). Every row a
treasurer sees belongs to exactly one network; querysets offer `for_user(user)` to scope them.
"""

from .giving import Donation, DonationQuerySet, Donor, RecurringPlan, StripeEvent
from .network import Network, NetworkQuerySet, NetworkScopedQuerySet, Partner
from .receipts import Receipt, ReceiptCounter, ReceiptEmail

__all__ = [
    "Donation",
    "DonationQuerySet",
    "Donor",
    "Network",
    "NetworkQuerySet",
    "NetworkScopedQuerySet",
    "Partner",
    "Receipt",
    "ReceiptCounter",
    "ReceiptEmail",
    "RecurringPlan",
    "StripeEvent",
]
