"""Fixed-window and sliding-window limits kept in the shared cache: how often one client, one
email address or one account may do something (start a checkout, ask for a password reset).

Each allowed attempt takes a numbered ticket with `cache.add`, which is atomic on both our cache
backends (the database cache's primary key, Redis' SET NX). `cache.incr` is not: on the
database cache it is a read then a write, and concurrent attempts would count as one.
"""

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

# One client, for every per-client limit: an IPv4 address, or an IPv6 /64. A home or a phone
# gets a whole /64 (RFC 6177: at least a /64 per site; RFC 8981: the client's own addresses in
# it change at will), so counting IPv6 addresses would count one attacker as thousands of donors.
IPV6_CLIENT_PREFIX = 64


def client_key(address):
    """The key that per-client limits count `address` under: the IPv4 address itself, or the
    first address of its IPv6 /64 (written as an address, so a field or a log made for
    addresses still takes it). An IPv4 client seen through IPv6 (`::ffff:a.b.c.d`) is its IPv4
    address. Anything that is not an address is counted as written (one key for all garbage)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return address or ""
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False).network_address)
    return str(ip)


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


# --- Sliding window ---------------------------------------------------------------------------
# Time is cut into slices of window / SLICES seconds; an attempt counts every attempt of the slices
# still inside the window. The oldest slice leaves the window gradually, one slice at a time, so
# there is no reset on the hour: a burst at 10:59 still counts at 11:01, and the wait told to a
# refused client is the time until enough old attempts leave the window.
#
# Each allowed attempt takes the next numbered ticket with `cache.add` (atomic), and the ticket
# holds its slice. Ticket n is allowed only if ticket n - limit has left the window, which one
# read answers. A ticket's slice is never before the previous ticket's: a process that read the
# clock, then waited while others took tickets in a later slice, counts in that later slice. So
# tickets are in time order whatever the races, and no window ever holds more than `limit`
# (counting the slices one by one could not promise that: a late ticket landing in a slice other
# processes had already counted as past slipped through).
SLICES = 60
# The last ticket number is kept as a hint that racing writers may set back: tickets are read
# this many at a time beyond it.
_PROBE = 16


@dataclass(frozen=True)
class Decision:
    """The answer to one attempt: `allowed`, and when refused, `retry_after` seconds until the
    window has room again."""

    allowed: bool
    retry_after: int = 0

    def __bool__(self):
        return self.allowed


def sliding_window(scope, value, limit, window, *, now=None):
    """Count one attempt of `value` in `scope` if fewer than `limit` attempts were counted in
    the last `window` seconds; a Decision. `now` (seconds since the epoch) is the clock, for
    tests; default: time.time(). Works on any shared cache with an atomic `add` (database
    cache, Redis)."""
    now = time.time() if now is None else now
    base, width, slices, current = _slice_keys(scope, value, window, now)
    if limit <= 0:
        return Decision(False, slices * width)
    number = cache.get(base, 0)
    while True:
        number, previous, oldest = _next_ticket(base, number, limit)
        slice_ = max(current, previous)
        if oldest is not None and oldest > slice_ - slices:
            return Decision(False, max(1, math.ceil((oldest + slices) * width - now)))
        # (kept a slice longer than the window: a ticket's slice may be a little ahead of the
        # clock that started its timeout)
        if cache.add(f"{base}:{number}", slice_, window + 2 * width):
            cache.set(base, number, window + 2 * width)
            return Decision(True)
        # Another process took this ticket first: try the next one.


def window_has_room(scope, value, limit, window, *, now=None):
    """True if `sliding_window` would allow one more attempt of `value` now; counts nothing."""
    now = time.time() if now is None else now
    base, _width, slices, current = _slice_keys(scope, value, window, now)
    if limit <= 0:
        return False
    _number, previous, oldest = _next_ticket(base, cache.get(base, 0), limit)
    return oldest is None or oldest <= max(current, previous) - slices


def _slice_keys(scope, value, window, now):
    """The key prefix of `value`'s tickets, the slice width in seconds, how many slices make the
    window, and the index of the current slice."""
    width = max(1, -(-window // SLICES))  # seconds per slice, rounded up
    slices = -(-window // width)
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()[:32]
    return f"throttle:{scope}:{digest}:t{width}", width, slices, int(now // width)


def _next_ticket(base, after, limit):
    """The first free ticket number beyond `after` (the hint), the slice of the ticket before it
    (or -1), and the slice of the ticket `limit` places before it (None if there is none: never
    taken, or expired with its window)."""
    while True:
        numbers = range(after + 1, after + _PROBE + 1)
        wanted = {*numbers, *(n - 1 for n in numbers), *(n - limit for n in numbers)}
        found = cache.get_many([f"{base}:{n}" for n in sorted(wanted) if n > 0])
        for number in numbers:
            if f"{base}:{number}" not in found:
                return (
                    number,
                    found.get(f"{base}:{number - 1}", -1),
                    found.get(f"{base}:{number - limit}"),
                )
        after += _PROBE
