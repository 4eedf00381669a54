"""The gifts export carries the receipt number, the Stripe charge and payout, fee and net."""

import csv
import io

from crm.models import Donation, Receipt


def test_gift_export_carries_receipt_charge_payout_fee_and_net(client, users, rows):
    donation = rows["a"]["donation"]
    Donation.objects.filter(pk=donation.pk).update(
        stripe_charge_id="ch_test_money", stripe_payout_id="po_test_money", fee_cents=1234
    )
    receipt = rows["a"]["receipt"]
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.get("/admin/crm/donations/?export=csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, line = table[0], next(r for r in table[1:] if r[0] == str(donation.pk))
    found = dict(zip(header, line, strict=True))
    assert found["Receipt number"] == receipt.number
    assert found["Stripe charge"] == "ch_test_money"
    assert found["Stripe payout"] == "po_test_money"
    assert found["Fee (EUR)"] == "12,34"
    assert found["Net (EUR)"] == "12333,33"  # € 12.345,67 less the fee
    # a voided receipt is not the gift's receipt any more
    Receipt.objects.filter(pk=receipt.pk).update(status=Receipt.Status.VOID)
    text = b"".join(client.get("/admin/crm/donations/?export=csv").streaming_content)
    table = list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))
    line = next(r for r in table[1:] if r[0] == str(donation.pk))
    assert dict(zip(table[0], line, strict=True))["Receipt number"] == ""
