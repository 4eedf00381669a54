"""Events and webhook delivery.

All events, localstripe's and ours, go through :func:`schedule_webhook`, which replaces
``localstripe.resources.schedule_webhook``. localstripe's own sender sleeps 1 s per event and
posts them concurrently (so out of order) without retries; ours delivers them one after the
other, in emission order, signed like Stripe (``Stripe-Signature: t=...,v1=HMAC-SHA256``,
https://docs.stripe.com/webhooks#verify-manually), and retries failed deliveries in the
background with back-off (Stripe retries for days, https://docs.stripe.com/webhooks#retries).
Endpoints are still registered with localstripe's ``POST /_config/webhooks/<id>``.

Event shape: https://docs.stripe.com/api/events/object
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from contextvars import ContextVar

import aiohttp
from aiohttp import web
from localstripe import resources
from localstripe import webhooks as ls_webhooks
from localstripe.resources import Event, store

from . import core

log = logging.getLogger("standin.webhooks")
_quiet: ContextVar[bool] = ContextVar("standin_quiet", default=False)


@contextlib.contextmanager
def quiet():
    """Suppress events localstripe emits as side effects that Stripe would not send."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def _endpoints_for(event_type: str):
    return [
        wh
        for wh in list(ls_webhooks._webhooks.values())
        if wh.events is None or event_type in wh.events or "*" in wh.events
    ]


def install() -> None:
    orig_init = Event.__init__
    if getattr(orig_init, "_standin", False):
        return

    def __init__(self, type, data):
        orig_init(self, type, data)
        self.api_version = core.API_VERSION
        account = getattr(data, "_account", None) or core.ACCOUNT.get()
        if account:
            self.account = account  # only present on Connect events
        self.request = dict(core.REQUEST.get() or {"id": None, "idempotency_key": None})
        self.pending_webhooks = len(_endpoints_for(type))
        self._generation = core.generation[0]

    __init__._standin = True
    Event.__init__ = __init__
    resources.schedule_webhook = schedule_webhook
    ls_webhooks.schedule_webhook = schedule_webhook

    # GET /v1/events lists newest first, like Stripe.
    orig_list = Event._api_list_all.__func__

    def _api_list_all(cls, url, **kwargs):
        li = orig_list(cls, url, **kwargs)
        li._list.sort(key=lambda e: (e.created, getattr(e, "_seq", 0)), reverse=True)
        return li

    Event._api_list_all = classmethod(_api_list_all)


def schedule_webhook(event) -> None:
    if _quiet.get():
        store.pop(f"event:{event.id}", None)
        return
    log.info(
        "event %s %s%s",
        event.id,
        event.type,
        f" account={event.account}" if getattr(event, "account", None) else "",
    )
    if _deliverer is not None:
        _deliverer.enqueue(event)


def emit(event_type: str, obj, previous_attributes: dict | None = None):
    """Create an event with a snapshot of ``obj`` now, and queue its delivery."""
    event = Event(event_type, obj)
    if previous_attributes is not None:
        event.data["previous_attributes"] = previous_attributes
    schedule_webhook(event)
    return event


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class Deliverer:
    """One queue per endpoint, so a slow or dead endpoint never delays the others; ordered
    unless ``settings["webhook_concurrency"]`` lets several deliveries fly at once."""

    def __init__(self):
        self.queues: dict[int, asyncio.Queue] = {}  # id(endpoint) -> queue
        self.session: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task] = set()
        self.busy = 0  # events being processed + posts in flight

    async def idle(self, timeout: float) -> bool:
        """Wait until every queued event was tried once and no post is in flight."""
        deadline = time.monotonic() + timeout
        while any(not q.empty() for q in self.queues.values()) or self.busy:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def start(self):
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self):
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    def _spawn(self, coro):
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def enqueue(self, event):
        for endpoint in _endpoints_for(event.type):
            queue = self.queues.get(id(endpoint))
            if queue is None:
                queue = self.queues[id(endpoint)] = asyncio.Queue()
                self._spawn(self._run(endpoint, queue))
            queue.put_nowait((time.monotonic(), event))

    async def _run(self, endpoint, queue):
        """Take the endpoint's events in order; at most ``settings["webhook_concurrency"]``
        deliveries in flight (1: each waits for the one before, so they arrive in order)."""
        in_flight: set[asyncio.Task] = set()
        while True:
            queued_at, event = await queue.get()
            self.busy += 1
            while True:
                in_flight = {task for task in in_flight if not task.done()}
                if len(in_flight) < core.settings["webhook_concurrency"]:
                    break
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            in_flight.add(self._spawn(self._deliver(endpoint, queued_at, event)))

    async def _deliver(self, endpoint, queued_at, event):
        try:
            wait = queued_at + core.settings["webhook_delay"] - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if event._generation != core.generation[0]:
                return
            if endpoint not in ls_webhooks._webhooks.values():
                return  # unregistered or replaced meanwhile
            payload = (json.dumps(event._export(), indent=2, sort_keys=True) + "\n").encode()
            if not await self._post(endpoint, event, payload):
                self._spawn(self._retry(endpoint, event, payload))
        except Exception:  # never let one bad event stop deliveries
            log.exception("webhook delivery of %s failed", getattr(event, "id", "?"))
        finally:
            self.busy -= 1

    async def _post(self, endpoint, event, payload: bytes) -> bool:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign(payload, endpoint.secret, int(time.time())),
        }
        self.busy += 1
        try:
            async with self.session.post(endpoint.url, data=payload, headers=headers) as resp:
                await resp.read()
                ok = 200 <= resp.status < 300
                log.info("webhook %s %s -> %s %s", event.type, event.id, endpoint.url, resp.status)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.info("webhook %s %s -> %s failed: %s", event.type, event.id, endpoint.url, exc)
            ok = False
        finally:
            self.busy -= 1
        if ok:
            event.pending_webhooks = max(0, event.pending_webhooks - 1)
        return ok

    async def _retry(self, endpoint, event, payload: bytes):
        for delay in core.settings["webhook_retries"]:
            await asyncio.sleep(delay)
            if (
                event._generation != core.generation[0]
                or endpoint not in ls_webhooks._webhooks.values()
            ):
                return
            if await self._post(endpoint, event, payload):
                return
        log.warning("webhook %s %s -> %s: giving up", event.type, event.id, endpoint.url)


_deliverer: Deliverer | None = None


async def flush(request):
    """``POST /_standin/webhooks/flush[?timeout=10]``: wait until all due deliveries were
    attempted once (retries excluded); 200 ``{"idle": true}`` or 504 on timeout."""
    timeout = float(request.query.get("timeout", 10))
    ok = _deliverer is None or await _deliverer.idle(timeout)
    return web.json_response({"idle": ok}, status=200 if ok else 504)


async def unregister(request):
    """``DELETE /_config/webhooks/{id}`` (localstripe only has the POST to register)."""
    if ls_webhooks._webhooks.pop(request.match_info["id"], None) is None:
        raise web.HTTPNotFound()
    return web.Response()


async def on_startup(app):
    global _deliverer
    _deliverer = Deliverer()
    await _deliverer.start()


async def on_cleanup(app):
    global _deliverer
    if _deliverer is not None:
        await _deliverer.stop()
    _deliverer = None
