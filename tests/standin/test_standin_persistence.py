"""The stand-in keeps its state across restarts when given a state file (as `make demo` does):
a charge made before a restart can be refunded after it, and a subscription changed, whether
the stand-in was stopped (SIGTERM: it saves on the way out) or killed (SIGKILL: what its
periodic save had written survives). Without a state file it starts empty every time."""

import pickle
import signal
import time

import pytest
import requests
import stripe

from standin.server import start_subprocess

pytestmark = []


def _checkout_params(mode="payment", amount=2500):
    price_data = {"currency": "eur", "unit_amount": amount, "product_data": {"name": "Dono"}}
    if mode == "subscription":
        price_data["recurring"] = {"interval": "month"}
    return {
        "mode": mode,
        "line_items": [{"price_data": price_data, "quantity": 1}],
        "success_url": "https://trama.example/grazie?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://trama.example/dona",
        "customer_email": "donor@example.com",
    }


def _pay(session_url):
    data = {"method": "card", "card_number": "4242 4242 4242 4242", "name": "Jenny Rosen"}
    return requests.post(session_url, data=data, allow_redirects=False, timeout=5)


def _new_price(sub, amount):
    item = sub["items"].data[0]
    price_data = {
        "currency": "eur",
        "product": item.price.product,
        "unit_amount": amount,
        "recurring": {"interval": "month"},
    }
    return {"items": [{"id": item.id, "price_data": price_data}], "proration_behavior": "none"}


def _client(base_url):
    return stripe.StripeClient(
        "sk_test_persist", base_addresses={"api": base_url}, max_network_retries=0
    )


def _gift_and_plan(client):
    """A one-off gift and a monthly plan, both paid on the hosted Checkout page."""
    once = client.v1.checkout.sessions.create(params=_checkout_params(amount=5000))
    assert _pay(once.url).status_code == 303
    intent = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(once.id).payment_intent
    )
    monthly = client.v1.checkout.sessions.create(params=_checkout_params("subscription"))
    assert _pay(monthly.url).status_code == 303
    sub = client.v1.subscriptions.retrieve(
        client.v1.checkout.sessions.retrieve(monthly.id).subscription
    )
    return intent.latest_charge, sub


def _refund_and_change(client, charge_id, sub):
    refund = client.v1.refunds.create(params={"charge": charge_id, "amount": 1050})
    assert (refund.status, refund.amount, refund.charge) == ("succeeded", 1050, charge_id)
    changed = client.v1.subscriptions.update(sub.id, params=_new_price(sub, 4000))
    assert changed.status == "active"
    assert changed["items"].data[0].price.unit_amount == 4000


def test_a_stopped_stand_in_refunds_and_changes_what_it_made_before(tmp_path):
    state = tmp_path / "var" / "standin-state.pickle"
    base_url, stop = start_subprocess(state_file=state)
    try:
        charge_id, sub = _gift_and_plan(_client(base_url))
    finally:
        stop()  # SIGTERM: saved on the way out
    assert state.exists() and not list(state.parent.glob("*.tmp"))

    base_url, stop = start_subprocess(state_file=state)
    try:
        client = _client(base_url)
        _refund_and_change(client, charge_id, sub)
        # and lists still hold the earlier objects with the new ones, newest first
        later = client.v1.refunds.create(params={"charge": charge_id, "amount": 100})
        refunds = client.v1.refunds.list(params={"charge": charge_id}).data
        assert [r.amount for r in refunds] == [100, 1050] and refunds[0].id == later.id
    finally:
        stop()

    # and a third start still has everything, the refund included
    base_url, stop = start_subprocess(state_file=state)
    try:
        charge = _client(base_url).v1.charges.retrieve(charge_id)
        assert charge.amount_refunded == 1150
    finally:
        stop()


def test_a_killed_stand_in_keeps_what_its_periodic_save_wrote(tmp_path):
    state = tmp_path / "standin-state.pickle"
    base_url, stop = start_subprocess(state_file=state, env={"STANDIN_SAVE_INTERVAL": "0.2"})
    try:
        charge_id, sub = _gift_and_plan(_client(base_url))
        # wait (bounded) until the periodic save has written both (localstripe's store keys
        # are "object:id"; the wait used to look for bare ids and always ran its 15 s out)
        wanted = {f"charge:{charge_id}", f"subscription:{sub.id}"}
        deadline = time.monotonic() + 15
        saved = False
        while not saved and time.monotonic() < deadline:
            saved = state.exists() and wanted <= set(pickle.loads(state.read_bytes())["store"])
            time.sleep(0.1)
        assert saved, "the periodic save never wrote the gift and the plan"
    finally:
        stop(signal.SIGKILL)  # no chance to save on the way out

    base_url, stop = start_subprocess(state_file=state)
    try:
        _refund_and_change(_client(base_url), charge_id, sub)
    finally:
        stop()


def test_without_a_state_file_a_restart_starts_empty(tmp_path):
    base_url, stop = start_subprocess()
    try:
        charge_id, _sub = _gift_and_plan(_client(base_url))
    finally:
        stop()
    base_url, stop = start_subprocess()
    try:
        with pytest.raises(stripe.InvalidRequestError, match="No such charge"):
            _client(base_url).v1.refunds.create(params={"charge": charge_id})
    finally:
        stop()
    assert not list(tmp_path.iterdir())


def test_a_corrupt_state_file_is_refused_loudly_not_silently_emptied(tmp_path):
    state = tmp_path / "standin-state.pickle"
    state.write_bytes(b"not a pickle")
    with pytest.raises(RuntimeError, match="state"):
        start_subprocess(state_file=state)
    assert state.read_bytes() == b"not a pickle"
