"""Shared plumbing: settings, request context, object registry, params, lists, errors.

Everything here works on localstripe's own store (``localstripe.resources.store``), so
``DELETE /_config/data`` resets our objects together with localstripe's.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import time
from contextvars import ContextVar

from localstripe.errors import UserError
from localstripe.resources import List, StripeObject, random_id, store
from localstripe.server import get_post_data, json_response, unflatten_data

# The API version whose shapes this stand-in reproduces (stripe-python 16.1.0 pins it).
API_VERSION = "2026-10-28.endive"


def _float_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


# Tunables (env vars are read at import; tests may also mutate this dict).
settings = {
    # Seconds between an event being emitted and its first delivery attempt.
    "webhook_delay": _float_env("STANDIN_WEBHOOK_DELAY", 0.1),
    # Back-off (seconds) between delivery retries when the receiver is down or not 2xx.
    "webhook_retries": [
        float(x) for x in os.environ.get("STANDIN_WEBHOOK_RETRIES", "1,2,4,8,16").split(",") if x
    ],
    # Deliveries in flight at once per endpoint. 1 (the default): one after the other, in
    # emission order. More: like Stripe, which delivers concurrently and in no set order
    # (https://docs.stripe.com/webhooks#event-ordering); bench/giving_day.py uses it.
    "webhook_concurrency": max(1, int(_float_env("STANDIN_WEBHOOK_CONCURRENCY", 1))),
    # Seconds before a SEPA Direct Debit payment settles.
    "sepa_delay": _float_env("STANDIN_SEPA_DELAY", 2.0),
    # Seconds every API request (``/v1/...``) waits before it is answered: a slow Stripe, for
    # benches (bench/webhooks.py measures webhooks with a 200 ms Stripe).
    "api_latency": _float_env("STANDIN_API_LATENCY", 0.0),
    # Public base URL for hosted pages (default: taken from the request's Host header).
    "public_url": os.environ.get("STANDIN_PUBLIC_URL", "").rstrip("/"),
}

# Connected account (``Stripe-Account`` header, or the account owning the object being acted on).
ACCOUNT: ContextVar[str | None] = ContextVar("standin_account", default=None)
# ``event.request`` of events caused by this API request; None for automatic events.
REQUEST: ContextVar[dict | None] = ContextVar("standin_request", default=None)

_seq = itertools.count()
generation = [0]  # bumped on every reset, so late async work from a previous test is dropped


def now() -> int:
    return int(time.time())


def new_id(prefix: str, n: int = 24) -> str:
    return prefix + random_id(n)


@contextlib.contextmanager
def as_account(account: str | None):
    """Run with ``ACCOUNT`` set (for actions not driven by an API request carrying the header)."""
    token = ACCOUNT.set(account)
    try:
        yield
    finally:
        ACCOUNT.reset(token)


def install_base_patches() -> None:
    """Tag every object with its Connect account and a creation sequence number."""
    orig_init = StripeObject.__init__
    if getattr(orig_init, "_standin", False):
        return

    def __init__(self, *args, **kwargs):
        orig_init(self, *args, **kwargs)
        if not isinstance(self, List):
            self._account = ACCOUNT.get()
            self._seq = next(_seq)

    __init__._standin = True
    StripeObject.__init__ = __init__


# --- errors (shape: https://docs.stripe.com/api/errors) ---------------------------------


def error(
    status: int,
    message: str,
    code: str | None = None,
    param: str | None = None,
    type_: str = "invalid_request_error",
) -> UserError:
    contents = {}
    if code:
        contents["code"] = code
    if param:
        contents["param"] = param
    err = UserError(status, message, contents)
    err.body["error"]["type"] = type_
    return err


def missing(param: str) -> UserError:
    return error(400, f"Missing required param: {param}.", "parameter_missing", param)


def invalid(param: str, message: str, code: str | None = None) -> UserError:
    return error(400, message, code, param)


# --- registry ----------------------------------------------------------------------------


def _all_classes(cls=StripeObject):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_classes(sub)


def find(obj_id: str):
    """Return the stored object with this id (any class), or None."""
    if not isinstance(obj_id, str):
        return None
    classes = [c for c in _all_classes() if getattr(c, "_id_prefix", None) and c.object]
    classes.sort(key=lambda c: -len(c._id_prefix))
    for cls in classes:
        if obj_id.startswith(cls._id_prefix):
            found = store.get(f"{cls.object}:{obj_id}")
            if found is not None:
                return found
    return None


def get(cls, obj_id: str, param: str = "id"):
    """Retrieve or raise Stripe's ``resource_missing`` error."""
    obj = store.get(f"{cls.object}:{obj_id}") if isinstance(obj_id, str) else None
    if obj is None:
        raise error(404, f"No such {cls.object}: '{obj_id}'", "resource_missing", param)
    return obj


# --- params --------------------------------------------------------------------------------


async def read_params(request) -> dict:
    """POST body (form or JSON) merged with the query string, nested keys unflattened."""
    data = {}
    if request.method in ("POST", "DELETE") and request.body_exists:
        data = await get_post_data(request) or {}
    query = unflatten_data(request.query) if request.query else {}
    return {**query, **data}


