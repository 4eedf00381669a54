"""Recording offline gifts; exports stream and open as text in a spreadsheet."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.models import ModelLogEntry

from crm.exports import neutralise
from crm.models import Donation, Donor
from crm.offline import record_offline_gift


@pytest.fixture
def formula_donor(demo):
    return Donor.objects.create(
        network=demo["oltre-il-ponte"],
        first_name='=HYPERLINK("http://x")',
        last_name="+39",
        email="f@example.org",
    )


def test_recording_a_bank_transfer_logs_it(demo, users, formula_donor):
    treasurer = users["tesoreria-oltre-il-ponte"]
    gift = record_offline_gift(
        network=demo["oltre-il-ponte"],
        donor=formula_donor,
        amount_cents=123450,
        received_on=timezone.localdate(),
        method=Donation.Method.BANK_TRANSFER,
        reference=" CRO 123 ",
        recorded_by=treasurer,
    )
    assert gift.status == "succeeded" and gift.channel == "offline" and gift.reference == "CRO 123"
    assert ModelLogEntry.objects.filter(object_id=str(gift.pk), user=treasurer).exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"method": Donation.Method.CARD}, "method"),
        ({"received_on": datetime.date.today() + datetime.timedelta(days=3)}, "received_on"),
        ({"amount_cents": 0}, "amount"),
        ({"amount_cents": 2_147_483_648}, "amount"),  # more than a gift keeps
        ({"network": "other"}, "donor"),
    ],
)
def test_bad_offline_gifts_are_refused(demo, formula_donor, change, field):
    kwargs = {
        "network": demo["oltre-il-ponte"],
        "donor": formula_donor,
        "amount_cents": 1000,
        "received_on": timezone.localdate(),
        "method": Donation.Method.CASH,
    }
    kwargs.update(change)
    if kwargs["network"] == "other":
        kwargs["network"] = demo["valle-serena"]
    with pytest.raises(ValidationError) as excinfo:
        record_offline_gift(**kwargs)
    assert field in excinfo.value.message_dict
    assert not Donation.objects.exists()


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(text):
    assert neutralise(text) == "'" + text
    assert neutralise("Mario") == "Mario" and neutralise(5) == 5


def test_formula_donor_exports_as_text_in_csv_and_xlsx(client, users, formula_donor):
    # given a gift from a donor whose name is a formula
    Donation.objects.create(
        network=formula_donor.network,
        donor=formula_donor,
        amount_cents=123450,
        status="succeeded",
        method="bank_transfer",
        channel="offline",
    )
    client.force_login(users["tesoreria-oltre-il-ponte"])
    # when the treasurer exports donations
    csv_response = client.get("/admin/crm/donations/?export=csv")
    xlsx_response = client.get("/admin/crm/donations/?export=xlsx")
    # then the CSV cell starts with an apostrophe and amounts are Italian decimals
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][2] == '\'=HYPERLINK("http://x")' and rows[1][3] == "'+39"
    assert rows[1][7] == "1234,50"
    # and the XLSX cell is a string, not a formula
    sheet = load_workbook(io.BytesIO(b"".join(xlsx_response.streaming_content))).active
    cell = sheet.cell(row=2, column=3)
    assert cell.data_type == "s" and cell.value == '\'=HYPERLINK("http://x")'
    assert float(sheet.cell(row=2, column=8).value) == 1234.50


def test_donation_export_follows_the_filters(client, users, formula_donor):
    for method in ("cash", "bank_transfer"):
        Donation.objects.create(
            network=formula_donor.network,
            donor=formula_donor,
            amount_cents=1000,
            status="succeeded",
            method=method,
            channel="offline",
        )
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.get("/admin/crm/donations/?method=cash&export=csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "cash" in lines[1]


def test_yearly_summary_separates_deductible(client, users, formula_donor):
    # Deductible: what the valid receipts cover of traceable gifts (issue 19); cash never is.
    from crm.receipts import issue_receipt

    year = timezone.localdate().year
    for method, cents in (("cash", 1000), ("bank_transfer", 5000)):
        gift = Donation.objects.create(
            network=formula_donor.network,
            donor=formula_donor,
            amount_cents=cents,
            status="succeeded",
            method=method,
            channel="offline",
        )
        issue_receipt([gift], enqueue_render=False)
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.get(f"/admin/crm/donations/export/summary/?year={year}")
    rows = list(
        csv.reader(
            io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"
        )
    )
    assert rows[1][6:] == ["2", "60,00", "50,00"]


def test_record_gift_form_in_the_admin(client, users, formula_donor):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.post(
        "/admin/crm/donations/new/",
        {
            "donor": formula_donor.pk,
            "amount": "1.234,50",
            "received_on": "2026-01-15",
            "method": "bank_transfer",
            "reference": "TRN 9",
        },
    )
    assert response.status_code == 302
    gift = Donation.objects.get()
    assert gift.amount_cents == 123450 and gift.recorded_by.username == "tesoreria-oltre-il-ponte"


def test_record_gift_form_refuses_another_networks_donor(client, users, formula_donor):
    client.force_login(users["tesoreria-valle-serena"])
    response = client.post(
        "/admin/crm/donations/new/",
        {
            "donor": formula_donor.pk,
            "amount": "10",
            "received_on": "2026-01-15",
            "method": "cash",
        },
    )
    assert response.status_code == 200 and not Donation.objects.exists()


def test_a_receipt_issued_with_a_recorded_gift_says_who_issued_it(demo, users, formula_donor):
    # given a treasurer recording a bank transfer and ticking "Issue a receipt"
    treasurer = users["tesoreria-oltre-il-ponte"]
    gift = record_offline_gift(
        network=demo["oltre-il-ponte"],
        donor=formula_donor,
        amount_cents=5000,
        received_on=timezone.localdate(),
        method=Donation.Method.BANK_TRANSFER,
        wants_receipt=True,
        recorded_by=treasurer,
    )
    # then the receipt's "Issued by" names them, as when they issue it from the gift's page
    assert gift.receipts.get().issued_by == treasurer
