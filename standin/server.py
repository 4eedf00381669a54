"""Launcher: localstripe's aiohttp app, bound to 127.0.0.1, persistence off, our routes mounted.

localstripe keeps one module-global app and store, so there is one stand-in per process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from collections import OrderedDict, deque
from pathlib import Path

from aiohttp import web
from localstripe import server as ls_server
from localstripe.errors import UserError
from localstripe.resources import Store

from . import (
    balance,
    billing,
    checkout,
    core,
    disputes,
    events,
    pages,
    payments,
    persist,
    portal,
    prices,
    refunds,
    shapes,
)

log = logging.getLogger("standin")
PUBLIC_PREFIXES = ("/_standin/", "/checkout/pay/", "/billing/portal/")
_installed = False
_idempotent: OrderedDict = OrderedDict()  # stripe-python sends a key with every POST: cap it
_in_flight: set = set()  # keys of requests being answered
IDEMPOTENCY_CACHE = 5000
_thread_loop: asyncio.AbstractEventLoop | None = None  # aiohttp binds the app to one loop
_thread_server: dict = {}
_thread_lock = threading.Lock()


@web.middleware
async def context_middleware(request, handler):
    """Connect account, ``event.request``, idempotent replays, Stripe-style errors."""
    account = request.headers.get("Stripe-Account") or None
    if request.path.startswith("/v1/") and core.settings["api_latency"] > 0:
        await asyncio.sleep(core.settings["api_latency"])  # a slow Stripe (STANDIN_API_LATENCY)
    core.ACCOUNT.set(account)
    core.REQUEST.set(None)
    key = None
    if request.path.startswith("/v1/") and request.method in ("POST", "DELETE"):
        req = {
            "id": core.new_id("req_", 14),
            "idempotency_key": request.headers.get("Idempotency-Key"),
        }
        core.REQUEST.set(req)
        key = (account, req["idempotency_key"]) if req["idempotency_key"] else None
        cached = _idempotent.get(key) if key and request.method == "POST" else None
        if cached and cached[0] == core.generation[0]:
            return web.Response(
                body=cached[2],
                status=cached[1],
                content_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        if key and request.method == "POST":
            # Stripe answers a request whose key is still in use by another with 409
            # (https://docs.stripe.com/error-low-level#idempotency); the SDK tries it again.
            if key in _in_flight:
                raise core.error(
                    409,
                    "There is currently another in-progress request using this Idempotent Key "
                    "(that probably means you submitted twice, and the other request is still "
                    "going through). Please retry this request later.",
                    code="idempotency_key_in_use",
                    type_="idempotency_error",
                )
            _in_flight.add(key)
    try:
        response = await handler(request)
    except (UserError, web.HTTPRedirection):
        raise
    except web.HTTPException as exc:
        if not request.path.startswith("/v1/") or exc.status not in (404, 405):
            raise
        raise core.error(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}). "
            "(The local Stripe stand-in does not implement it.)",
        ) from None
    except Exception as exc:
        log.exception("internal error on %s %s", request.method, request.path)
        return ls_server.json_response(
            {"error": {"type": "api_error", "message": f"standin internal error: {exc!r}"}},
            status=500,
        )
    finally:
        if key and request.method == "POST":
            _in_flight.discard(key)
    if (
        key
        and isinstance(response, web.Response)
        and response.body is not None
        and response.status < 500
    ):
        _idempotent[key] = (core.generation[0], response.status, response.body)
        while len(_idempotent) > IDEMPOTENCY_CACHE:
            _idempotent.popitem(last=False)
    if core.REQUEST.get():
        response.headers["Request-Id"] = core.REQUEST.get()["id"]
    return response


@web.middleware
async def auth_middleware(request, handler):
    """localstripe's API-key check, except for the hosted page and the test controls; then
    our overrides of localstripe routes (see ``core.override``)."""
    target = core.find_override(request.method, request.path) or handler
    if request.path.startswith(PUBLIC_PREFIXES):
        return await target(request)
    return await ls_server.auth_middleware(request, target)


def install() -> web.Application:
    """Patch localstripe and mount our routes on its app (idempotent). Returns the app."""
    global _installed
    app = ls_server.app
    if _installed:
        return app
    # Persistence off: localstripe pickles the whole store to /tmp on every write.
    Store.dump_to_disk = lambda self: None
    Store.try_load_from_disk = lambda self: None

    def clear(self):  # DELETE /_config/data: also drop pending deliveries, idempotency keys
        core.generation[0] += 1
        _idempotent.clear()
        dict.clear(self)

    Store.clear = clear
    core.install_base_patches()
    shapes.install()
    events.install()
    payments.install()
    refunds.install()
    mws = app.middlewares
    mws.remove(ls_server.save_store_middleware)
    mws[mws.index(ls_server.auth_middleware)] = auth_middleware
    mws.insert(1, context_middleware)  # after localstripe's error_middleware
    for module in (prices, checkout, pages, billing, disputes, payments, balance, refunds, portal):
        module.routes(app)
    app.router.add_post("/_standin/webhooks/flush", events.flush)
    app.router.add_delete("/_config/webhooks/{id}", events.unregister)
    app.on_startup.append(events.on_startup)
    app.on_cleanup.append(events.on_cleanup)
    _installed = True
    return app


def run_in_thread(port: int = 0, host: str = "127.0.0.1"):
    """Start the stand-in on a background thread with its own event loop.

    Returns ``(base_url, stop)``. There is one in-thread stand-in per process: while it runs,
    further calls (e.g. session fixtures of two conftests) share it, and it shuts down when
    every caller has called its ``stop()``; it can be started again afterwards.
    """
    with _thread_lock:
        if _thread_server:
            if (port and port != _thread_server["port"]) or host != _thread_server["host"]:
                raise RuntimeError(
                    f"standin already runs in this process at {_thread_server['base_url']}"
                )
        else:
            _thread_server.update(_start_thread(port, host), host=host, refs=0)
        _thread_server["refs"] += 1
        base_url = _thread_server["base_url"]
    stopped = []

    def stop():
        with _thread_lock:
            if stopped or not _thread_server:
                return
            stopped.append(True)
            _thread_server["refs"] -= 1
            if _thread_server["refs"] == 0:
                _thread_server.pop("stop")()
                _thread_server.clear()

    return base_url, stop


def _start_thread(port: int, host: str) -> dict:
    global _thread_loop
    app = install()
    if _thread_loop is None:
        _thread_loop = asyncio.new_event_loop()
    loop = _thread_loop
    ready = threading.Event()
    state: dict = {}

    def target():
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(app, access_log=None)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, host, port)
            loop.run_until_complete(site.start())
            state["port"] = runner.addresses[0][1]
        except BaseException as exc:  # report bind errors to the caller
            state["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=target, name="standin", daemon=True)
    thread.start()
    if not ready.wait(15):
        raise RuntimeError("standin did not start within 15 s")
    if "error" in state:
        raise state["error"]

    def stop():
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return {"base_url": f"http://{host}:{state['port']}", "port": state["port"], "stop": stop}


def start_subprocess(
    port: int = 0,
    host: str = "127.0.0.1",
    env: dict | None = None,
    log_path: str | os.PathLike | None = None,
    state_file: str | os.PathLike | None = None,
):
    """Start ``python -m standin`` in a subprocess; returns ``(base_url, stop)``.

    Its output goes to ``log_path`` if given (else kept in memory, last 200 lines, and
    shown if startup fails). With ``state_file`` it keeps its state there across restarts
    (``persist.py``). ``stop()`` sends SIGTERM (``stop(signal.SIGKILL)`` to kill it).
    """
    package_parent = str(Path(__file__).resolve().parent.parent)
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_parent, full_env.get("PYTHONPATH")) if p
    )
    args = [sys.executable, "-m", "standin", "--port", str(port), "--host", host]
    if state_file is not None:
        args += ["--state", str(state_file)]
    proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env=full_env,
    )
    tail: deque[str] = deque(maxlen=200)
    sink = open(log_path, "a", buffering=1) if log_path else None  # noqa: SIM115
    base_url = None
    for line in proc.stdout:
        tail.append(line)
        if sink:
            sink.write(line)
        if line.startswith("standin listening on "):
            base_url = line.split()[-1]
            break
    if base_url is None:
        proc.wait(5)
        raise RuntimeError("standin failed to start:\n" + "".join(tail))

    def drain():
        for line in proc.stdout:
            tail.append(line)
            if sink:
                sink.write(line)

    threading.Thread(target=drain, daemon=True).start()

    def stop(sig=signal.SIGTERM):
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if sink:
            sink.close()

    return base_url, stop


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m standin", description="Local Stripe stand-in (localstripe + extras)"
    )
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--state",
        default=os.environ.get("STANDIN_STATE_FILE", ""),
        help="keep the state in this file across restarts (default: in memory only)",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    app = install()
    if args.state:
        persistence = persist.Persistence(args.state, persist.interval_from_env())
        try:
            persistence.load()
        except persist.StateError as exc:
            print(f"standin: {exc}", file=sys.stderr, flush=True)
            sys.exit(2)
        persistence.install(app)

    async def serve():
        runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access"))
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        print(f"standin listening on http://{args.host}:{port}", flush=True)
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopped.set)
        await stopped.wait()
        await runner.cleanup()

    asyncio.run(serve())
