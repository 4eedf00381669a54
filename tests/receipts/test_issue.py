"""Issuing receipts: numbers, frozen details, the PDF's legal content read back with pdftotext,
voiding and reissuing, and the receipts that follow gifts and refunds."""

import datetime
import hashlib
import subprocess

import pytest
from django.urls import reverse
from django.utils import translation

from crm.links import receipt_download_url
from crm.models import Donation, Donor, Receipt, ReceiptCounter
from crm.receipts import (
    ReceiptError,
    follow_refund,
    issue_receipt,
    receipt_gift_if_due,
    reissue_receipt,
    void_receipt,
)

pytestmark = pytest.mark.django_db


def italian(text):
    """`text` (a msgid or a lazy label) as the Italian receipt prints it, whatever the state of
    the Italian catalogue."""
    with translation.override("it"):
        return str(translation.gettext(text) if isinstance(text, str) else text)


def issue(capture, gifts, **kwargs):
    with capture(execute=True):
        receipt = issue_receipt(gifts, **kwargs)
    receipt.refresh_from_db()
    return receipt


def test_a_person_gets_a_numbered_receipt_with_every_legal_element(
    network, donor_factory, gift_factory, pdf_text, django_capture_on_commit_callbacks
):
    # given a person who gave €120,50 by card
    donor = donor_factory()
    gift = gift_factory(donor, amount_cents=12050, received_on=datetime.date(2026, 3, 14))

    # when a receipt is issued
    receipt = issue(django_capture_on_commit_callbacks, [gift])

    # then it has the first number of the year and a stored PDF matching its SHA-256
    assert (receipt.year, receipt.sequence, receipt.number) == (2026, 1, "RP-2026/00001")
    assert receipt.amount_cents == 12050
    with receipt.pdf.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == receipt.pdf_sha256
    text = pdf_text(receipt)
    for element in [
        "Cooperativa Sociale Il Ponte ETS",  # entity name
        "92012340011",  # entity codice fiscale
        "02770930994",  # entity partita IVA
        "Via Verdi 1, 20121 Milano (MI)",  # entity address
        "Associazione di promozione sociale (APS)",  # entity kind
        "RUNTS-123456",
        "Mario Rossi",
        "RSSMRA85T10A562S",
        "Via Roma 10, 10121 Torino (TO)",
        "RP-2026/00001",
        "14/03/2026",  # gift date
        italian(Donation.Method.CARD.label),  # method
        "€ 120,50",  # figures, Italian format
        "centoventi euro e cinquanta centesimi",  # words, Italian
        "art. 83 c.1 D.Lgs. 117/2017",  # legal basis for the 30% detraction
        "erogazione liberale",
        "Giulia Bianchi",  # signer
        "Presidente",
    ]:
        assert element in text, element
    assert italian("Not deductible (cash)") not in text


def test_an_organisation_with_partita_iva_and_a_cash_gift(
    network, donor_factory, gift_factory, pdf_text, django_capture_on_commit_callbacks
):
    # given a company with a partita IVA that gave by bank transfer and in cash
    donor = donor_factory(
        kind=Donor.Kind.ORGANISATION,
        organisation_name="Officine Bruno S.r.l.",
        codice_fiscale="",
        partita_iva="02770930994",
        first_name="",
        last_name="",
    )
    network.tax_regime = "deduction_10"
    network.save()
    gifts = [
        gift_factory(donor, 50000, datetime.date(2026, 2, 1), method=Donation.Method.BANK_TRANSFER),
        gift_factory(donor, 2000, datetime.date(2026, 5, 9), method=Donation.Method.CASH),
    ]

    # when one receipt covers both
    receipt = issue(django_capture_on_commit_callbacks, gifts)

    # then the organisation, its P.IVA, both gifts and the cash caveat are printed
    text = pdf_text(receipt)
    assert receipt.amount_cents == 52000
    for element in [
        "Officine Bruno S.r.l.",
        f"{italian('VAT number (P.IVA)')}: 02770930994",
        "01/02/2026",
        italian(Donation.Method.BANK_TRANSFER.label),
        "09/05/2026",
        italian("Not deductible (cash)"),
        "€ 520,00",
        "cinquecentoventi euro",
        "art. 83 c.2 D.Lgs. 117/2017",
    ]:
        assert element in text, element


