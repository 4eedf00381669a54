"""Balance transactions with Stripe's Italian fees, disputes' withdrawals and payouts."""

from standin.balance import DISPUTE_FEE


def test_fees_disputes_and_a_payout_of_the_balance(client, api, make_params, pay, receiver):
    # given two card payments of € 50
    charges = []
    for _ in range(2):
        session = client.v1.checkout.sessions.create(params=make_params(amount=5000))
        pay(session.url)
        charges.append(receiver.wait_for("charge.succeeded")[-1]["data"]["object"])
        receiver.clear()
    intent = client.v1.payment_intents.retrieve(
        charges[0]["payment_intent"], params={"expand": ["latest_charge.balance_transaction"]}
    )
    txn = intent.latest_charge.balance_transaction
    # then each carries Stripe's standard EEA card fee, 1.5 % + € 0.25
    assert (txn.amount, txn.fee, txn.net, txn.type) == (5000, 100, 4900, "charge")
    assert txn.reporting_category == "charge" and txn.available_on > txn.created
    # when one is refunded in part and the other lost to a dispute
    client.v1.refunds.create(params={"charge": charges[0]["id"], "amount": 1000})
    dispute = api("POST", f"/_standin/charges/{charges[1]['id']}/dispute").json()
    assert dispute["balance_transactions"][0]["fee"] == DISPUTE_FEE
    api("POST", f"/_standin/disputes/{dispute['id']}/close", data={"status": "lost"})
    # and the balance is paid out
    payout = api("POST", "/_standin/payouts").json()
    expected = 2 * 4900 - 1000 - 5000 - DISPUTE_FEE
    assert (payout["amount"], payout["status"], payout["automatic"]) == (expected, "paid", True)
    paid = receiver.wait_for("payout.paid", "payout.reconciliation_completed")
    assert paid[0]["data"]["object"]["id"] == payout["id"]
    # then listing by payout gives its transactions, sources expanded, its own included
    listed = client.v1.balance_transactions.list(
        params={"payout": payout["id"], "expand": ["data.source"], "limit": 2}
    )
    lines = list(listed.auto_paging_iter())
    kinds = sorted((t.type, t.reporting_category) for t in lines)
    assert kinds == [
        ("adjustment", "dispute"),
        ("charge", "charge"),
        ("charge", "charge"),
        ("payout", "payout"),
        ("refund", "refund"),
    ]
    assert sum(t.net for t in lines if t.type != "payout") == payout["amount"]
    refund = next(t for t in lines if t.type == "refund")
    assert refund.source.object == "refund" and refund.source.charge == charges[0]["id"]
    # and nothing is left to pay out
    response = api("POST", "/_standin/payouts")
    assert response.status_code == 400
    assert client.v1.payouts.retrieve(payout["id"]).trace_id.value
    assert [p.id for p in client.v1.payouts.list().data] == [payout["id"]]
