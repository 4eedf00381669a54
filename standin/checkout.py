"""Checkout Sessions API (https://docs.stripe.com/api/checkout/sessions), hosted mode only.

Accepted parameters are exactly those of stripe-python 16's ``SessionCreateParams`` (API
2026-10-28.endive); anything else is rejected like Stripe does (``parameter_unknown``) --
note that ``payment_method_types`` was removed from this endpoint in 2026-09-30.endive, use
``allowed_payment_method_types``. Paying happens on the hosted page (pages.py / fulfil.py).
"""

from __future__ import annotations

import re

from localstripe.resources import Customer, StripeObject
from stripe.params.checkout import SessionCreateParams
from stripe.params.checkout import _session_create_params as _params

from . import core, events, prices, shapes
from .prices import Price

CREATE = core.param_names(SessionCreateParams)
LINE_ITEM = list(_params.SessionCreateParamsLineItem.__annotations__)
PRICE_DATA = list(_params.SessionCreateParamsLineItemPriceData.__annotations__)
PI_DATA = list(_params.SessionCreateParamsPaymentIntentData.__annotations__)
SUB_DATA = list(_params.SessionCreateParamsSubscriptionData.__annotations__)
SUPPORTED_METHODS = ("card", "sepa_debit", "paypal", "satispay")
# Euro only; Satispay has no subscriptions (https://docs.stripe.com/payments/satispay).
EUR_ONLY = ("sepa_debit", "paypal", "satispay")
DAY = 86400