def test_an_english_donor_gets_an_english_receipt(
    network, donor_factory, gift_factory, pdf_text, django_capture_on_commit_callbacks
):
    donor = donor_factory(first_name="Jane", last_name="Doe", language="en")
    gift = gift_factory(donor, 123456)

    receipt = issue(django_capture_on_commit_callbacks, [gift])

    text = pdf_text(receipt)
    assert receipt.language == "en"
    assert "Receipt for a liberal donation" in text
    assert "€ 1,234.56" in text
    assert "one thousand, two hundred and thirty-four euro, fifty-six cents" in text


def test_names_with_apostrophes_accents_and_markup_print_as_text(
    network, donor_factory, gift_factory, pdf_text, django_capture_on_commit_callbacks
):
    donor = donor_factory(first_name="Lucia", last_name="D'Alò <script>alert(1)</script>")
    receipt = issue(django_capture_on_commit_callbacks, [gift_factory(donor)])

    text = pdf_text(receipt)
    assert "Lucia D'Alò <script>alert(1)</script>" in text


def test_numbers_are_per_network_and_fiscal_year_and_a_void_keeps_its_number(
    network, network_factory, donor_factory, gift_factory
):
    # given gifts in two years and in another network
    donor = donor_factory()
    other = network_factory("altra-rete")
    other_donor = Donor.objects.create(network=other, first_name="Ada", last_name="Neri")
    # 31 December in Italy is already 1 January in Auckland (the test TIME_ZONE): the year
    # comes from the gift's date, not from the server's clock.
    late = gift_factory(donor, received_on=datetime.date(2025, 12, 31))
    first, second, third = (gift_factory(donor) for _ in range(3))
    elsewhere = gift_factory(other_donor)

    # when receipts are issued, one is voided, and more follow
    r1 = issue_receipt([first])
    void_receipt(r1, reason="wrong amount")
    r2 = issue_receipt([second])
    r_late = issue_receipt([late])
    r_other = issue_receipt([elsewhere])
    r3 = issue_receipt([third])

    # then numbering runs on, the void keeps its number, other series are independent
    r1.refresh_from_db()
    assert (r1.status, r1.sequence, r1.void_reason) == (Receipt.Status.VOID, 1, "wrong amount")
    assert [r2.sequence, r3.sequence] == [2, 3]
    assert (r_late.year, r_late.sequence, r_late.number) == (2025, 1, "RP-2025/00001")
    assert (r_other.number, r_other.sequence) == ("2026/00001", 1)
    assert ReceiptCounter.objects.get(network=network, year=2026).last_sequence == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": Donation.Status.PENDING}, "succeeded"),
        ({"status": Donation.Status.REFUNDED}, "succeeded"),
    ],
)
def test_only_succeeded_gifts_are_receipted(donor_factory, gift_factory, change, message):
    gift = gift_factory(donor_factory(), **change)
    with pytest.raises(ReceiptError, match=message):
        issue_receipt([gift])
    assert not Receipt.objects.exists()
    assert not ReceiptCounter.objects.filter(last_sequence__gt=0).exists()


def test_a_gift_is_never_receipted_twice(donor_factory, gift_factory):
    gift = gift_factory(donor_factory())
    issue_receipt([gift])
    with pytest.raises(ReceiptError, match="already covered"):
        issue_receipt([gift])
    assert Receipt.objects.count() == 1


def test_gifts_of_two_donors_or_two_years_are_refused(donor_factory, gift_factory):
    a, b = donor_factory(), donor_factory(first_name="Anna")
    with pytest.raises(ReceiptError, match="different donors"):
        issue_receipt([gift_factory(a), gift_factory(b)])
    with pytest.raises(ReceiptError, match="fiscal year"):
        issue_receipt([gift_factory(a), gift_factory(a, received_on=datetime.date(2025, 6, 1))])
    with pytest.raises(ReceiptError, match="no gifts"):
        issue_receipt([])


def test_a_correction_voids_and_reissues_with_the_current_details(
    donor_factory, gift_factory, pdf_text, django_capture_on_commit_callbacks, admin_user
):
    # given a receipt issued with a misspelt name
    donor = donor_factory(first_name="Mraio")
    old = issue(django_capture_on_commit_callbacks, [gift_factory(donor)])
    old_sha = old.pdf_sha256

    # when the name is corrected and the receipt reissued
    donor.first_name = "Mario"
    donor.save()
    with django_capture_on_commit_callbacks(execute=True):
        new = reissue_receipt(old, reason="name misspelt", user=admin_user)

    # then the old one is void (number, PDF and hash unchanged) and linked to the new one
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, old.voided_by, old.void_reason) == ("void", admin_user, "name misspelt")
    assert old.pdf_sha256 == old_sha and old.sequence == 1
    assert new.replaces == old and old.replaced_by == new
    assert (new.sequence, new.issued_by) == (2, admin_user)
    assert old.donor_snapshot["name"] == "Mraio Rossi"
    text = pdf_text(new)
    assert "Mario Rossi" in text and "RP-2026/00001" in text  # replaces no. …


