"""Keeping the stand-in's state across restarts (``--state PATH``; ``bin/demo`` passes
``var/standin-state.pickle``), so a restarted demo still refunds and changes the gifts and
plans it made before. Off by default: tests get a fresh, in-memory stand-in.

What is kept is everything the stand-in knows: localstripe's store (customers, payment
intents, charges, subscriptions, invoices, events, ...; our objects live there too, see
core.py) and the counter that orders objects created in the same second. Webhook endpoints are
not kept (``bin/demo`` registers its endpoint at every start), nor deliveries still in flight.

How: a pickle of the store (as localstripe's own persistence does), written to a temporary
file in the same folder, flushed to disk, then renamed over the old one, so a crash mid-write
never leaves a torn file. Not on every request (pickling the whole store each time slows down
as it grows): at most once every ``STANDIN_SAVE_INTERVAL`` seconds (default 1) when something
changed, and once more on SIGTERM/SIGINT. A SIGKILL loses at most the last interval.
A state file that cannot be read stops the start with an error, never an empty store saved
over it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import tempfile
import threading
from pathlib import Path

from localstripe.resources import Store, store

from . import core

log = logging.getLogger("standin.state")
FORMAT = 1


class StateError(RuntimeError):
    pass


class Persistence:
    """The state file of one stand-in process (one store per process: localstripe's)."""

    def __init__(self, path: str | os.PathLike, interval: float = 1.0):
        self.path = Path(path)
        self.interval = interval
        self.dirty = False
        self._task: asyncio.Task | None = None
        # Snapshots are numbered; a slow write of an older one never replaces a newer one.
        self._taken = 0
        self._written = 0
        self._lock = threading.Lock()

    # --- loading ---------------------------------------------------------------------

    def load(self) -> int:
        """Fill the store from the file, if there is one. Returns how many objects."""
        if not self.path.exists():
            return 0
        try:
            data = pickle.loads(self.path.read_bytes())  # noqa: S301 (our own file, under var/)
            if data.get("format") != FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}")
            objects, seq = data["store"], int(data["seq"])
        except Exception as exc:
            raise StateError(
                f"cannot read the stand-in's state file {self.path}: {exc!r}. "
                "Move it away (or delete it) to start with an empty stand-in."
            ) from exc
        dict.clear(store)
        dict.update(store, objects)
        # New objects must sort after the loaded ones (lists are newest first, ties by _seq).
        core._seq = itertools.count(seq)
        log.info("loaded %d objects from %s", len(objects), self.path)
        return len(objects)

    # --- saving ----------------------------------------------------------------------

    def mark_dirty(self) -> None:
        self.dirty = True

    def snapshot(self) -> tuple[int, bytes]:
        """The state as bytes (numbered); taken on the event loop, so no request changes it
        meanwhile."""
        self.dirty = False
        seq = next(core._seq)
        core._seq = itertools.count(seq)  # `next` took one: give it back
        state = {"format": FORMAT, "store": dict(store), "seq": seq}
        self._taken += 1
        return self._taken, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    def write(self, number: int, payload: bytes) -> None:
        """Atomically replace the state file with snapshot `number` (temp file, fsync,
        rename), unless a newer one is already written."""
        with self._lock:
            if number <= self._written:
                return
            self._replace(payload)
            self._written = number

    def _replace(self, payload: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        try:  # the rename itself survives a power cut once the folder is synced
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def save(self) -> None:
        self.write(*self.snapshot())

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.dirty:
                try:
                    # Snapshot here (the loop's thread); the disk write off the loop.
                    await asyncio.to_thread(self.write, *self.snapshot())
                except Exception:
                    self.dirty = True
                    log.exception("could not save the state to %s", self.path)

    # --- wiring ----------------------------------------------------------------------

    def install(self, app) -> None:
        """Mark the state dirty on every change (a store write, or any request that may
        change an object in place), save periodically while the app runs, and at cleanup."""
        persistence = self
        original_set, original_del = Store.__setitem__, Store.__delitem__

        def __setitem__(self, key, value):
            original_set(self, key, value)
            persistence.mark_dirty()

        def __delitem__(self, key):
            original_del(self, key)
            persistence.mark_dirty()

        Store.__setitem__, Store.__delitem__ = __setitem__, __delitem__
        original_clear = Store.clear

        def clear(self):
            original_clear(self)
            persistence.mark_dirty()

        Store.clear = clear

        from aiohttp import web

        @web.middleware
        async def mark_changes(request, handler):
            try:
                return await handler(request)
            finally:
                if request.method not in ("GET", "HEAD", "OPTIONS"):
                    persistence.mark_dirty()

        app.middlewares.insert(0, mark_changes)

        async def start(_app):
            persistence._task = asyncio.get_running_loop().create_task(self._every_interval())

        async def stop(_app):
            if persistence._task is not None:
                persistence._task.cancel()
            if persistence.dirty:
                persistence.save()
                log.info("state saved to %s", persistence.path)

        app.on_startup.append(start)
        app.on_cleanup.append(stop)


def interval_from_env() -> float:
    try:
        return max(0.05, float(os.environ.get("STANDIN_SAVE_INTERVAL", "1")))
    except ValueError:
        return 1.0
