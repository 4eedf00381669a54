"""Refunds (full, partial, over-refund) and disputes."""

import time

import pytest
import stripe

pytestmark = []


@pytest.fixture
def paid(client, make_params, pay, receiver):
    session = client.v1.checkout.sessions.create(params=make_params(amount=5000))
    pay(session.url)
    receiver.wait_for("charge.succeeded", "checkout.session.completed")
    charge = receiver.of_type("charge.succeeded")[0]["data"]["object"]
    receiver.clear()
    return charge


def test_partial_then_full_refund(client, paid, receiver):
    partial = client.v1.refunds.create(
        params={"charge": paid["id"], "amount": 2000, "reason": "requested_by_customer"}
    )
    assert partial.object == "refund" and partial.amount == 2000 and partial.status == "succeeded"
    assert partial.payment_intent == paid["payment_intent"] and partial.charge == paid["id"]
    events = receiver.wait_for("charge.refunded", "refund.created")
    assert receiver.in_order("charge.refunded", "refund.created")
    charge = events[0]["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"]) == (2000, False)
    assert events[1]["data"]["object"]["id"] == partial.id

    receiver.clear()
    rest = client.v1.refunds.create(params={"payment_intent": paid["payment_intent"]})
    assert rest.amount == 3000
    charge = receiver.wait_for("charge.refunded")[0]["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"]) == (5000, True)

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"charge": paid["id"]})
    assert info.value.code == "charge_already_refunded"

    listed = client.v1.refunds.list(params={"created": {"gte": int(time.time()) - 60}})
    assert [r.id for r in listed.data] == [rest.id, partial.id]
    assert client.v1.refunds.list(params={"charge": paid["id"], "limit": 1}).has_more
    with_refunds = client.v1.charges.retrieve(paid["id"], params={"expand": ["refunds"]})
    assert len(with_refunds.refunds.data) == 2


def test_refund_too_large(client, paid):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"charge": paid["id"], "amount": 6000})
    assert info.value.code == "amount_too_large"


def test_dispute_created_and_closed(client, api, paid, receiver):
    resp = api("POST", f"/_standin/charges/{paid['id']}/dispute", data={"reason": "fraudulent"})
    assert resp.status_code == 200
    dispute = resp.json()
    assert dispute["id"].startswith("du_") and dispute["object"] == "dispute"
    assert (dispute["charge"], dispute["amount"], dispute["status"], dispute["reason"]) == (
        paid["id"],
        5000,
        "needs_response",
        "fraudulent",
    )
    assert dispute["payment_intent"] == paid["payment_intent"]
    created = receiver.wait_for("charge.dispute.created")[0]["data"]["object"]
    assert created["id"] == dispute["id"]
    assert client.v1.charges.retrieve(paid["id"]).disputed is True
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"charge": paid["id"]})
    assert info.value.code == "charge_disputed"

    resp = api("POST", f"/_standin/disputes/{dispute['id']}/close?status=lost")
    assert resp.status_code == 200 and resp.json()["status"] == "lost"
    closed = receiver.wait_for("charge.dispute.closed")[0]["data"]
    assert closed["object"]["status"] == "lost"
    assert closed["previous_attributes"] == {"status": "needs_response"}
    assert client.v1.disputes.retrieve(dispute["id"]).status == "lost"
    assert [d.id for d in client.v1.disputes.list().data] == [dispute["id"]]


def test_dispute_won(api, paid, receiver):
    dispute = api("POST", f"/_standin/charges/{paid['id']}/dispute").json()
    api("POST", f"/_standin/disputes/{dispute['id']}/close", params={"status": "won"})
    assert receiver.wait_for("charge.dispute.closed")[0]["data"]["object"]["status"] == "won"


def test_a_refund_that_fails_gives_the_amount_back_to_the_charge(client, api, paid, receiver):
    refund = client.v1.refunds.create(params={"charge": paid["id"], "amount": 1500})
    receiver.wait_for("charge.refunded", "refund.created")
    receiver.clear()
    resp = api("POST", f"/_standin/refunds/{refund.id}/fail")
    assert resp.status_code == 200
    assert (resp.json()["status"], resp.json()["failure_reason"]) == (
        "failed",
        "expired_or_canceled_card",
    )
    events = receiver.wait_for("refund.updated", "refund.failed", "charge.refund.updated")
    updated = events[0]["data"]
    assert updated["object"]["id"] == refund.id and updated["object"]["status"] == "failed"
    assert updated["previous_attributes"]["status"] == "succeeded"
    charge = client.v1.charges.retrieve(paid["id"])
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    # the whole amount can be refunded again; a failed refund cannot fail twice
    assert client.v1.refunds.create(params={"charge": paid["id"]}).amount == 5000
    assert api("POST", f"/_standin/refunds/{refund.id}/fail").status_code == 400


def test_a_refund_expands_its_charge_on_a_connected_account(
    standin_url, make_params, pay, receiver
):
    connected = stripe.StripeClient(
        "sk_test_standin",
        stripe_account="acct_1Refunds",
        base_addresses={"api": standin_url},
        max_network_retries=0,
    )
    session = connected.v1.checkout.sessions.create(params=make_params(amount=3000))
    pay(session.url)
    charge = receiver.wait_for("charge.succeeded")[0]["data"]["object"]
    receiver.clear()
    refund = connected.v1.refunds.create(
        params={"payment_intent": charge["payment_intent"], "amount": 1000, "expand": ["charge"]},
        options={"idempotency_key": "refund-once"},
    )
    assert (refund.charge.id, refund.charge.amount_refunded) == (charge["id"], 1000)
    # the same call again (a retry) is the same refund, not a second one
    again = connected.v1.refunds.create(
        params={"payment_intent": charge["payment_intent"], "amount": 1000, "expand": ["charge"]},
        options={"idempotency_key": "refund-once"},
    )
    assert again.id == refund.id
    assert connected.v1.charges.retrieve(charge["id"]).amount_refunded == 1000
    events = receiver.wait_for("charge.refunded", "refund.created")
    assert {e.get("account") for e in events} == {"acct_1Refunds"}
