"""Stripe payouts: what reached the bank, line by line, reconciled to the cent.

`models` holds a payout and its balance transactions (`PayoutLine`), `apply` writes them from
Stripe's objects (webhook `payout.*` events and `stripe_reconcile`) and records each payment's
fee and net, `report` adds them up (gross − refunds − disputes − fees ± adjustments = net,
checked against the payout amount) and `admin` shows them to treasurers."""
