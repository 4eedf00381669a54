"""Paying on the hosted page: cards, declines, SEPA, subscriptions, and the events sent."""

import requests

pytestmark = []


def test_card_payment_flow_and_events(client, make_params, pay, receiver):
    session = client.v1.checkout.sessions.create(
        params=make_params(
            payment_intent_data={"metadata": {"campaign": "winter"}, "description": "Dono"}
        )
    )
    resp = pay(session.url)
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"https://trama.example/grazie?session_id={session.id}"

    events = receiver.wait_for(
        "payment_intent.succeeded", "charge.succeeded", "checkout.session.completed"
    )
    assert receiver.in_order(
        "payment_intent.succeeded", "charge.succeeded", "checkout.session.completed"
    )
    completed = receiver.of_type("checkout.session.completed")[0]
    assert completed["api_version"] == "2026-10-28.endive"
    assert completed["livemode"] is False and "account" not in completed
    assert completed["request"] == {"id": None, "idempotency_key": None}
    assert isinstance(completed["created"], int) and completed["pending_webhooks"] >= 1
    obj = completed["data"]["object"]
    assert (obj["status"], obj["payment_status"]) == ("complete", "paid")
    assert obj["customer"] is None  # customer_creation=if_required
    assert obj["customer_details"]["email"] == "donor@example.com"
    assert obj["metadata"] == {"donation": "42"}
    assert obj["client_reference_id"] == "donation-42"
    assert obj["payment_intent"].startswith("pi_")

    charge_event = next(e for e in events if e["type"] == "charge.succeeded")
    charge = charge_event["data"]["object"]
    assert charge["id"].startswith("ch_") and charge["balance_transaction"].startswith("txn_")
    assert charge["payment_intent"] == obj["payment_intent"]
    assert charge["metadata"] == {"campaign": "winter"} and charge["description"] == "Dono"
    assert charge["payment_method_details"]["card"]["last4"] == "4242"
    assert charge["billing_details"]["email"] == "donor@example.com"

    pi = client.v1.payment_intents.retrieve(
        obj["payment_intent"], params={"expand": ["latest_charge"]}
    )
    assert pi.status == "succeeded" and pi.amount_received == 2500
    assert pi.metadata.to_dict() == {"campaign": "winter"} and pi.latest_charge.id == charge["id"]
    assert "charges" not in pi and "invoice" not in pi
    txn = client.v1.balance_transactions.retrieve(charge["balance_transaction"])
    assert txn.amount == 2500 and txn.fee == 63 and txn.net == 2437

    again = client.v1.checkout.sessions.retrieve(session.id)
    assert again.status == "complete" and again.url is None
    assert "Payment complete" in requests.get(session.url, timeout=5).text


def test_customer_creation_always(client, make_params, pay, receiver):
    session = client.v1.checkout.sessions.create(params=make_params(customer_creation="always"))
    pay(session.url)
    receiver.wait_for("customer.created", "checkout.session.completed")
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert done.customer.startswith("cus_")
    assert client.v1.customers.retrieve(done.customer).email == "donor@example.com"
    assert client.v1.payment_intents.retrieve(done.payment_intent).customer == done.customer


def test_declined_card(client, make_params, pay, receiver):
    session = client.v1.checkout.sessions.create(params=make_params())
    resp = pay(session.url, card_number="4000 0000 0000 0002")
    assert resp.status_code == 402
    assert 'id="error"' in resp.text and "Your card was declined." in resp.text
    failed = receiver.wait_for("payment_intent.payment_failed", "charge.failed")
    pi = next(e for e in failed if e["type"] == "payment_intent.payment_failed")["data"]["object"]
    assert pi["status"] == "requires_payment_method"
    assert pi["last_payment_error"]["decline_code"] == "generic_decline"
    assert pi["last_payment_error"]["code"] == "card_declined"
    still = client.v1.checkout.sessions.retrieve(session.id)
    assert (still.status, still.payment_status) == ("open", "unpaid")
    assert still.payment_intent == pi["id"]
    # A retry with a good card succeeds on the same PaymentIntent.
    assert pay(session.url).status_code == 303
    receiver.wait_for("checkout.session.completed")
    assert client.v1.payment_intents.retrieve(pi["id"]).status == "succeeded"


def test_invalid_card_number(client, make_params, pay):
    session = client.v1.checkout.sessions.create(params=make_params())
    resp = pay(session.url, card_number="1234")
    assert resp.status_code == 402 and "Your card number is invalid." in resp.text


