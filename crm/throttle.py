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
# The window is cut into SLICES slices; each slice holds numbered tickets like `take_ticket`'s
# fixed window, and an attempt counts every ticket of the slices still inside the window. The
# oldest slice leaves the window gradually, one slice at a time, so there is no reset on the hour:
# a burst at 10:59 still counts at 11:01, and the wait told to a refused client is the time until
# enough old tickets leave the window.
SLICES = 60
# Ticket hints may lag behind a racing writer; past slices are read this many tickets beyond
# their hint so they are counted exactly.
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
    past = [f"{base}:{index}" for index in range(current - slices + 1, current)]
    counts = _count_slices(past)
    used = sum(counts)
    key = f"{base}:{current}"
    timeout = window + width
    if used < limit:
        for ticket in range(cache.get(key, 0) + 1, limit - used + 1):
            if cache.add(f"{key}:{ticket}", 1, timeout):
                cache.set(key, ticket, timeout)
                return Decision(True)
    current_count = _count_slices([key])[0]
    return Decision(False, _retry_after(counts + [current_count], limit, width, current, now))


def window_has_room(scope, value, limit, window, *, now=None):
    """True if `sliding_window` would allow one more attempt of `value` now; counts nothing."""
    now = time.time() if now is None else now
    base, _width, slices, current = _slice_keys(scope, value, window, now)
    keys = [f"{base}:{index}" for index in range(current - slices + 1, current + 1)]
    return sum(_count_slices(keys)) < limit


def _slice_keys(scope, value, window, now):
    """The key prefix of `value`'s slices, the slice width in seconds, how many slices make the
    window, and the index of the current slice."""
    width = max(1, -(-window // SLICES))  # seconds per slice, rounded up
    slices = -(-window // width)
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()[:32]
    return f"throttle:{scope}:{digest}:s{width}", width, slices, int(now // width)


def _count_slices(keys):
    """How many tickets each slice holds: its hint, then the tickets just beyond it."""
    hints = cache.get_many(keys)
    # A slice without a hint has no tickets (the hint is written with each ticket): only the
    # slices in use are probed, so a first attempt reads two small batches of keys.
    probes = [
        f"{key}:{hint + step}" for key, hint in hints.items() for step in range(1, _PROBE + 1)
    ]
    found = cache.get_many(probes) if probes else {}
    counts = []
    for key in keys:
        count = hints.get(key, 0)
        while f"{key}:{count + 1}" in found:
            count += 1
        counts.append(count)
    return counts


def _retry_after(counts, limit, width, current, now):
    """Seconds until the oldest slices holding enough tickets have left the window."""
    excess = sum(counts) - limit + 1
    first = current - len(counts) + 1
    for offset, count in enumerate(counts):
        excess -= count
        if excess <= 0:
            leaves_at = (first + offset + len(counts)) * width
            return max(1, math.ceil(leaves_at - now))
    return len(counts) * width
