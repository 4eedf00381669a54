"""Customer portal sessions (https://docs.stripe.com/api/customer_portal/sessions/create), only
the deep link to the payment-method update flow
(https://docs.stripe.com/customer-management/portal-deep-links), and its hosted page.

``POST /v1/billing_portal/sessions`` (``customer``, ``return_url``, ``locale``,
``flow_data[type]=payment_method_update``, ``flow_data[after_completion]``) answers a
``billing_portal.session`` whose ``url`` is ``{base}/billing/portal/{id}``: a form with
``#card-number`` (prefilled 4242...), ``#save``, ``#error``. Saving a valid card attaches it
to the customer, makes it the customer's default (``customer.updated``) and the default of
each of their live subscriptions (``customer.subscription.updated``), then answers 303 to the
flow's redirect URL (or ``return_url``). A declined card (4000 0000 0000 0002) re-renders
with 402 and ``#error``; nothing changes.
"""

from __future__ import annotations

from html import escape

import stripe.params as sp
from aiohttp import web
from localstripe.resources import Customer, StripeObject, Subscription, store

from . import core, events, payments
from .pages import _page

SESSION_CREATE = core.param_names(sp.billing_portal.SessionCreateParams)
FLOWS = (
    "payment_method_update",
    "subscription_cancel",
    "subscription_update",
    "subscription_update_confirm",
)
AFTER = ("hosted_confirmation", "portal_homepage", "redirect")


class PortalSession(StripeObject):
    object = "billing_portal.session"
    _id_prefix = "bps_"

    def __init__(self, customer, return_url, locale, flow, url_base):
        super().__init__(id=core.new_id("bps_"))
        self.configuration = "bpc_standin_default"
        self.customer = customer
        self.customer_account = None
        self.flow = flow
        self.livemode = False
        self.locale = locale
        self.on_behalf_of = None
        self.return_url = return_url
        self.url = f"{url_base}/billing/portal/{self.id}"
        self._done = False


def _flow(data):
    if data is None:
        return None
    if not isinstance(data, dict) or not data.get("type"):
        raise core.missing("flow_data[type]")
    if data["type"] not in FLOWS:
        raise core.invalid("flow_data[type]", "Invalid flow_data[type]")
    if data["type"] != "payment_method_update":
        raise core.error(400, f"standin: the {data['type']} flow is not implemented.")
    after = data.get("after_completion") or {"type": "portal_homepage"}
    if after.get("type") not in AFTER:
        raise core.invalid("flow_data[after_completion][type]", "Invalid after_completion type")
    redirect = after.get("redirect") or {}
    if after["type"] == "redirect" and not core.SAFE_URL.match(redirect.get("return_url") or ""):
        raise core.missing("flow_data[after_completion][redirect][return_url]")
    return {
        "after_completion": {
            "hosted_confirmation": None,
            "redirect": {"return_url": redirect["return_url"]}
            if after["type"] == "redirect"
            else None,
            "type": after["type"],
        },
        "subscription_cancel": None,
        "subscription_update": None,
        "subscription_update_confirm": None,
        "type": data["type"],
    }


async def create(request):
    data = await core.read_params(request)
    expand = data.pop("expand", None)
    core.check_known(data, SESSION_CREATE)
    if not data.get("customer"):
        raise core.missing("customer")
    customer = core.get(Customer, data["customer"], "customer")
    if customer._account != core.ACCOUNT.get():
        raise core.error(404, f"No such customer: '{customer.id}'", "resource_missing", "customer")
    return_url = data.get("return_url")
    if return_url and not core.SAFE_URL.match(return_url):
        raise core.invalid("return_url", "Not a valid URL")
    session = PortalSession(
        customer.id,
        return_url,
        data.get("locale"),
        _flow(data.get("flow_data")),
        core.public_base(request),
    )
    return core.respond(session, expand)


def _session(request):
    session = store.get(f"{PortalSession.object}:{request.match_info['id']}")
    if session is None or session._done:
        raise web.HTTPNotFound(text="This portal session is no longer valid.")
    return session


def _form(session, error=None, status=200):
    lang = "it" if (session.locale or "").startswith("it") else "en"
    body = (
        f"<h1>{'Aggiorna il metodo di pagamento' if lang == 'it' else 'Update payment method'}</h1>"
        '<form method="post">'
        '<label for="card-number">Card number</label>'
        '<input type="text" id="card-number" name="card_number" inputmode="numeric" '
        'autocomplete="cc-number" value="4242 4242 4242 4242">'
        + (f'<p id="error" role="alert">{escape(error)}</p>' if error else "")
        + f'<button type="submit" id="save">{"Salva" if lang == "it" else "Save"}</button>'
        "</form>"
    )
    return _page("Stripe", body, lang, status)


async def show(request):
    return _form(_session(request))


def _set_default(customer, pm) -> None:
    before = customer._export()
    customer.invoice_settings = {
        **(customer.invoice_settings or {}),
        "default_payment_method": pm.id,
    }
    events.emit(
        "customer.updated",
        customer,
        previous_attributes={"invoice_settings": before["invoice_settings"]},
    )
    for sub in core.objects_of(Subscription):
        if sub.customer != customer.id or sub.status in ("canceled", "incomplete_expired"):
            continue
        previous = sub.default_payment_method
        sub.default_payment_method = pm.id
        events.emit(
            "customer.subscription.updated",
            sub,
            previous_attributes={"default_payment_method": previous},
        )


async def submit(request):
    session = _session(request)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    customer = Customer._api_retrieve(session.customer)
    with core.as_account(customer._account):
        details = {"address": None, "email": customer.email, "name": customer.name, "phone": None}
        try:
            pm = payments.card_payment_method(form.get("card_number"), details)
        except ValueError as exc:
            return _form(session, str(exc), 402)
        if pm._card_number in payments.DECLINES:
            return _form(session, "Your card was declined.", 402)
        pm.customer = customer.id
        events.emit("payment_method.attached", pm)
        _set_default(customer, pm)
    session._done = True
    redirect = ((session.flow or {}).get("after_completion") or {}).get("redirect") or {}
    target = redirect.get("return_url") or session.return_url
    if not target:
        return _page("Stripe", '<p id="done">Saved.</p>')
    raise web.HTTPSeeOther(target)


def routes(app) -> None:
    app.router.add_post("/v1/billing_portal/sessions", create)
    app.router.add_get("/billing/portal/{id}", show)
    app.router.add_post("/billing/portal/{id}", submit)