def test_a_successful_gift_gets_its_receipt_and_email_and_a_refund_voids_it(
    network, donor_factory, gift_factory, mailoutbox, django_capture_on_commit_callbacks
):
    # given a donor who asked for a receipt
    donor = donor_factory()
    gift = gift_factory(donor, wants_receipt=True)

    # when the gift's success reaches receipts (as crm.gifts.record_payment does)
    with django_capture_on_commit_callbacks(execute=True):
        receipt_gift_if_due(gift)
        receipt_gift_if_due(gift)  # a replayed webhook

    # then one receipt is issued, rendered and emailed with the PDF
    receipt = Receipt.objects.get()
    assert receipt.pdf_sha256
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["mario.rossi@example.com"]
    (name, content, mimetype) = message.attachments[0]
    assert (name, mimetype) == ("ricevuta-RP-2026-00001.pdf", "application/pdf")
    assert hashlib.sha256(content).hexdigest() == receipt.pdf_sha256
    assert receipt.emails.get().status == "sent"

    # when the gift is refunded
    gift.status = Donation.Status.REFUNDED
    gift.refunded_cents = gift.amount_cents
    gift.save()
    follow_refund(gift, "charge.refunded")

    # then the receipt is void with the reason, and still there
    receipt.refresh_from_db()
    assert (receipt.status, receipt.void_reason) == ("void", "charge.refunded")


def test_no_receipt_unless_asked_or_the_network_always_issues(
    network, donor_factory, gift_factory, django_capture_on_commit_callbacks
):
    donor = donor_factory()
    quiet = gift_factory(donor)
    with django_capture_on_commit_callbacks(execute=True):
        receipt_gift_if_due(quiet)
    assert not Receipt.objects.exists()

    network.always_issue_receipts = True
    network.save()
    loud = gift_factory(donor)
    with django_capture_on_commit_callbacks(execute=True):
        receipt_gift_if_due(loud)
    assert list(Receipt.objects.values_list("donations", flat=True)) == [loud.pk]


def test_a_partial_refund_reissues_for_what_remains(donor_factory, gift_factory):
    gift = gift_factory(donor_factory(), amount_cents=10000)
    first = issue_receipt([gift])

    gift.status = Donation.Status.PARTIALLY_REFUNDED
    gift.refunded_cents = 4000
    gift.save()
    follow_refund(gift, "partial refund")

    first.refresh_from_db()
    assert first.status == "void"
    assert (first.replaced_by.amount_cents, first.replaced_by.status) == (6000, "issued")


def test_the_signed_link_downloads_the_pdf_and_a_forged_one_does_not(
    client, donor_factory, gift_factory, django_capture_on_commit_callbacks
):
    receipt = issue(django_capture_on_commit_callbacks, [gift_factory(donor_factory())])
    url = receipt_download_url(receipt)
    path = url.split("127.0.0.1:8000", 1)[1]

    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == receipt.pdf_sha256

    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = reverse("crm:receipt_download", args=[token[:-2] + "xx"])
    assert client.get(forged).status_code == 404


def test_readme_picture_of_a_receipt(
    donor_factory, gift_factory, django_capture_on_commit_callbacks, tmp_path, settings
):
    """Writes test-artifacts/receipt.png (first page at 60 dpi) from a real receipt: the
    README's docs/receipt.png is a copy of it."""
    donor = donor_factory(first_name="Lucia", last_name="D'Alò")
    receipt = issue(
        django_capture_on_commit_callbacks,
        [
            gift_factory(donor, 5000, datetime.date(2026, 1, 15)),
            gift_factory(donor, 2500, datetime.date(2026, 2, 15), method=Donation.Method.CASH),
        ],
        kind=Receipt.Kind.ANNUAL,
    )
    source = tmp_path / "receipt.pdf"
    with receipt.pdf.open("rb") as fh:
        source.write_bytes(fh.read())
    docs = settings.BASE_DIR / "test-artifacts"
    docs.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", str(source), str(docs / "receipt")],
        check=True,
    )
    assert (docs / "receipt.png").read_bytes().startswith(b"\x89PNG")