def test_sepa_async_success(client, make_params, pay, receiver):
    session = client.v1.checkout.sessions.create(params=make_params())
    resp = pay(session.url, method="sepa_debit", iban="DE89 3704 0044 0532 0130 00")
    assert resp.status_code == 303
    receiver.wait_for("checkout.session.completed")
    first = receiver.of_type("checkout.session.completed")[0]["data"]["object"]
    assert (first["status"], first["payment_status"]) == ("complete", "unpaid")
    assert client.v1.payment_intents.retrieve(first["payment_intent"]).status == "processing"
    receiver.wait_for("checkout.session.async_payment_succeeded")
    assert receiver.in_order(
        "payment_intent.processing",
        "charge.pending",
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
        "checkout.session.async_payment_succeeded",
    )
    later = receiver.of_type("checkout.session.async_payment_succeeded")[0]["data"]["object"]
    assert later["payment_status"] == "paid"
    charge = receiver.of_type("charge.succeeded")[0]["data"]["object"]
    assert charge["payment_method_details"]["type"] == "sepa_debit"


def test_sepa_async_failure(client, make_params, pay, receiver):
    session = client.v1.checkout.sessions.create(params=make_params())
    pay(session.url, method="sepa_debit", iban="DE62370400440532013001")
    receiver.wait_for("checkout.session.async_payment_failed", "payment_intent.payment_failed")
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "unpaid"


def test_subscription_flow(client, make_params, pay, receiver):
    session = client.v1.checkout.sessions.create(
        params=make_params("subscription", subscription_data={"metadata": {"donor": "7"}})
    )
    assert pay(session.url).status_code == 303
    expected = [
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.succeeded",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    ]
    receiver.wait_for(*expected)
    assert receiver.in_order(*expected)

    done = receiver.of_type("checkout.session.completed")[0]["data"]["object"]
    assert done["subscription"].startswith("sub_") and done["invoice"].startswith("in_")
    assert done["customer"].startswith("cus_") and done["payment_intent"] is None
    assert done["payment_status"] == "paid"

    sub = receiver.of_type("customer.subscription.created")[0]["data"]["object"]
    assert sub["status"] == "active" and sub["metadata"] == {"donor": "7"}
    item = sub["items"]["data"][0]
    assert item["price"]["unit_amount"] == 2500 and item["current_period_end"] > sub["start_date"]
    assert "current_period_end" not in sub  # moved to items in 2025-03-31

    invoice = receiver.of_type("invoice.paid")[0]["data"]["object"]
    assert invoice["id"] == done["invoice"] and invoice["status"] == "paid"
    assert invoice["billing_reason"] == "subscription_create"
    assert invoice["amount_paid"] == 2500 and invoice["amount_remaining"] == 0
    assert invoice["customer"] == done["customer"]
    assert invoice["parent"]["type"] == "subscription_details"
    assert invoice["parent"]["subscription_details"] == {
        "metadata": {"donor": "7"},
        "subscription": done["subscription"],
    }
    assert "subscription" not in invoice and "charge" not in invoice
    line = invoice["lines"]["data"][0]
    assert (
        line["amount"] == 2500
        and line["parent"]["subscription_item_details"]["subscription"] == done["subscription"]
    )
    assert line["pricing"]["price_details"]["price"] == item["price"]["id"]

    # The invoice's PaymentIntent/charge: via invoice payments (includable `payments`).
    full = client.v1.invoices.retrieve(
        invoice["id"], params={"expand": ["payments.data.payment.payment_intent"]}
    )
    payment = full.payments.data[0]
    assert payment.status == "paid" and payment.amount_paid == 2500
    charge = receiver.of_type("charge.succeeded")[0]["data"]["object"]
    assert payment.payment.payment_intent.latest_charge == charge["id"]
    listed = client.v1.invoice_payments.list(params={"invoice": invoice["id"]})
    assert listed.data[0].id == payment.id


def test_sepa_subscription(client, make_params, pay, receiver):
    session = client.v1.checkout.sessions.create(params=make_params("subscription"))
    assert pay(session.url, method="sepa_debit", iban="DE89370400440532013000").status_code == 303
    receiver.wait_for("checkout.session.completed", "checkout.session.async_payment_succeeded")
    assert receiver.in_order(
        "checkout.session.completed", "invoice.paid", "checkout.session.async_payment_succeeded"
    )
