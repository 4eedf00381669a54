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
# Seconds after which a slice that ended takes no more tickets: above the longest request
# (gunicorn's WEB_TIMEOUT, 30 s by default, replaces a worker stuck longer).
SETTLED = 120


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
    first = current - slices + 1
    used = _count_window(base, width, first, current - 1, now)
    key = f"{base}:{current}"
    timeout = window + width
    if used < limit:
        for ticket in range(cache.get(key, 0) + 1, limit - used + 1):
            if cache.add(f"{key}:{ticket}", 1, timeout):
                cache.set(key, ticket, timeout)
                return Decision(True)
    # Refused: each slice's own count, for the time to wait.
    counts = _count_slices([f"{base}:{index}" for index in range(first, current + 1)])
    return Decision(False, _retry_after(counts, limit, width, current, now))


def window_has_room(scope, value, limit, window, *, now=None):
    """True if `sliding_window` would allow one more attempt of `value` now; counts nothing."""
    now = time.time() if now is None else now
    base, width, slices, current = _slice_keys(scope, value, window, now)
    return _count_window(base, width, current - slices + 1, current, now) < limit


def _slice_keys(scope, value, window, now):
    """The key prefix of `value`'s slices, the slice width in seconds, how many slices make the
    window, and the index of the current slice."""
    width = max(1, -(-window // SLICES))  # seconds per slice, rounded up
    slices = -(-window // width)
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()[:32]
    return f"throttle:{scope}:{digest}:s{width}", width, slices, int(now // width)


def _count_window(base, width, first, last, now):
    """How many tickets slices `first`..`last` hold together. The slices that ended more than
    SETTLED seconds ago take no more tickets (no request lives that long), so their total is
    kept in the cache under one key for as long as that range is the window's settled part
    (one slice width): a busy window (a campaign's, on a giving day) costs a read of its few
    recent slices, not of every ticket hint of the hour."""
    settled = min(last, int((now - SETTLED) // width) - 1)  # slice i ends at (i + 1) * width
    recent = [f"{base}:{index}" for index in range(max(first, settled + 1), last + 1)]
    if settled < first:
        return sum(_count_slices(recent))
    total_key = f"{base}:settled:{first}:{settled}"
    found = cache.get_many([total_key, *recent])
    total = found.pop(total_key, None)
    if total is None:
        total = sum(_count_slices([f"{base}:{index}" for index in range(first, settled + 1)]))
        cache.set(total_key, total, 2 * width)
    return total + sum(_count_slices(recent, hints=found))


def _count_slices(keys, hints=None):
    """How many tickets each slice holds: its hint, then the tickets just beyond it. `hints`:
    the hints already read (a slice missing from them has none)."""
    hints = cache.get_many(keys) if hints is None else hints
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
