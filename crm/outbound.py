"""Calls to outside services (Stripe, the mail provider) are never made inside a database
transaction: a slow or hanging service would hold the transaction's row locks (a gift, a
receipt counter) for as long as it takes, and stall every gift behind it. The pattern is
"mark, commit, call, record": write what is about to happen, commit, call the service with a
timeout, then record its answer in a new short transaction.

`check_no_transaction(what)` is called at the single point each service module sends from
(`campaigns.stripe_api`'s HTTP client). It raises `CallInTransaction` when
`OUTBOUND_IN_TRANSACTION` is "raise" (development and tests: the bug shows at once) and logs an
error with the stack otherwise (production: the call still goes ahead).

How a transaction is detected with public API only: `connection.in_atomic_block` says whether any
`atomic` block is open; if one is, a `durable` atomic block is tried, which Django refuses
(RuntimeError) inside any atomic block except the ones a `TestCase` wraps each test in
(https://docs.djangoproject.com/en/6.1/topics/db/transactions/#django.db.transaction.atomic).
So a test's own wrapping transaction is not mistaken for the application's.
"""

import logging

from django.conf import settings
from django.db import connections, transaction

log = logging.getLogger(__name__)


class CallInTransaction(RuntimeError):
    """An outside service was called while a database transaction was open."""


def open_transaction():
    """The alias of a database with an application transaction open, or None."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            continue
        try:
            with transaction.atomic(using=connection.alias, durable=True):
                pass
        except RuntimeError:
            return connection.alias
    return None


def check_no_transaction(what):
    """Complain (see the module's docstring) if a transaction is open while calling `what`."""
    alias = open_transaction()
    if alias is None:
        return
    message = f"{what} called inside a database transaction ({alias}): its locks wait on it"
    if getattr(settings, "OUTBOUND_IN_TRANSACTION", "log") == "raise":
        raise CallInTransaction(message)
    log.error(message, stack_info=True)
