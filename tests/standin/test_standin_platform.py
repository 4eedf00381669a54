"""Connect accounts, webhook signatures and retries, idempotency, reset, subprocess launcher."""

import http.server
import json
import threading
import time

import pytest
import requests
import stripe

from standin import core
from standin.events import sign

pytestmark = []


def test_signature_scheme_matches_stripe_python():
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "ping"}).encode()
    header = sign(payload, "whsec_x", int(time.time()))
    assert stripe.Webhook.construct_event(payload, header, "whsec_x").id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, "whsec_other")


def test_connect_account_propagates(standin_url, make_params, pay, receiver, client):
    connected = stripe.StripeClient(
        "sk_test_standin",
        stripe_account="acct_1Trama",
        base_addresses={"api": standin_url},
        max_network_retries=0,
    )
    session = connected.v1.checkout.sessions.create(params=make_params("subscription"))
    assert pay(session.url).status_code == 303
    receiver.wait_for("checkout.session.completed", "invoice.paid", "customer.created")
    assert {e.get("account") for e in receiver.events} == {"acct_1Trama"}
    # Lists are per account, as on Stripe.
    assert [s.id for s in connected.v1.checkout.sessions.list().data] == [session.id]
    assert client.v1.checkout.sessions.list().data == []
    sub_id = connected.v1.checkout.sessions.retrieve(session.id).subscription
    receiver.clear()
    connected.v1.subscriptions.cancel(sub_id)
    assert receiver.wait_for("customer.subscription.deleted")[0]["account"] == "acct_1Trama"
    # Refunds and disputes of a connected account's charge carry the account too.
    receiver.clear()
    one_off = connected.v1.checkout.sessions.create(params=make_params())
    pay(one_off.url)
    charge = receiver.wait_for("charge.succeeded")[0]["data"]["object"]
    connected.v1.refunds.create(params={"charge": charge["id"], "amount": 100})
    assert receiver.wait_for("refund.created")[-1]["account"] == "acct_1Trama"


def test_webhook_retried_when_receiver_fails(client, make_params, receiver):
    receiver.fail_next = 2
    session = client.v1.checkout.sessions.create(params=make_params())
    client.v1.checkout.sessions.expire(session.id)
    event = receiver.wait_for("checkout.session.expired", timeout=5)[0]
    assert receiver.attempts == 3
    # The stand-in counts the delivery once it reads our 200 (other tests' endpoints may
    # still be pending).
    deadline = time.monotonic() + 2
    while (stored := client.v1.events.retrieve(event["id"])).pending_webhooks >= event[
        "pending_webhooks"
    ] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stored.type == "checkout.session.expired"
    assert stored.pending_webhooks <= event["pending_webhooks"] - 1


class SlowReceiver:
    """Answers 200 after `pause` seconds and counts how many deliveries it holds at once."""

    def __init__(self, pause):
        self.lock = threading.Lock()
        self.in_flight = self.most = self.received = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.in_flight += 1
                    receiver.most = max(receiver.most, receiver.in_flight)
                time.sleep(pause)
                with receiver.lock:
                    receiver.in_flight -= 1
                    receiver.received += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.parametrize("concurrency,most", [(1, 1), (4, 4)])
def test_webhook_concurrency_per_endpoint(standin_url, client, concurrency, most, monkeypatch):
    # given an endpoint that takes 0.2 s to answer, and deliveries `concurrency` at a time
    monkeypatch.setitem(core.settings, "webhook_concurrency", concurrency)
    slow = SlowReceiver(pause=0.2)
    name = f"slow-{concurrency}"
    requests.post(
        f"{standin_url}/_config/webhooks/{name}",
        data={"url": slow.url, "secret": "whsec_slow", "events[]": "customer.created"},
        timeout=5,
    ).raise_for_status()
    try:
        # when eight events are emitted at once
        for i in range(8):
            client.v1.customers.create(params={"email": f"c{i}@example.org"})
        assert requests.post(f"{standin_url}/_standin/webhooks/flush", timeout=15).ok
        # then all arrive, never more than `concurrency` at once (and that many when allowed)
        assert (slow.received, slow.most) == (8, most)
    finally:
        requests.delete(f"{standin_url}/_config/webhooks/{name}", timeout=5)
        slow.server.shutdown()


def test_events_api_lists_newest_first(client, make_params, pay, receiver):
    session = client.v1.checkout.sessions.create(params=make_params())
    pay(session.url)
    receiver.wait_for("checkout.session.completed")
    listed = client.v1.events.list(params={"limit": 3})
    assert listed.data[0].type == "checkout.session.completed"


def test_idempotency_key_replays(client, make_params):
    params = make_params()
    first = client.v1.checkout.sessions.create(
        params=params, options={"idempotency_key": "same-key"}
    )
    second = client.v1.checkout.sessions.create(
        params=params, options={"idempotency_key": "same-key"}
    )
    assert first.id == second.id
    assert len(client.v1.checkout.sessions.list().data) == 1


def test_reset_clears_everything(client, make_params, api):
    session = client.v1.checkout.sessions.create(params=make_params())
    client.v1.prices.create(
        params={"currency": "eur", "unit_amount": 100, "product_data": {"name": "x"}}
    )
    assert api("DELETE", "/_config/data").status_code == 200
    assert client.v1.checkout.sessions.list().data == []
    assert client.v1.prices.list().data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session.id)


def test_requires_api_key(standin_url):
    resp = requests.get(f"{standin_url}/v1/checkout/sessions", timeout=5)
    assert resp.status_code == 401


def test_subprocess_launcher(tmp_path):
    from standin.server import start_subprocess

    base_url, stop = start_subprocess(port=0, log_path=tmp_path / "standin.log")
    try:
        client = stripe.StripeClient(
            "sk_test_x", base_addresses={"api": base_url}, max_network_retries=0
        )
        price = client.v1.prices.create(
            params={"currency": "eur", "unit_amount": 500, "product_data": {"name": "Quota"}}
        )
        assert price.id.startswith("price_")
    finally:
        stop()
    log = (tmp_path / "standin.log").read_text()
    assert "standin listening on" in log and "POST /v1/prices" in log
