"""The gifts export carries the receipt number, the Stripe charge and payout, fee and net."""

import csv
import datetime
import io

import pytest
from openpyxl import load_workbook

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


@pytest.mark.parametrize(
    "url, amount_heading",
    [
        ("/admin/crm/receipts/", "Amount (EUR)"),
        ("/admin/crm/recurring-plans/", "Amount (EUR)"),
        ("/admin/crm/payouts/", "Amount (EUR)"),
    ],
)
def test_list_exports_give_the_accountant_numbers_and_dates(
    client, users, rows, url, amount_heading
):
    """A list's CSV and XLSX: amounts are numbers in euros a spreadsheet sums (`12345,67`,
    never the text '€ 12.345,67'), dates and times are dates a spreadsheet sorts."""
    client.force_login(users["tesoreria-oltre-il-ponte"])
    text = b"".join(client.get(url, {"export": "csv"}).streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    amounts = table[0].index(amount_heading)
    assert {row[amounts] for row in table[1:]} <= {"12345,67", "10,00"}, table

    response = client.get(url, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0][amounts] == amount_heading
    assert all(isinstance(line[amounts], (int, float)) for line in lines[1:]), lines
    if url == "/admin/crm/receipts/":  # issued at a time: a date and time, not its text
        assert isinstance(lines[1][table[0].index("Issued at")], datetime.datetime), lines
