"""Every succeeded gift is acknowledged: one email per gift, online or offline, one-off or a
plan's charge. The money path calls `acknowledge_gift` in plain calls (`crm.gifts`,
`crm.offline`), in the transaction that records the success; the email is queued there and
sent after commit (`crm.outbox`), so nothing is lost when mail is down."""

from . import outbox, receipts


def acknowledge_gift(donation):
    """Receipt the gift if due and queue its confirmation, the receipt attached to it (one
    email, not two). A plan's first gift gets the welcome, which carries the plan's manage
    link like every later confirmation. The email's task renders the receipt's PDF before it
    sends (`crm.mail`): one task for both, whose retries never send twice (the email is claimed
    first); a receipt no email carries gets its own rendering task. Returns the receipt, or
    None. A gift in memory or in honour of someone tells the family too, if the donor asked.
    """
    receipt = receipts.receipt_gift_if_due(donation, email=False, render=False)
    email = outbox.queue_gift_email(donation, receipt=receipt)
    outbox.queue_tribute_email(donation)
    if receipt is not None and email is None:
        receipts.render_later(receipt)
    return receipt
