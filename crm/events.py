"""Signals other parts of the CRM listen to, so that giving (campaigns) and receipts stay
decoupled. Senders call them inside the transaction that changed the donation; receivers that do
slow work schedule it with `transaction.on_commit`.
"""

from django.dispatch import Signal

# A donation became succeeded (online or offline). kwargs: donation.
donation_succeeded = Signal()
# A donation was refunded fully or in part, or lost a dispute. kwargs: donation, reason.
donation_refunded = Signal()
# A monthly charge failed (Stripe retries it on its own schedule). kwargs: plan, invoice_id.
# Sent once per failed invoice: on its first failed attempt, not on Stripe's retries of it.
recurring_payment_failed = Signal()
