"""Fixed-window limits kept in the shared cache: how often one client, one email address or one
account may do something (start a checkout, ask for a password reset).

Each allowed attempt takes a numbered ticket with `cache.add`, which is atomic on both our cache
backends (the database cache's primary key, Redis' SET NX). `cache.incr` is not: on the
database cache it is a read then a write, and concurrent attempts would count as one.
"""

import hashlib
import time

from django.core.cache import cache


def take_ticket(scope, value, limit, window):
    """Count one attempt of `value` (an address, an email) in `scope` for the current window
    of `window` seconds; True if it is within `limit`."""
    bucket = int(time.time() // window)
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()[:32]
    key = f"throttle:{scope}:{digest}:{bucket}"
    # The last ticket taken, a hint: tickets up to it are taken, so over the limit one read
    # answers. Racing writers may set it back, never past a free ticket.
    for ticket in range(cache.get(key, 0) + 1, limit + 1):
        if cache.add(f"{key}:{ticket}", 1, window):
            cache.set(key, ticket, window)
            return True
    return False
