"""The hosted payment page: ``GET/POST /checkout/pay/{session_id}``.

A plain HTML form (no JavaScript, no external assets) with stable element ids for browser
tests: ``#method-card``, ``#method-sepa``, ``#method-paypal``, ``#method-satispay``,
``#email``, ``#name``, ``#card-number``, ``#card-expiry``, ``#card-cvc``, ``#iban``, ``#pay``,
``#cancel``, ``#error``, ``#amount``. Form fields: ``method``
(card|sepa_debit|paypal|satispay), ``email``, ``name``, ``card_number``, ``iban``.
"""

from __future__ import annotations

from html import escape

from aiohttp import web
from localstripe.resources import store

from . import fulfil
from .checkout import Session, expire_if_due, line_item_export

ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "chf": "CHF "}

CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,sans-serif;background:#f6f9fc;color:#1a1f36}main{max-width:440px;margin:0 auto;
padding:24px 16px}h1{font-size:1.1rem;margin:0 0 4px;color:#697386;font-weight:500}
.amount{font-size:2rem;font-weight:700;margin:0 0 16px}ul{list-style:none;padding:0;margin:0 0 20px}
li{display:flex;justify-content:space-between;padding:6px 0;border-bottom:1px solid #e3e8ee}
form{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
label{display:block;font-size:.85rem;color:#3c4257;margin:12px 0 4px}
input[type=text],input[type=email]{width:100%;padding:10px;border:1px solid #cfd7df;
border-radius:6px;font-size:1rem}.methods{display:flex;gap:8px}.methods label{flex:1;
border:1px solid #cfd7df;border-radius:6px;padding:10px;margin:0;font-size:.95rem}
.row{display:flex;gap:8px}.row>div{flex:1}
form:has(#method-sepa:checked) .card-fields,
form:has(#method-card:checked) .sepa-fields,
form:has(#method-paypal:checked) .card-fields,form:has(#method-paypal:checked) .sepa-fields,
form:has(#method-satispay:checked) .card-fields,
form:has(#method-satispay:checked) .sepa-fields{display:none}
button{width:100%;margin-top:20px;padding:12px;border:0;border-radius:6px;background:#635bff;
color:#fff;font-size:1rem;font-weight:600}#error{color:#df1b41;margin:12px 0 0}
.note{font-size:.8rem;color:#697386}a{color:#635bff}.cancel{display:inline-block;margin-bottom:12px}
"""

METHOD_LABELS = {
    "card": ("card", "Card"),
    "sepa_debit": ("sepa", "SEPA Direct Debit"),
    "paypal": ("paypal", "PayPal"),
    "satispay": ("satispay", "Satispay"),
}


def money(amount: int, currency: str) -> str:
    value = amount if currency in ZERO_DECIMAL else amount / 100
    text = f"{value:,.0f}" if currency in ZERO_DECIMAL else f"{value:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def _page(title: str, body: str, lang: str | None = None, status: int = 200) -> web.Response:
    lang = lang if lang and lang != "auto" else "en"
    html = (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return web.Response(
        text=html, content_type="text/html", status=status, headers={"Cache-Control": "no-store"}
    )


def _interval(session) -> str:
    recurring = (
        session._line_items[0]["price"].recurring if session.mode == "subscription" else None
    )
    if not recurring:
        return ""
    count, unit = recurring["interval_count"], recurring["interval"]
    return f" / {unit}" if count == 1 else f" every {count} {unit}s"


def render(
    session, error: str | None = None, form: dict | None = None, status: int = 200
) -> web.Response:
    form = form or {}
    total = money(session.amount_total, session.currency) + _interval(session)
    items = "".join(
        f"<li><span>{escape(li['description'] or '')} × {li['quantity']}</span>"
        f"<span>{money(li['amount_total'], li['currency'])}</span></li>"
        for li in (line_item_export(session, x) for x in session._line_items)
    )
    cancel = (
        f'<a id="cancel" class="cancel" href="{escape(session.cancel_url)}">← Cancel</a>'
        if session.cancel_url
        else ""
    )
    method = form.get("method") or "card"
    fixed_email = session.customer_email or (
        store.get(f"customer:{session.customer}").email if session.customer else None
    )
    email = escape(fixed_email or form.get("email") or "")
    offered = [m for m in METHOD_LABELS if m in session.payment_method_types]
    sepa = "sepa_debit" in offered
    methods = ""
    if offered != ["card"]:
        methods = (
            '<div class="methods">'
            + "".join(
                f'<label><input type="radio" name="method" value="{m}" id="method-{ids}"'
                f"{' checked' if method == m else ''}> {label}</label>"
                for m, (ids, label) in METHOD_LABELS.items()
                if m in offered
            )
            + "</div>"
        )
    else:
        methods = '<input type="hidden" name="method" value="card" id="method-card">'
    card = escape(form.get("card_number") or "4242 4242 4242 4242")
    iban = escape(form.get("iban") or "DE89 3704 0044 0532 0130 00")
    name = escape(form.get("name") or "Jenny Rosen")
    verb = "Subscribe" if session.mode == "subscription" else "Pay"
    error_html = f'<p id="error" role="alert">{escape(error)}</p>' if error else ""
    body = f"""{cancel}
<h1>Test mode · local Stripe stand-in</h1>
<p class="amount" id="amount">{escape(total)}</p>
<ul>{items}</ul>
<form method="post" action="/checkout/pay/{escape(session.id)}">
{methods}
<label for="email">Email</label>
<input type="email" id="email" name="email" value="{email}" autocomplete="email" required
{" readonly" if fixed_email else ""}>
<label for="name">Name</label>
<input type="text" id="name" name="name" value="{name}" autocomplete="name">
<div class="card-fields">
<label for="card-number">Card number</label>
<input type="text" id="card-number" name="card_number" value="{card}" inputmode="numeric"
 autocomplete="cc-number">
<div class="row"><div><label for="card-expiry">Expiry</label>
<input type="text" id="card-expiry" name="card_expiry" value="12 / 34"></div>
<div><label for="card-cvc">CVC</label>
<input type="text" id="card-cvc" name="card_cvc" value="123" inputmode="numeric"></div></div>
<p class="note">Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.</p>
</div>
{
        '''<div class="sepa-fields"><label for="iban">IBAN</label>
<input type="text" id="iban" name="iban" value="'''
        + iban
        + '''">
<p class="note">DE89 3704 0044 0532 0130 00 succeeds, DE62 3704 0044 0532 0130 01 fails
(after a short delay).</p></div>'''
        if sepa
        else ""
    }
{error_html}
<button type="submit" id="pay">{verb} {escape(total)}</button>
</form>"""
    return _page(f"Pay {total}", body, session.locale, status)


def _done(session) -> web.Response:
    if session.status == "complete":
        link = escape(fulfil.success_redirect(session))
        body = (
            '<h1>Test mode · local Stripe stand-in</h1><p class="amount">Thanks!</p>'
            '<p id="status">Payment complete.</p>'
            + (f'<p><a id="return" href="{link}">Return</a></p>' if session.success_url else "")
        )
    else:
        body = (
            "<h1>Test mode · local Stripe stand-in</h1>"
            '<p id="status">This Checkout Session has expired.</p>'
        )
    return _page("Checkout", body, session.locale)


def _session(request):
    session = store.get(f"{Session.object}:{request.match_info['id']}")
    if session is None:
        raise web.HTTPNotFound(text="No such Checkout Session.")
    expire_if_due(session)
    return session


async def show(request):
    session = _session(request)
    return render(session) if session.status == "open" else _done(session)


async def submit(request):
    session = _session(request)
    if session.status != "open":
        return _done(session)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    try:
        target = fulfil.pay(session, form)
    except fulfil.PaymentError as exc:
        return render(session, str(exc), form, status=402)
    raise web.HTTPSeeOther(target)


def routes(app) -> None:
    app.router.add_get("/checkout/pay/{id}", show)
    app.router.add_post("/checkout/pay/{id}", submit)
