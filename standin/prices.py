"""Prices (https://docs.stripe.com/api/prices), which localstripe lacks.

Recurring prices get a localstripe ``Plan`` with the same id when a subscription needs one:
Stripe's Plans and Prices are views of the same object, and localstripe's Subscription
machinery works on Plans.
"""

from __future__ import annotations

import stripe.params as sp
from localstripe.resources import Plan, Product, StripeObject, store

from . import core, events

INTERVALS = ("day", "week", "month", "year")


class Price(StripeObject):
    object = "price"
    _id_prefix = "price_"

    def __init__(
        self,
        currency,
        unit_amount,
        product,
        recurring=None,
        nickname=None,
        metadata=None,
        lookup_key=None,
        active=True,
        tax_behavior=None,
        inline=False,
    ):
        super().__init__(id=core.new_id("price_"))
        self.active = active
        self.billing_scheme = "per_unit"
        self.currency = currency
        self.custom_unit_amount = None
        self.lookup_key = lookup_key
        self.metadata = metadata or {}
        self.nickname = nickname
        self.product = product
        self.recurring = recurring
        self.tax_behavior = tax_behavior or "unspecified"
        self.tiers_mode = None
        self.transform_quantity = None
        self.type = "recurring" if recurring else "one_time"
        self.unit_amount = unit_amount
        self.unit_amount_decimal = str(unit_amount)
        self._inline = inline  # created from price_data: not listed, like Stripe's inline prices


def parse(data: dict, param: str, allowed, inline: bool = False) -> Price:
    """Validate ``POST /v1/prices`` params or a Checkout ``line_items[][price_data]`` hash."""
    core.check_known(data, allowed, param)

    def p(name: str) -> str:  # "recurring.interval" -> "<param>[recurring][interval]"
        parts = name.split(".")
        head = f"{param}[{parts[0]}]" if param else parts[0]
        return head + "".join(f"[{x}]" for x in parts[1:])

    currency = data.get("currency")
    if not currency:
        raise core.missing(p("currency"))
    currency = str(currency).lower()
    if "unit_amount" in data:
        unit_amount = core.to_int(data["unit_amount"], p("unit_amount"), 0)
    elif "unit_amount_decimal" in data:
        unit_amount = core.to_int(float(data["unit_amount_decimal"]), p("unit_amount_decimal"), 0)
    else:
        raise core.missing(p("unit_amount"))
    recurring = data.get("recurring")
    if recurring is not None:
        if not isinstance(recurring, dict) or "interval" not in recurring:
            raise core.missing(p("recurring.interval"))
        core.check_known(
            recurring, ("interval", "interval_count", "meter", "usage_type"), p("recurring")
        )
        if recurring["interval"] not in INTERVALS:
            raise core.invalid(
                p("recurring.interval"),
                "Invalid recurring[interval]: must be one of " + ", ".join(INTERVALS),
            )
        recurring = {
            "interval": recurring["interval"],
            "interval_count": core.to_int(
                recurring.get("interval_count", 1), p("recurring.interval_count"), 1
            ),
            "meter": None,
            "trial_period_days": None,
            "usage_type": recurring.get("usage_type", "licensed"),
        }
    product = data.get("product")
    product_data = data.get("product_data")
    if product:
        core.get(Product, product, p("product"))
    elif isinstance(product_data, dict):
        if not product_data.get("name"):
            raise core.missing(p("product_data.name"))
        kwargs = {
            k: product_data[k]
            for k in ("name", "description", "statement_descriptor")
            if product_data.get(k)
        }
        with events.quiet() if inline else _noop():
            product = Product(
                metadata=core.metadata_param(product_data.get("metadata")), **kwargs
            ).id
    else:
        raise core.missing(p("product"))
    active = core.to_bool(data.get("active", True), p("active"))
    with events.quiet() if inline else _noop():
        price = Price(
            currency,
            unit_amount,
            product,
            recurring,
            nickname=data.get("nickname"),
            metadata=core.metadata_param(data.get("metadata")),
            lookup_key=data.get("lookup_key"),
            active=active,
            tax_behavior=data.get("tax_behavior"),
            inline=inline,
        )
    return price


class _noop:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def plan_for(price: Price) -> Plan:
    """The localstripe Plan twin of a recurring price (same id), created on first use."""
    plan = store.get(f"plan:{price.id}")
    if plan is None:
        with events.quiet():
            plan = Plan(
                id=price.id,
                amount=price.unit_amount,
                currency=price.currency,
                interval=price.recurring["interval"],
                interval_count=price.recurring["interval_count"],
                product=price.product,
                metadata=dict(price.metadata),
            )
    return plan


PRICE_CREATE = core.param_names(sp.PriceCreateParams)


async def create(request):
    data = await core.read_params(request)
    expand = data.pop("expand", None)
    price = parse(data, "", PRICE_CREATE)
    events.emit("price.created", price)
    return core.respond(price, expand)


async def retrieve(request):
    data = await core.read_params(request)
    return core.respond(core.get(Price, request.match_info["id"]), data.get("expand"))


async def update(request):
    price = core.get(Price, request.match_info["id"])
    data = await core.read_params(request)
    expand = data.pop("expand", None)
    core.check_known(
        data,
        (
            "active",
            "lookup_key",
            "metadata",
            "nickname",
            "tax_behavior",
            "currency_options",
            "transfer_lookup_key",
        ),
    )
    before = price._export()
    if "active" in data:
        price.active = core.to_bool(data["active"], "active")
    if "metadata" in data:
        price.metadata = core.metadata_param(data["metadata"], current=price.metadata)
    for key in ("lookup_key", "nickname", "tax_behavior"):
        if key in data:
            setattr(price, key, data[key] or None)
    after = price._export()
    changed = {k: before[k] for k in after if before[k] != after[k]}
    if changed:
        events.emit("price.updated", price, previous_attributes=changed)
    return core.respond(price, expand)


async def list_all(request):
    data = await core.read_params(request)
    filters = [lambda o: not o._inline]
    if "active" in data:
        active = core.to_bool(data.pop("active"), "active")
        filters.append(lambda o: o.active == active)
    for key in ("currency", "product", "type"):
        if key in data:
            value = data.pop(key)
            filters.append(lambda o, k=key, v=value: getattr(o, k) == v)
    if "lookup_keys" in data:
        keys = data.pop("lookup_keys")
        filters.append(lambda o: o.lookup_key in keys)
    data.pop("recurring", None)
    core.check_known(data, ("created", "ending_before", "limit", "starting_after"))
    return core.respond(core.list_response("/v1/prices", core.objects_of(Price), data, filters))


def routes(app) -> None:
    app.router.add_post("/v1/prices", create)
    app.router.add_get("/v1/prices", list_all)
    app.router.add_get("/v1/prices/{id}", retrieve)
    app.router.add_post("/v1/prices/{id}", update)
