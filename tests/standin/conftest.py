"""Fixtures for the Stripe stand-in's own tests. Django-free on purpose (run with or without
pytest-django): the stand-in runs in a background thread, webhooks go to a tiny local receiver
that verifies every signature with ``stripe.Webhook.construct_event``."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
import requests
import stripe

from standin import core
from standin.server import run_in_thread

stripe.enable_telemetry = False  # else stripe-python writes ~/.config/stripe/telemetry_id
SECRET = "whsec_standin_tests"


class Receiver:
    """Collects webhook deliveries; ``fail_next`` answers 500 that many times first."""

    def __init__(self):
        self.events: list[dict] = []
        self.bad_signatures = 0
        self.attempts = 0
        self.fail_next = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.attempts += 1
                    failing = receiver.fail_next > 0
                    if failing:
                        receiver.fail_next -= 1
                if failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    event = stripe.Webhook.construct_event(
                        body, self.headers["Stripe-Signature"], SECRET
                    )
                except (ValueError, stripe.SignatureVerificationError):
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                assert event.id
                with receiver.lock:
                    receiver.events.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def clear(self):
        with self.lock:
            self.events.clear()
            self.bad_signatures = self.attempts = self.fail_next = 0

    def types(self) -> list[str]:
        with self.lock:
            return [e["type"] for e in self.events]

    def wait_for(self, *expected: str, timeout: float = 5.0) -> list[dict]:
        """Wait until every expected type arrived (as a multiset); return the events of the
        expected types, in arrival order."""
        deadline = time.monotonic() + timeout
        while True:
            types = self.types()
            missing = list(expected)
            for t in types:
                if t in missing:
                    missing.remove(t)
            if not missing:
                with self.lock:
                    return [e for e in self.events if e["type"] in expected]
            if time.monotonic() > deadline:
                raise AssertionError(f"missing events {missing}; got {types}")
            time.sleep(0.02)

    def in_order(self, *expected: str) -> bool:
        """``expected`` types arrived in this relative order (as a subsequence)."""
        it = iter(self.types())
        return all(t in it for t in expected)

    def of_type(self, event_type: str) -> list[dict]:
        with self.lock:
            return [e for e in self.events if e["type"] == event_type]


@pytest.fixture(scope="session")
def standin_url():
    core.settings.update(webhook_delay=0.01, webhook_retries=[0.2, 0.4, 0.8], sepa_delay=0.4)
    base_url, stop = run_in_thread(port=0)
    yield base_url
    stop()


@pytest.fixture(scope="session")
def receiver(standin_url):
    rec = Receiver()
    resp = requests.post(
        f"{standin_url}/_config/webhooks/tests", data={"url": rec.url, "secret": SECRET}, timeout=5
    )
    assert resp.status_code == 200
    yield rec
    requests.delete(f"{standin_url}/_config/webhooks/tests", timeout=5)
    rec.server.shutdown()


@pytest.fixture(scope="session")
def client(standin_url):
    return stripe.StripeClient(
        "sk_test_standin", base_addresses={"api": standin_url}, max_network_retries=0
    )


@pytest.fixture(autouse=True)
def _fresh(standin_url, receiver):
    assert requests.delete(f"{standin_url}/_config/data", timeout=5).status_code == 200
    # Let deliveries already in flight from the previous test land before clearing.
    assert requests.post(f"{standin_url}/_standin/webhooks/flush", timeout=15).status_code == 200
    receiver.clear()
    yield
    assert receiver.bad_signatures == 0


@pytest.fixture
def api(standin_url):
    """Raw HTTP access for things stripe-python has no method for (test controls)."""
    session = requests.Session()
    session.auth = ("sk_test_standin", "")

    def call(method: str, path: str, **kwargs):
        return session.request(method, standin_url + path, timeout=5, **kwargs)

    return call


@pytest.fixture
def make_params():
    """Checkout Session params as our app sends them."""
    return _checkout_params


@pytest.fixture
def pay():
    """POST the hosted page's form (card 4242 by default); no redirect following."""
    return _pay


def _checkout_params(mode="payment", amount=2500, **extra) -> dict:
    price_data = {"currency": "eur", "unit_amount": amount, "product_data": {"name": "Donazione"}}
    if mode == "subscription":
        price_data["recurring"] = {"interval": "month"}
    params = {
        "mode": mode,
        "line_items": [{"price_data": price_data, "quantity": 1}],
        "success_url": "https://trama.example/grazie?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://trama.example/dona",
        "customer_email": "donor@example.com",
        "client_reference_id": "donation-42",
        "metadata": {"donation": "42"},
    }
    params.update(extra)
    return params


def _pay(session_url: str, **form) -> requests.Response:
    data = {"method": "card", "card_number": "4242 4242 4242 4242", "name": "Jenny Rosen"}
    data.update(form)
    return requests.post(session_url, data=data, allow_redirects=False, timeout=5)
