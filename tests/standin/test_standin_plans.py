"""Plan changes on the stand-in: a new price (amount or interval), pause and resume of
collection, "No such subscription", and the customer portal's payment-method update page."""

import re

import pytest
import requests
import stripe


@pytest.fixture
def subscription(client, make_params, pay, receiver):
    """A monthly subscription paid on Checkout, its events already received."""
    session = client.v1.checkout.sessions.create(params=make_params("subscription"))
    pay(session.url)
    receiver.wait_for("checkout.session.completed")
    sub_id = client.v1.checkout.sessions.retrieve(session.id).subscription
    receiver.clear()
    return client.v1.subscriptions.retrieve(sub_id)


def _item(sub):
    return sub["items"].data[0]


def _new_price(sub, amount, interval="month", count=1):
    item = _item(sub)
    return {
        "items": [
            {
                "id": item.id,
                "price_data": {
                    "currency": "eur",
                    "product": item.price.product,
                    "unit_amount": amount,
                    "recurring": {"interval": interval, "interval_count": count},
                },
            }
        ],
        "proration_behavior": "none",
    }


def test_new_amount_is_charged_from_the_next_invoice(client, api, subscription, receiver):
    end = _item(subscription).current_period_end
    sub = client.v1.subscriptions.update(subscription.id, params=_new_price(subscription, 4000))
    # the item keeps its id and takes the new price; nothing is invoiced now
    assert (_item(sub).id, _item(sub).price.unit_amount) == (_item(subscription).id, 4000)
    assert (
        _item(sub).current_period_end == end and sub.latest_invoice == subscription.latest_invoice
    )
    updated = receiver.wait_for("customer.subscription.updated")[0]["data"]
    assert "items" in updated["previous_attributes"]
    api("POST", f"/_standin/subscriptions/{sub.id}/renew")
    paid = receiver.wait_for("invoice.paid")[0]["data"]["object"]
    assert paid["amount_paid"] == 4000


def test_yearly_from_the_next_charge_date_through_a_trial(client, api, subscription, receiver):
    end = _item(subscription).current_period_end
    params = {**_new_price(subscription, 2500, "year"), "trial_end": end}
    sub = client.v1.subscriptions.update(subscription.id, params=params)
    assert (sub.status, sub.trial_end, _item(sub).price.recurring.interval) == (
        "trialing",
        end,
        "year",
    )
    api("POST", f"/_standin/subscriptions/{sub.id}/renew")
    paid = receiver.wait_for("invoice.paid")[0]["data"]["object"]
    assert paid["amount_paid"] == 2500
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "active" and _item(sub).current_period_start == end
    assert _item(sub).current_period_end - end > 360 * 86400


def test_prorations_are_refused_not_silently_ignored(client, subscription):
    params = {**_new_price(subscription, 4000), "proration_behavior": "create_prorations"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(subscription.id, params=params)


def test_paused_collection_voids_the_invoice_then_resume_charges(
    client,
    api,
    subscription,
    receiver,
):
    sub = client.v1.subscriptions.update(
        subscription.id, params={"pause_collection": {"behavior": "void"}}
    )
    assert sub.status == "active" and sub.pause_collection.behavior == "void"
    receiver.wait_for("customer.subscription.updated")
    receiver.clear()
    api("POST", f"/_standin/subscriptions/{sub.id}/renew")
    receiver.wait_for("invoice.created", "invoice.voided")
    assert "invoice.paid" not in receiver.types() and "charge.succeeded" not in receiver.types()
    sub = client.v1.subscriptions.update(sub.id, params={"pause_collection": ""})
    assert sub.pause_collection is None
    receiver.clear()
    api("POST", f"/_standin/subscriptions/{sub.id}/renew")
    receiver.wait_for("invoice.paid")


@pytest.mark.parametrize("verb", ["retrieve", "update", "cancel"])
def test_no_such_subscription_is_resource_missing(client, verb):
    call = getattr(client.v1.subscriptions, verb)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call("sub_doesnotexist", params={"metadata": {"a": "b"}} if verb == "update" else None)
    assert (caught.value.code, caught.value.param) == ("resource_missing", "id")
    assert caught.value.http_status == 404
    assert "No such subscription: 'sub_doesnotexist'" in caught.value.user_message


def test_a_canceled_subscription_is_never_charged_again(client, api, subscription, receiver):
    client.v1.subscriptions.cancel(subscription.id)
    receiver.wait_for("customer.subscription.deleted")
    receiver.clear()
    assert api("POST", f"/_standin/subscriptions/{subscription.id}/renew").status_code == 400
    assert "invoice.paid" not in receiver.types()


def test_portal_updates_the_card_of_the_subscription(client, subscription, receiver):
    session = client.v1.billing_portal.sessions.create(
        params={
            "customer": subscription.customer,
            "return_url": "https://example.org/plan",
            "flow_data": {
                "type": "payment_method_update",
                "after_completion": {
                    "type": "redirect",
                    "redirect": {"return_url": "https://example.org/plan?card=1"},
                },
            },
        }
    )
    assert (
        session.object == "billing_portal.session" and session.flow.type == "payment_method_update"
    )
    page = requests.get(session.url, timeout=5)
    assert page.status_code == 200 and 'id="card-number"' in page.text
    # a declined card changes nothing
    declined = requests.post(session.url, data={"card_number": "4000 0000 0000 0002"}, timeout=5)
    assert declined.status_code == 402 and 'id="error"' in declined.text
    saved = requests.post(
        session.url, data={"card_number": "5555 5555 5555 4444"}, allow_redirects=False, timeout=5
    )
    assert (
        saved.status_code == 303 and saved.headers["Location"] == "https://example.org/plan?card=1"
    )
    sub = client.v1.subscriptions.retrieve(subscription.id)
    assert sub.default_payment_method != subscription.default_payment_method
    pm = client.v1.payment_methods.retrieve(sub.default_payment_method)
    assert pm.card.brand == "mastercard"
    updated = receiver.wait_for("customer.subscription.updated")[0]["data"]
    assert updated["previous_attributes"] == {
        "default_payment_method": subscription.default_payment_method
    }
    # the session is used up
    assert requests.get(session.url, timeout=5).status_code == 404
    assert re.match(r"^bps_", session.id)
