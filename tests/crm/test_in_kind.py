"""Gifts in kind: goods recorded with their value and documents, their receipt's wording, and
never counted as money (figures, payouts, the Agenzia data of money gifts)."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm import receipts
from crm.in_kind import record_in_kind_gift
from crm.merging import merge_donors
from crm.models import Donation, Donor, InKindGift, Receipt
from crm.offline import record_offline_gift
from crm.pdf import render_receipt
from crm.tax_data import tax_data
from tests.pdfs import pdf_text

TODAY = timezone.localdate()


@pytest.fixture
def network(demo):
    return demo["oltre-il-ponte"]


@pytest.fixture
def donor(network):
    return Donor.objects.create(
        network=network,
        first_name="Gianna",
        last_name="Brambilla",
        email="gianna@example.org",
        codice_fiscale="RSSMRA85T10A562S",
    )


def _goods(network, donor, **overrides):
    kwargs = {
        "network": network,
        "donor": donor,
        "description": "12 notebook computers, used, 8 GB",
        "value_cents": 240050,
        "valuation": InKindGift.Valuation.INVOICE,
        "valuation_note": "Invoice 2026/118",
        "received_on": TODAY,
    }
    kwargs.update(overrides)
    return record_in_kind_gift(**kwargs)


def test_goods_with_documents_and_receipt_state_what_the_decree_asks(network, donor, users):
    treasurer = users["tesoreria-oltre-il-ponte"]
    declaration = SimpleUploadedFile("dichiarazione.pdf", b"%PDF-1.4 declaration")
    gift = _goods(
        network, donor, documents=[declaration], wants_receipt=True, recorded_by=treasurer
    )

    document = gift.documents.get()
    assert document.name == "dichiarazione.pdf"
    assert document.file.name.startswith(f"in-kind/{network.slug}/")
    assert "dichiarazione" not in document.file.name  # a random name on the private storage
    with document.file.open("rb") as fh:
        assert fh.read() == b"%PDF-1.4 declaration"

    receipt = gift.receipts.get()
    assert receipt.kind == Receipt.Kind.IN_KIND and receipt.amount_cents == 240050
    assert not receipt.donations.exists()
    text = " ".join(pdf_text(render_receipt(receipt)).split())
    assert "erogazione liberale in natura" in text
    assert "12 notebook computers" in text
    assert "€ 2.400,50" in text
    assert "Invoice 2026/118" in text
    assert "28 novembre 2019" in text or "28 November 2019" in text
    # art. 4 DM 28/11/2019: the entity's declaration on the use of the goods.
    assert "attività statutaria" in text or "statutory activity" in text
    # art. 83 c.1: the traceable-payment condition is for gifts of money, not goods
    assert "tracciabili" not in text and "traceable" not in text
    assert "erogazioni liberali in natura" in text or "Gifts in kind" in text


def test_goods_never_count_as_money(network, donor):
    money = record_offline_gift(
        network=network,
        donor=donor,
        amount_cents=5000,
        received_on=TODAY,
        method=Donation.Method.BANK_TRANSFER,
    )
    before = Donation.objects.filter(network=network).money()
    before_data = tax_data(network, TODAY.year)

    _goods(network, donor, wants_receipt=True)

    after = Donation.objects.filter(network=network).money()
    assert after == before
    assert Donation.objects.filter(network=network).raised() == before.raised
    data = tax_data(network, TODAY.year)
    # The Agenzia data are money gifts only (DM 3 February 2021: "erogazioni liberali in
    # denaro"): the donor's row is the bank transfer alone, the goods nowhere.
    assert [(r.codice_fiscale, r.amount_cents) for r in data.rows] == [
        (r.codice_fiscale, r.amount_cents) for r in before_data.rows
    ]
    row = next(r for r in data.rows if r.codice_fiscale == "RSSMRA85T10A562S")
    assert (row.gifts, row.amount_cents) == (1, money.amount_cents)
    assert data.left_out_cents == before_data.left_out_cents


def test_the_receipt_takes_the_next_number_of_the_one_series(network, donor):
    money = record_offline_gift(
        network=network,
        donor=donor,
        amount_cents=5000,
        received_on=TODAY,
        method=Donation.Method.BANK_TRANSFER,
        wants_receipt=True,
    )
    first = money.receipts.get()
    goods = _goods(network, donor, wants_receipt=True).receipts.get()
    assert (goods.year, goods.sequence) == (first.year, first.sequence + 1)


def test_a_second_in_kind_receipt_is_refused_and_a_reissue_keeps_the_goods(network, donor):
    gift = _goods(network, donor, wants_receipt=True)
    with pytest.raises(receipts.ReceiptError):
        receipts.issue_in_kind_receipt(gift)
    old = gift.receipts.get()
    new = receipts.reissue_receipt(old, reason="Wrong address")
    old.refresh_from_db()
    assert old.status == Receipt.Status.VOID and new.replaces == old
    assert new.kind == Receipt.Kind.IN_KIND and new.amount_cents == 240050


@pytest.mark.parametrize(
    "change, field",
    [
        ({"value_cents": 3_000_001}, "valuation"),  # above € 30.000: a sworn appraisal
        ({"valuation": InKindGift.Valuation.SWORN_APPRAISAL}, "appraisal_date"),
        (
            {
                "valuation": InKindGift.Valuation.SWORN_APPRAISAL,
                "appraisal_date": TODAY - datetime.timedelta(days=91),
            },
            "appraisal_date",
        ),
        ({"description": "  "}, "description"),
        ({"value_cents": 0}, "value"),
        ({"received_on": TODAY + datetime.timedelta(days=3)}, "received_on"),
    ],
)
def test_goods_the_rules_do_not_allow_are_refused(network, donor, change, field):
    with pytest.raises(ValidationError) as caught:
        _goods(network, donor, **change)
    assert field in caught.value.message_dict
    assert not InKindGift.objects.exists()


def test_a_van_above_30000_with_a_recent_appraisal_is_recorded(network, donor):
    gift = _goods(
        network,
        donor,
        description="A van, Fiat Ducato 2022",
        value_cents=3_150_000,
        valuation=InKindGift.Valuation.SWORN_APPRAISAL,
        appraisal_date=TODAY - datetime.timedelta(days=90),
    )
    assert gift.appraisal_date == TODAY - datetime.timedelta(days=90)


def test_the_treasurer_records_goods_and_finds_them_on_the_donors_page(client, users, donor):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.post(
        "/admin/crm/in-kind/new/",
        {
            "donor": donor.pk,
            "description": "40 kg of pasta",
            "value": "1.234,50",
            "valuation": "normal_value",
            "received_on": TODAY.isoformat(),
            "documents": [SimpleUploadedFile("listino.pdf", b"price list")],
        },
    )
    assert response.status_code == 302, response.content[:2000]
    gift = InKindGift.objects.get()
    assert gift.value_cents == 123450 and gift.documents.count() == 1

    page = client.get(reverse("crm_donor:inspect", args=[donor.pk])).content.decode()
    assert "40 kg of pasta" in page and "1,234.50" in page  # the English admin
    document = client.get(f"/admin/crm/in-kind/{gift.pk}/document/")
    assert document.status_code == 200
    assert b"".join(document.streaming_content) == b"price list"

    export = client.get("/admin/crm/in-kind/?export=csv")
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert any("40 kg of pasta" in row for row in rows), rows
    # The money list and its export know nothing of the goods.
    gifts = client.get("/admin/crm/donations/").content.decode()
    assert "40 kg of pasta" not in gifts


def test_another_networks_treasurer_reaches_no_goods(client, users, network, donor):
    gift = _goods(network, donor, documents=[SimpleUploadedFile("segreto.pdf", b"secret")])
    client.force_login(users["tesoreria-valle-serena"])
    for url in (
        reverse("crm_inkindgift:inspect", args=[gift.pk]),
        f"/admin/crm/in-kind/{gift.pk}/document/",
    ):
        assert client.get(url).status_code in (403, 404), url
    assert client.post(f"/admin/crm/in-kind/{gift.pk}/receipt/").status_code in (403, 404)
    assert not gift.receipts.exists()
    listing = client.get("/admin/crm/in-kind/").content.decode()
    assert "notebook" not in listing
    response = client.post(
        "/admin/crm/in-kind/new/",
        {
            "donor": donor.pk,
            "description": "x",
            "value": "10",
            "valuation": "normal_value",
            "received_on": TODAY.isoformat(),
        },
    )
    assert response.status_code == 200 and InKindGift.objects.count() == 1


def test_merging_donors_moves_their_goods(network, donor):
    twin = Donor.objects.create(network=network, first_name="Gianna", last_name="Brambilla")
    gift = _goods(network, twin)
    merge_donors(donor, twin)
    gift.refresh_from_db()
    assert gift.donor == donor
