"""Checkout Session API shapes, validation, listing, expiry, prices."""

import time

import pytest
import requests
import stripe

pytestmark = []


def test_create_payment_session_shape(client, make_params, standin_url):
    session = client.v1.checkout.sessions.create(
        params=make_params(locale="it", payment_intent_data={"metadata": {"campaign": "winter"}})
    )
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{standin_url}/checkout/pay/{session.id}"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_total, session.amount_subtotal, session.currency) == (2500, 2500, "eur")
    assert session.metadata.to_dict() == {"donation": "42"}
    assert session.client_reference_id == "donation-42"
    assert session.customer_email == "donor@example.com"
    assert session.customer is None and session.customer_details is None
    assert session.payment_intent is None  # created on confirmation
    assert session.subscription is None and session.invoice is None
    assert session.livemode is False and session.locale == "it"
    assert session.expires_at - session.created == 86400
    assert session.payment_method_types == ["card", "sepa_debit"]  # EUR: SEPA offered
    assert session.success_url.endswith("session_id={CHECKOUT_SESSION_ID}")
    assert session.customer_creation == "if_required"
    assert "line_items" not in session  # includable only


def test_subscription_session_and_line_items(client, make_params):
    session = client.v1.checkout.sessions.create(
        params=make_params(
            "subscription",
            subscription_data={"metadata": {"donor": "7"}},
            allowed_payment_method_types=["card"],
        )
    )
    assert session.mode == "subscription"
    assert session.payment_method_types == ["card"]
    full = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    item = full.line_items.data[0]
    assert item.object == "item" and item.quantity == 1 and item.amount_total == 2500
    assert item.description == "Donazione"
    assert item.price.type == "recurring" and item.price.recurring.interval == "month"
    listed = client.v1.checkout.sessions.line_items.list(session.id)
    assert [li.id for li in listed.data] == [item.id]


def test_existing_price_and_prices_api(client, make_params):
    price = client.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": 1000,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Sostegno mensile"},
            "lookup_key": "monthly",
        }
    )
    assert price.object == "price" and price.type == "recurring"
    assert str(price.unit_amount_decimal) == "1000" and price.product.startswith("prod_")
    assert client.v1.prices.retrieve(price.id).id == price.id
    assert [p.id for p in client.v1.prices.list(params={"lookup_keys": ["monthly"]}).data] == [
        price.id
    ]
    updated = client.v1.prices.update(price.id, params={"metadata": {"a": "b"}})
    assert updated.metadata.to_dict() == {"a": "b"}
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "line_items": [{"price": price.id, "quantity": 2}],
            "success_url": "https://trama.example/ok",
        }
    )
    assert session.amount_total == 2000


@pytest.mark.parametrize(
    "params, message",
    [
        ({"payment_method_types": ["card"]}, "Received unknown parameter: payment_method_types"),
        ({"mode": None}, "Missing required param: mode."),
        ({"line_items": None}, "Missing required param: line_items."),
        ({"customer": "cus_nope"}, "No such customer: 'cus_nope'"),
        ({"subscription_data": {"metadata": {"a": "b"}}}, "subscription_data"),
    ],
)
def test_validation_errors(client, make_params, params, message):
    base = make_params()
    for key, value in params.items():
        if value is None:
            base.pop(key)
        else:
            base[key] = value
    if "customer" in params:
        base.pop("customer_email")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=base)
    assert message in str(info.value)


def test_recurring_price_needs_subscription_mode(client, make_params):
    params = make_params("subscription")
    params["mode"] = "payment"
    with pytest.raises(stripe.InvalidRequestError, match="recurring price"):
        client.v1.checkout.sessions.create(params=params)


def test_list_sessions_created_gte_and_pagination(client, make_params):
    before = int(time.time())
    ids = [client.v1.checkout.sessions.create(params=make_params()).id for _ in range(3)]
    page = client.v1.checkout.sessions.list(params={"created": {"gte": before}, "limit": 2})
    assert page.object == "list" and page.url == "/v1/checkout/sessions"
    assert [s.id for s in page.data] == ids[::-1][:2] and page.has_more
    rest = client.v1.checkout.sessions.list(params={"limit": 2, "starting_after": page.data[-1].id})
    assert [s.id for s in rest.data] == [ids[0]] and not rest.has_more
    future = client.v1.checkout.sessions.list(params={"created": {"gte": before + 3600}})
    assert future.data == []
    assert len(list(client.v1.checkout.sessions.list(params={"limit": 1}).auto_paging_iter())) == 3


def test_expire_session(client, make_params, receiver):
    session = client.v1.checkout.sessions.create(params=make_params())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired" and expired.url is None
    event = receiver.wait_for("checkout.session.expired")[-1]
    assert event["data"]["object"]["id"] == session.id
    with pytest.raises(stripe.InvalidRequestError, match="status in"):
        client.v1.checkout.sessions.expire(session.id)
    page = requests.get(session.url, timeout=5)
    assert "expired" in page.text


def test_retrieve_missing_and_unknown_route(client, api):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert info.value.http_status == 404 and info.value.code == "resource_missing"
    resp = api("GET", "/v1/payment_links")
    assert resp.status_code == 404 and "Unrecognized request URL" in resp.json()["error"]["message"]


def test_hosted_page_markup(client, make_params):
    session = client.v1.checkout.sessions.create(params=make_params())
    html = requests.get(session.url, timeout=5).text
    for marker in (
        'id="card-number"',
        'value="4242 4242 4242 4242"',
        'id="pay"',
        'id="cancel"',
        'href="https://trama.example/dona"',
        'id="method-sepa"',
        'name="viewport"',
        "€25.00",
    ):
        assert marker in html
    assert "<script" not in html and "http://" not in html.split("<main>")[0]
