"""Subscription lifecycle: renewals, failed renewals, cancellation; invoice listing."""

import time

import pytest
import stripe

pytestmark = []


@pytest.fixture
def subscription(client, make_params, pay, receiver):
    session = client.v1.checkout.sessions.create(
        params=make_params("subscription", subscription_data={"metadata": {"donor": "7"}})
    )
    pay(session.url)
    receiver.wait_for("checkout.session.completed")
    sub_id = client.v1.checkout.sessions.retrieve(session.id).subscription
    receiver.clear()
    return client.v1.subscriptions.retrieve(sub_id)


def test_renew(client, api, subscription, receiver):
    old_end = subscription["items"].data[0].current_period_end
    resp = api("POST", f"/_standin/subscriptions/{subscription.id}/renew")
    assert resp.status_code == 200
    expected = [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.succeeded",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    receiver.wait_for(*expected)
    assert receiver.in_order(*expected)
    invoice = receiver.of_type("invoice.paid")[0]["data"]["object"]
    assert invoice["billing_reason"] == "subscription_cycle" and invoice["status"] == "paid"
    assert invoice["parent"]["subscription_details"]["metadata"] == {"donor": "7"}
    assert invoice["lines"]["data"][0]["period"]["start"] == old_end
    updated = receiver.of_type("customer.subscription.updated")[0]["data"]
    assert updated["object"]["items"]["data"][0]["current_period_start"] == old_end
    assert "items" in updated["previous_attributes"]
    sub = client.v1.subscriptions.retrieve(subscription.id)
    assert sub.latest_invoice == invoice["id"] and sub.status == "active"


def test_fail_then_recover(client, api, subscription, receiver):
    assert api("POST", f"/_standin/subscriptions/{subscription.id}/fail").status_code == 200
    expected = [
        "invoice.created",
        "invoice.finalized",
        "payment_intent.payment_failed",
        "charge.failed",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    receiver.wait_for(*expected, "customer.subscription.updated")
    assert receiver.in_order(*expected)
    failed = receiver.of_type("invoice.payment_failed")[0]["data"]["object"]
    assert failed["status"] == "open" and failed["attempt_count"] == 1
    assert failed["amount_paid"] == 0 and failed["next_payment_attempt"] > time.time()
    last = receiver.of_type("customer.subscription.updated")[-1]["data"]
    assert last["object"]["status"] == "past_due"
    assert last["previous_attributes"] == {"status": "active"}
    assert client.v1.subscriptions.retrieve(subscription.id).status == "past_due"
    # Next renewal pays and the subscription becomes active again.
    receiver.clear()
    api("POST", f"/_standin/subscriptions/{subscription.id}/renew")
    receiver.wait_for(
        "invoice.paid", "customer.subscription.updated", "customer.subscription.updated"
    )
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"


def test_cancel_at_period_end_then_renew_ends_it(client, api, subscription, receiver):
    updated = client.v1.subscriptions.update(
        subscription.id,
        params={
            "cancel_at_period_end": True,
            "cancellation_details": {"feedback": "too_expensive"},
        },
    )
    assert updated.cancel_at_period_end is True
    assert updated.cancel_at == subscription["items"].data[0].current_period_end
    assert updated.cancellation_details.feedback == "too_expensive"
    event = receiver.wait_for("customer.subscription.updated")[0]
    assert event["data"]["previous_attributes"]["cancel_at_period_end"] is False
    assert event["request"]["id"].startswith("req_")
    api("POST", f"/_standin/subscriptions/{subscription.id}/renew")
    deleted = receiver.wait_for("customer.subscription.deleted")[-1]["data"]["object"]
    assert deleted["status"] == "canceled" and deleted["ended_at"]
    assert "invoice.created" not in receiver.types()


def test_metadata_update_and_unknown_param(client, subscription, receiver):
    client.v1.subscriptions.update(subscription.id, params={"metadata": {"note": "x"}})
    event = receiver.wait_for("customer.subscription.updated")[0]
    assert event["data"]["object"]["metadata"] == {"donor": "7", "note": "x"}
    assert event["data"]["previous_attributes"] == {"metadata": {"donor": "7"}}
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter: bogus"):
        client.v1.subscriptions.update(subscription.id, params={"bogus": "1"})


def test_cancel_now(client, subscription, receiver):
    canceled = client.v1.subscriptions.cancel(subscription.id)
    assert canceled.status == "canceled" and canceled.canceled_at and canceled.ended_at
    assert canceled.cancellation_details.reason == "cancellation_requested"
    event = receiver.wait_for("customer.subscription.deleted")[0]
    assert event["data"]["object"]["id"] == subscription.id


def test_list_invoices(client, api, subscription):
    api("POST", f"/_standin/subscriptions/{subscription.id}/renew")
    invoices = client.v1.invoices.list(params={"subscription": subscription.id})
    assert len(invoices.data) == 2
    assert [i.billing_reason for i in invoices.data] == [
        "subscription_cycle",
        "subscription_create",
    ]
    recent = client.v1.invoices.list(
        params={"created": {"gte": int(time.time()) - 60}, "status": "paid", "limit": 1}
    )
    assert len(recent.data) == 1 and recent.has_more
    assert client.v1.invoices.list(params={"created": {"gte": int(time.time()) + 60}}).data == []
