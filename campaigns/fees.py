"""The donor may add the payment fee to their gift, so the whole gift reaches the project.

The fee is estimated from Stripe's published Italian pricing for standard EEA cards
(https://stripe.com/it/pricing: 1,5% + € 0,25), overridable with GIVING_FEE_ESTIMATE =
(basis points, fixed cents). The charge is grossed up so that, after the fee, the gift is
left: total = ceil((gift + fixed) / (1 − rate)). Computed here, on the server; the page only
shows it. The donation records the total charged as its amount (what the receipt certifies)
and keeps the split in `donor_details` (`gift_cents`, `fee_cover_cents`).
"""

from django.conf import settings

DEFAULT_FEE_ESTIMATE = (150, 25)  # 1.5% in basis points, € 0,25


def fee_estimate():
    return tuple(getattr(settings, "GIVING_FEE_ESTIMATE", DEFAULT_FEE_ESTIMATE))


def covered_fee_cents(gift_cents):
    """What to add to `gift_cents` so that the estimated fee on the total is paid by the donor."""
    basis_points, fixed = fee_estimate()
    total = -(-(gift_cents + fixed) * 10_000 // (10_000 - basis_points))  # ceiling division
    return total - gift_cents
