"""A treasurer's month-end, in a real browser: log in, record a bank transfer, issue its
receipt, export the month's donations as XLSX and read the file back."""

from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from .conftest import ARTIFACTS

TREASURER = ("tesoreria-oltre-il-ponte", "demo-oltre-il-ponte-tes")


def log_in(page, base_url, username, password):
    page.goto(base_url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(base_url + "/admin/")


@pytest.mark.django_db(transaction=True)
def test_treasurer_records_a_transfer_receipts_it_and_exports_the_month(
    live_server, demo, browser, page, screenshot, tmp_path
):
    from wagtail.models import Site

    from campaigns.models import CampaignPage
    from crm.models import Donation, Donor, Receipt

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    base = live_server.url
    # given a donor of Oltre il Ponte who sent a bank transfer
    donor = Donor.objects.create(
        network=demo["oltre-il-ponte"],
        first_name="Giulia",
        last_name="D'Alò",
        email="giulia.dalo@example.org",
        codice_fiscale="DLAGLI80A41F205X",
        # what a receipt needs (else issuing it asks for a confirmation)
        street_address="Via Cavour 3",
        postal_code="23900",
        city="Lecco",
    )
    today = timezone.localdate()

    # when the treasurer logs in through the login form
    log_in(page, base, *TREASURER)

    # and finds the donor by searching, then records the transfer from the donor's page
    page.goto(base + "/admin/crm/donors/?q=Giulia")
    assert page.locator("table.listing").get_by_text("Giulia D'Alò").is_visible()
    page.goto(f"{base}/admin/crm/donors/inspect/{donor.pk}/")
    page.locator('a[href$="/record-gift/"]').click()
    page.wait_for_url(f"**/crm/donors/{donor.pk}/record-gift/")
    page.fill("#id_amount", "1.250,50")
    page.fill("#id_received_on", today.isoformat())
    page.select_option("#id_method", "bank_transfer")
    page.fill("#id_reference", "CRO 0042 BONIFICO")
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    page.wait_for_url("**/crm/donations/inspect/*/")
    gift = Donation.objects.get(donor=donor)
    assert gift.amount_cents == 125050 and gift.method == "bank_transfer"
    assert gift.channel == "offline" and gift.reference == "CRO 0042 BONIFICO"

    # and issues its receipt from the gift's page (it asks first, "email the donor" ticked)
    page.locator(f'a[href$="/crm/donations/{gift.pk}/issue-receipt/"]').click()
    page.wait_for_url(f"**/crm/donations/{gift.pk}/issue-receipt/")
    assert page.locator('input[type=checkbox][name="email"]').is_checked()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/crm/receipts/inspect/*/")
    receipt = Receipt.objects.get(donations=gift)
    assert page.get_by_text(receipt.number).first.is_visible()
    receipt.refresh_from_db()
    assert receipt.pdf_sha256 and receipt.amount_cents == 125050  # rendered by the task

    # and exports the month's donations as XLSX with the period filter
    first_day = today.replace(day=1)
    page.goto(
        f"{base}/admin/crm/donations/?received_on_after={first_day.isoformat()}"
        f"&received_on_before={today.isoformat()}"
    )
    export_link = page.locator('a[href*="export=xlsx"]').first
    if not export_link.is_visible():  # the export buttons sit in the header's "more" menu
        page.locator(".w-dropdown__toggle").first.click()
    with page.expect_download() as download_info:
        export_link.click()
    download = download_info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    # then the workbook holds the gift, in euro, with the donor's name as typed
    assert path.suffix == ".xlsx"
    sheet = load_workbook(path, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2  # headings and the one gift of the month
    gift_row = rows[1]
    assert gift_row[0] == gift.pk and gift_row[3] == "D'Alò"
    assert float(gift_row[7]) == 1250.50 and "CRO 0042 BONIFICO" in gift_row

    # and the donor's page shows the gift and its receipt
    page.goto(f"{base}/admin/crm/donors/inspect/{donor.pk}/")
    assert page.get_by_text(receipt.number).first.is_visible()
    screenshot("treasurer-donor")

    # and the dashboard, at desktop size, shows the year's figures (a few more gifts this year
    # so the monthly chart and the campaign's progress have something to show)
    network_page = demo["oltre-il-ponte"].page
    campaign = CampaignPage.objects.filter(path__startswith=network_page.path).first()
    for month in range(1, today.month + 1):
        Donation.objects.create(
            network=donor.network,
            donor=donor,
            campaign=campaign if month % 2 else None,
            amount_cents=4000 + 2500 * month,
            received_on=today.replace(day=1, month=month),
            method="card",
            status="succeeded",
        )
    desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="it-IT")
    try:
        admin = desktop.new_page()
        log_in(admin, base, *TREASURER)
        panel = admin.locator(".crm-dashboard")
        assert donor.last_name in panel.inner_text()
        assert admin.locator("svg.crm-monthly rect").count() == 12
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "treasurer-dashboard.png"
        admin.screenshot(path=str(shot))
    finally:
        desktop.close()
    with Image.open(shot) as image:
        assert image.size == (1280, 900)
    assert shot.stat().st_size > 10_000  # the README's docs/dashboard.png is a copy of it