class Session(StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, mode, line_items, currency, amount, **fields):
        super().__init__(id="cs_test_a1" + core.random_id(54))
        payment = mode == "payment"
        self.adaptive_pricing = None
        self.after_expiration = None
        self.allow_promotion_codes = fields.get("allow_promotion_codes")
        self.allowed_payment_method_types = fields.get("allowed_payment_method_types")
        self.amount_subtotal = amount
        self.amount_total = amount
        self.automatic_tax = {"enabled": False, "liability": None, "provider": None, "status": None}
        self.billing_address_collection = fields.get("billing_address_collection")
        self.branding_settings = None
        self.cancel_url = fields.get("cancel_url")
        self.client_reference_id = fields.get("client_reference_id")
        self.client_secret = None
        self.collected_information = None
        self.consent = None
        self.consent_collection = fields.get("consent_collection")
        self.currency = currency
        self.currency_conversion = None
        self.custom_fields = []
        self.custom_text = {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        }
        self.customer = fields.get("customer")
        self.customer_account = None
        self.customer_creation = (
            fields.get("customer_creation", "if_required") if payment else "always"
        )
        self.customer_details = None
        self.customer_email = fields.get("customer_email")
        self.discounts = []
        self.excluded_payment_method_types = fields.get("excluded_payment_method_types")
        self.expires_at = fields.get("expires_at") or self.created + DAY
        self.integration_identifier = None
        self.invoice = None
        self.invoice_creation = (
            {
                "enabled": False,
                "invoice_data": {
                    "account_tax_ids": None,
                    "custom_fields": None,
                    "description": None,
                    "footer": None,
                    "issuer": None,
                    "metadata": {},
                    "rendering_options": None,
                },
            }
            if payment
            else None
        )
        self.locale = fields.get("locale")
        self.metadata = fields.get("metadata") or {}
        self.mode = mode
        self.name_collection = None
        self.optional_items = None
        self.origin_context = None
        self.payment_intent = None  # created when the customer confirms (since 2022-08-01)
        self.payment_link = None
        self.payment_method_collection = "if_required" if payment else "always"
        self.payment_method_configuration_details = None
        self.payment_method_options = {}
        self.payment_method_types = fields["payment_method_types"]
        self.payment_status = "unpaid"
        self.permissions = None
        self.phone_number_collection = {"enabled": False}
        self.recovered_from = None
        self.saved_payment_method_options = None
        self.setup_intent = None
        self.shipping_address_collection = None
        self.shipping_cost = None
        self.shipping_options = []
        self.status = "open"
        self.submit_type = fields.get("submit_type")
        self.subscription = None
        self.success_url = fields.get("success_url")
        self.tax_id_collection = {"enabled": False, "required": "never"}
        self.total_details = {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
        self.ui_mode = "hosted_page"
        self.url = None
        self.wallet_options = None
        self._line_items = line_items  # [{"id", "price", "quantity"}]
        self._pi_data = fields.get("payment_intent_data") or {}
        self._sub_data = fields.get("subscription_data") or {}
        self._pi = None


def line_item_export(session, item) -> dict:
    """https://docs.stripe.com/api/checkout/sessions/line_items (object ``item``)."""
    price = item["price"]
    product = core.find(price.product)
    amount = price.unit_amount * item["quantity"]
    return {
        "id": item["id"],
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price.currency,
        "description": product.name if product else None,
        "metadata": {},
        "price": price._export(),
        "quantity": item["quantity"],
    }


def _line_items_list(session) -> dict:
    return {
        "object": "list",
        "data": [line_item_export(session, li) for li in session._line_items],
        "has_more": False,
        "url": f"/v1/checkout/sessions/{session.id}/line_items",
    }


@shapes.shaper(Session)
def _session(self, o, inc):
    if "line_items" in inc:  # includable
        o["line_items"] = _line_items_list(self)
    return o


def expire_if_due(session) -> None:
    if session.status == "open" and session.expires_at <= core.now():
        _expire(session)


def _expire(session) -> None:
    with core.as_account(session._account):
        session.status = "expired"
        session.url = None
        pi = session._pi
        if pi is not None and pi.status in ("requires_payment_method", "requires_confirmation"):
            pi._canceled = True
            events.emit("payment_intent.canceled", pi)
        events.emit("checkout.session.expired", session)


def _url_param(data, name):
    value = data.get(name)
    if value is not None and not re.match(r"^https?://[^\s]+$", str(value)):
        raise core.error(400, "Not a valid URL", "url_invalid", name)
    return value


def _parse_line_items(data, mode):
    raw = data.get("line_items")
    if not raw:
        raise core.missing("line_items")
    if not isinstance(raw, list):
        raise core.error(400, "Invalid array", "parameter_invalid_array", "line_items")
    items = []
    for i, li in enumerate(raw):
        param = f"line_items[{i}]"
        if not isinstance(li, dict):
            raise core.error(400, "Invalid object", "parameter_invalid_object", param)
        core.check_known(li, LINE_ITEM, param)
        if "price" in li and "price_data" in li:
            raise core.error(
                400, "You may only specify one of these parameters: price, price_data.", param=param
            )
        if "price" in li:
            price = core.get(Price, li["price"], f"{param}[price]")
            if not price.active:
                raise core.error(
                    400,
                    "The price specified is inactive. This field only accepts active prices.",
                    param=f"{param}[price]",
                )
        elif "price_data" in li:
            if not isinstance(li["price_data"], dict):
                raise core.error(
                    400, "Invalid object", "parameter_invalid_object", f"{param}[price_data]"
                )
            price = prices.parse(li["price_data"], f"{param}[price_data]", PRICE_DATA, inline=True)
        else:
            raise core.missing(f"{param}[price]")
        if "quantity" not in li:
            raise core.missing(f"{param}[quantity]")
        quantity = core.to_int(li["quantity"], f"{param}[quantity]", 1)
        items.append({"id": core.new_id("li_"), "price": price, "quantity": quantity})
    currencies = {li["price"].currency for li in items}
    if len(currencies) > 1:
        raise core.error(400, "All line items must use the same currency.", param="line_items")
    recurring = [li for li in items if li["price"].recurring]
    if mode == "payment" and recurring:
        raise core.error(
            400,
            "You specified `payment` mode but passed a recurring price. Either "
            "switch to `subscription` mode or use only one-time prices.",
            param="line_items",
        )
    if mode == "subscription":
        if not recurring:
            raise core.error(
                400,
                "You must provide at least one recurring price in "
                "`subscription` mode when using prices.",
                param="line_items",
            )
        if len(items) != 1:
            raise core.error(400, "standin: only one line item is supported in subscription mode.")
    return items


def _payment_method_types(data, currency):
    allowed = data.get("allowed_payment_method_types")
    if allowed is not None:
        if not isinstance(allowed, list) or not allowed:
            raise core.error(
                400, "Invalid array", "parameter_invalid_array", "allowed_payment_method_types"
            )
        unsupported = [m for m in allowed if m not in SUPPORTED_METHODS]
        if unsupported:
            raise core.error(
                400,
                f"standin: payment method types {unsupported} are not "
                f"supported (only {list(SUPPORTED_METHODS)}).",
                param="allowed_payment_method_types",
            )
        types = list(allowed)
    else:  # dynamic payment methods: card, plus SEPA Direct Debit for EUR
        types = ["card"] + (["sepa_debit"] if currency == "eur" else [])
    excluded = data.get("excluded_payment_method_types") or []
    types = [t for t in types if t not in excluded]
    for method in EUR_ONLY:
        if method in types and currency != "eur":
            raise core.error(400, f"The payment method `{method}` requires currency `eur`.")
    if "satispay" in types and data.get("mode") == "subscription":
        raise core.error(
            400, "The payment method `satispay` cannot be used in `subscription` mode."
        )
    if not types:
        raise core.error(400, "No valid payment method types for this Checkout Session.")
    return types


async def create(request):
    data = await core.read_params(request)
    expand = data.pop("expand", None)
    core.check_known(data, CREATE)
    mode = data.get("mode")
    if not mode:
        raise core.missing("mode")
    if mode not in ("payment", "subscription"):
        raise core.error(400, f"standin: mode={mode!r} is not supported.", param="mode")
    if data.get("ui_mode", "hosted_page") != "hosted_page":
        raise core.error(400, "standin: only ui_mode=hosted_page is supported.", param="ui_mode")
    if data.get("customer") and data.get("customer_email"):
        raise core.error(
            400, "You may only specify one of these parameters: customer, customer_email."
        )
    if data.get("customer"):
        core.get(Customer, data["customer"], "customer")
    if "customer_creation" in data and mode != "payment":
        raise core.error(
            400,
            "`customer_creation` can only be used in `payment` mode.",
            param="customer_creation",
        )
    if "payment_intent_data" in data:
        if mode != "payment":
            raise core.error(
                400,
                "You can not pass `payment_intent_data` in `subscription` mode.",
                param="payment_intent_data",
            )
        core.check_known(data["payment_intent_data"], PI_DATA, "payment_intent_data")
    if "subscription_data" in data:
        if mode != "subscription":
            raise core.error(
                400,
                "You can only pass `subscription_data` in `subscription` mode.",
                param="subscription_data",
            )
        core.check_known(data["subscription_data"], SUB_DATA, "subscription_data")
        for key in ("trial_period_days", "trial_end", "billing_cycle_anchor"):
            if key in data["subscription_data"]:
                raise core.error(400, f"standin: subscription_data[{key}] is not supported.")
    for key in ("payment_intent_data", "subscription_data"):
        if key in data:
            data[key]["metadata"] = core.metadata_param(
                data[key].get("metadata"), f"{key}[metadata]"
            )
    items = _parse_line_items(data, mode)
    currency = items[0]["price"].currency
    amount = sum(li["price"].unit_amount * li["quantity"] for li in items)
    fields = {k: v for k, v in data.items() if k not in ("mode", "line_items")}
    fields["success_url"] = _url_param(data, "success_url")
    fields["cancel_url"] = _url_param(data, "cancel_url")
    fields["metadata"] = core.metadata_param(data.get("metadata"))
    fields["payment_method_types"] = _payment_method_types(data, currency)
    if "expires_at" in data:
        expires_at = core.to_int(data["expires_at"], "expires_at")
        if not core.now() + 1800 <= expires_at <= core.now() + DAY:
            raise core.error(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 "
                "hours from Checkout Session creation.",
                param="expires_at",
            )
        fields["expires_at"] = expires_at
    session = Session(mode, items, currency, amount, **fields)
    session.url = f"{core.public_base(request)}/checkout/pay/{session.id}"
    return core.respond(session, expand)


async def retrieve(request):
    data = await core.read_params(request)
    session = core.get(Session, request.match_info["id"], "session")
    expire_if_due(session)
    return core.respond(session, data.get("expand"))


async def list_all(request):
    data = await core.read_params(request)
    filters = []
    for key in ("customer", "payment_intent", "payment_link", "status", "subscription"):
        if key in data:
            value = data.pop(key)
            filters.append(lambda s, k=key, v=value: getattr(s, k) == v)
    if isinstance(data.get("customer_details"), dict):
        email = data.pop("customer_details").get("email")
        filters.append(lambda s: (s.customer_details or {}).get("email") == email)
    data.pop("customer_account", None)
    core.check_known(data, ("created", "ending_before", "limit", "starting_after"))
    sessions = core.objects_of(Session)
    for session in sessions:
        expire_if_due(session)
    return core.respond(core.list_response("/v1/checkout/sessions", sessions, data, filters))


async def expire(request):
    session = core.get(Session, request.match_info["id"], "session")
    data = await core.read_params(request)
    expire_if_due(session)
    if session.status != "open":
        raise core.error(
            400,
            f'Only Checkout Sessions with a status in ["open"] can be '
            f"expired. This Checkout Session has a status of "
            f'"{session.status}".',
        )
    _expire(session)
    return core.respond(session, data.get("expand"))


async def line_items(request):
    session = core.get(Session, request.match_info["id"], "session")
    data = await core.read_params(request)
    data.pop("expand", None)
    limit = core.to_int(data.get("limit", 10), "limit", 1)
    listing = _line_items_list(session)
    listing["has_more"] = len(listing["data"]) > limit
    listing["data"] = listing["data"][:limit]
    return core.respond(listing)


def routes(app) -> None:
    app.router.add_post("/v1/checkout/sessions", create)
    app.router.add_get("/v1/checkout/sessions", list_all)
    app.router.add_get("/v1/checkout/sessions/{id}", retrieve)
    app.router.add_post("/v1/checkout/sessions/{id}/expire", expire)
    app.router.add_get("/v1/checkout/sessions/{id}/line_items", line_items)