def check_known(params: dict, allowed, prefix: str = "") -> None:
    """Reject unknown parameters the way Stripe does (names come from stripe-python's types)."""
    allowed = set(allowed) | {"expand"}
    for key in params:
        if key not in allowed:
            name = f"{prefix}[{key}]" if prefix else key
            raise error(400, f"Received unknown parameter: {name}", "parameter_unknown", name)


def to_int(value, param: str, minimum: int | None = None) -> int:
    try:
        result = int(value)
    except (TypeError, ValueError):
        raise error(400, f"Invalid integer: {value}", "parameter_invalid_integer", param) from None
    if minimum is not None and result < minimum:
        raise error(
            400,
            f"This value must be greater than or equal to {minimum}.",
            "parameter_invalid_integer",
            param,
        )
    return result


def to_bool(value, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise error(400, f"Invalid boolean: {value}", "parameter_invalid_boolean", param)


def metadata_param(value, param: str = "metadata", current: dict | None = None) -> dict:
    """Merge metadata like Stripe: keys set to '' are removed; '' as a whole clears it."""
    if value in (None, ""):
        return {} if value == "" else dict(current or {})
    if not isinstance(value, dict):
        raise error(400, "Invalid object", "parameter_invalid_object", param)
    result = dict(current or {})
    for key, val in value.items():
        if val == "":
            result.pop(key, None)
        else:
            result[str(key)] = str(val)
    return result


def created_filter(created, param: str = "created"):
    """``created`` as a timestamp or ``{gt, gte, lt, lte}`` (https://docs.stripe.com/api/pagination)."""
    if created is None:
        return lambda obj: True
    if not isinstance(created, dict):
        exact = to_int(created, param)
        return lambda obj: obj.created == exact
    ops = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
    checks = []
    for key, value in created.items():
        if key not in ops:
            raise error(
                400,
                f"Received unknown parameter: {param}[{key}]",
                "parameter_unknown",
                f"{param}[{key}]",
            )
        checks.append((ops[key], to_int(value, f"{param}[{key}]")))
    return lambda obj: all(op(obj.created, bound) for op, bound in checks)


def list_response(url: str, objects, params: dict, extra_filters=(), same_account=True):
    """A standard list object, newest first, with limit/starting_after/ending_before."""
    params = dict(params)
    expand = params.pop("expand", None)
    limit = to_int(params.pop("limit", 10), "limit", 1)
    if limit > 100:
        raise error(
            400,
            "This value must be less than or equal to 100.",
            "parameter_invalid_integer",
            "limit",
        )
    starting_after = params.pop("starting_after", None)
    ending_before = params.pop("ending_before", None)
    keep = created_filter(params.pop("created", None))
    account = ACCOUNT.get()
    items = [
        o
        for o in objects
        if keep(o)
        and all(f(o) for f in extra_filters)
        and (not same_account or getattr(o, "_account", None) == account)
    ]
    items.sort(key=lambda o: (o.created, getattr(o, "_seq", 0)), reverse=True)
    ids = [o.id for o in items]
    if starting_after:
        pos = ids.index(starting_after) + 1 if starting_after in ids else len(ids)
        items = items[pos:]
        page, has_more = items[:limit], len(items) > limit
    elif ending_before:
        pos = ids.index(ending_before) if ending_before in ids else 0
        items = items[:pos]
        page, has_more = items[-limit:], len(items) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    sub_expand = [p[len("data.") :] for p in (expand or []) if p.startswith("data.")]
    return {
        "object": "list",
        "data": [o._export(expand=sub_expand or None) for o in page],
        "has_more": has_more,
        "url": url,
    }


def objects_of(cls):
    prefix = cls.object + ":"
    return [v for k, v in list(store.items()) if k.startswith(prefix)]


def respond(obj, expand=None, status: int = 200):
    data = obj if isinstance(obj, dict) else obj._export(expand=expand)
    return json_response(data, status=status)


def public_base(request) -> str:
    return settings["public_url"] or f"{request.scheme}://{request.host}"


SAFE_URL = re.compile(r"^https?://", re.I)


# --- overrides of localstripe routes ------------------------------------------------------
# (method, compiled path regex, handler). The server middleware dispatches matching requests
# here instead of to localstripe's handler (localstripe registered its routes first, and
# aiohttp picks the first match). ``request.match_info`` still holds localstripe's params.
OVERRIDES: list = []


def override(method: str, pattern: str):
    def register(handler):
        OVERRIDES.append((method, re.compile(f"^{pattern}$"), handler))
        return handler

    return register


def find_override(method: str, path: str):
    for m, regex, handler in OVERRIDES:
        if m == method and regex.match(path):
            return handler
    return None


def param_names(params_type) -> list[str]:
    """Parameter names of a stripe-python ``*Params`` TypedDict (request options excluded)."""
    from stripe._request_options import RequestOptions

    return [k for k in params_type.__annotations__ if k not in RequestOptions.__annotations__]
