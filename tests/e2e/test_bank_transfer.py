"""Issue 23, bank transfers, in a real browser: a donor on a phone chooses "Bonifico bancario",
sees the IBAN and the EPC QR code (read back from the screen by a QR decoder, zxing-cpp, and
its EPC fields checked) and gets the email; the treasurer uploads the camt.053 statement with
that credit (written here, with a debit, a reversal and a Stripe payout line): the gift, its
donor and its receipt appear; uploading it again adds nothing."""

import io
from urllib.parse import urlsplit

import pytest

from tests.banking.camt_files import NETWORK_IBAN, Entry, camt053

from .test_treasurer import TREASURER, log_in

zxingcpp = pytest.importorskip("zxingcpp")
Image = pytest.importorskip("PIL.Image")

CAMPAIGN_PATH = "/oltre-il-ponte/un-doposcuola-per-ogni-quartiere/"


@pytest.mark.django_db(transaction=True)
def test_a_bank_transfer_from_the_campaign_page_to_the_receipt(
    live_server, demo, browser, page, screenshot, mailoutbox, tmp_path
):
    from wagtail.models import Site

    from banking import qr
    from banking.models import BankDetails, Pledge, Statement, StatementLine
    from campaigns.payouts.models import Payout
    from crm.models import Donation, Receipt

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    base = live_server.url
    network = demo["oltre-il-ponte"]
    BankDetails.objects.create(
        network=network, beneficiary="Oltre il Ponte ETS", iban=NETWORK_IBAN, bic="BPMOIT22XXX"
    )
    Payout.objects.create(
        network=network, stripe_payout_id="po_e2e", amount_cents=48210, status=Payout.Status.PAID
    )

    # given a donor on a phone who chooses 25 € and a bank transfer, with a receipt
    page.goto(base + CAMPAIGN_PATH)
    page.check('input[name=amount][value="2500"]')
    page.fill("#id_first_name", "Giulia")
    page.fill("#id_last_name", "D'Alò")
    page.fill("#id_email", "giulia.bonifico@example.org")
    page.check("#id_wants_receipt")
    page.fill("#id_codice_fiscale", "rssmra80a01h501u")
    page.fill("#id_street_address", "Via Manzoni 5")
    page.fill("#id_postal_code", "23900")
    page.fill("#id_city", "Lecco")
    page.check("#id_privacy")
    assert page.locator('[data-testid="give-bank-transfer"]').inner_text() == "Bonifico bancario"
    page.click('[data-testid="give-bank-transfer"]')
    page.wait_for_selector('[data-testid="bank-transfer"]')
    screenshot("bank-transfer-pledge")
    pledge = Pledge.objects.get()
    assert not Donation.objects.filter(donor__last_name="D'Alò").exists()  # a pledge, no gift

    # then they see the IBAN, the amount, the reference, and a QR code a banking app reads
    assert page.locator('[data-testid="iban"]').inner_text() == "IT60 X054 2811 1010 0000 0123 456"
    assert page.locator('[data-testid="amount"]').inner_text() == "€\u00a025,00"
    shown_reference = page.locator('[data-testid="reference"]').inner_text()
    assert shown_reference.replace(" ", "") == pledge.reference
    image = Image.open(io.BytesIO(page.locator('[data-testid="epc-qr"] svg').screenshot()))
    (code,) = zxingcpp.read_barcodes(image)
    fields = qr.parse_epc(code.text)
    assert (fields["service"], fields["version"], fields["charset"]) == ("BCD", "002", "1")
    assert fields["identification"] == "SCT" and fields["bic"] == "BPMOIT22XXX"
    assert (fields["name"], fields["iban"]) == ("Oltre il Ponte ETS", NETWORK_IBAN)
    assert (fields["amount"], fields["reference"]) == ("EUR25.00", pledge.reference)

    # and they get the same by email, in Italian
    (message,) = mailoutbox
    assert message.to == ["giulia.bonifico@example.org"]
    assert "bonifico" in message.subject.lower()
    assert shown_reference in message.body and "IT60 X054 2811" in message.body

    # when the treasurer uploads the bank's camt.053 with that credit among other movements
    statement = camt053(
        [
            Entry(
                "25.00",
                ref="E2E-1",
                name="GIULIA D'ALO'",
                iban="IT12A0306909606100000012345",
                remittance=f"DONAZIONE {shown_reference}",
            ),
            Entry(
                "60.00",
                credit=False,
                ref="E2E-2",
                name="Tipografia",
                remittance="Volantini",
                family="ICDT-ESCT",
            ),
            Entry(
                "60.00",
                ref="E2E-3",
                reversal=True,
                name="Tipografia",
                remittance="Storno volantini",
            ),
            Entry(
                "482.10",
                ref="E2E-4",
                name="STRIPE TECHNOLOGY EUROPE",
                remittance="STRIPE PAYOUT po_e2e",
            ),
        ],
        version="001.08",
        statement_id="2026-12-E2E",
    )
    path = tmp_path / "estratto-conto.xml"
    path.write_bytes(statement)
    treasurer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="it-IT")
    admin = treasurer.new_page()
    try:
        log_in(admin, base, *TREASURER)
        admin.goto(base + "/admin/crm/bank/upload/")
        admin.set_input_files("#id_file", str(path))
        admin.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
        admin.wait_for_selector('[data-testid="statement-lines"]')
        # then the credit is the donor's gift; the debit, the reversal and the payout are not
        rows = admin.locator('[data-testid="line"]')
        assert rows.count() == 4
        statuses = {
            rows.nth(i).get_attribute("data-reference"): rows.nth(i)
            .locator("[data-status]")
            .get_attribute("data-status")
            for i in range(4)
        }
        assert statuses == {
            "E2E-1": "matched",
            "E2E-2": "not_a_gift",
            "E2E-3": "not_a_gift",
            "E2E-4": "payout",
        }
        gift = Donation.objects.select_related("donor").get(reference="E2E-1")
        assert (gift.amount_cents, gift.method, gift.donor.last_name) == (
            2500,
            "bank_transfer",
            "D'Alò",
        )
        receipt = Receipt.objects.get(donations=gift)
        # the gift, its donor and its receipt, on the gift's page
        admin.locator('[data-reference="E2E-1"] a').first.click()
        admin.wait_for_load_state()
        body = admin.locator("main").inner_text()
        assert "D'Alò" in body and receipt.number in body
        counts = (
            Statement.objects.count(),
            StatementLine.objects.count(),
            Donation.objects.count(),
            Receipt.objects.count(),
        )

        # when the same statement is uploaded again
        admin.goto(base + "/admin/crm/bank/upload/")
        admin.set_input_files("#id_file", str(path))
        admin.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
        admin.wait_for_selector('[data-testid="statement-lines"]')
        # then it is recognised and nothing is added
        assert "già stato caricato" in admin.locator("body").inner_text()
        assert counts == (
            Statement.objects.count(),
            StatementLine.objects.count(),
            Donation.objects.count(),
            Receipt.objects.count(),
        )
    finally:
        treasurer.close()
