"""A treasurer's import, in a real browser: upload a CSV, map its columns (the campaign too),
preview, apply; the same file again is refused; the batch's receipts are issued in bulk from the
gifts list (nobody asked: included explicitly) and downloaded as a ZIP from the receipts list,
PDFs read back as text."""

import io
import zipfile
from urllib.parse import urlsplit

import pytest

from tests.pdfs import pdf_text

from .test_treasurer import TREASURER, log_in

CSV = (
    "Nome;Cognome;Posta elettronica;Importo;Data;Metodo;Riferimento;Campagna;"
    "Codice fiscale;Indirizzo;CAP;Città\n"
    "Elena;Importata;elena.importata@example.org;40;02/02/2026;bonifico;CRO E2E-1;{campaign};"
    "RSSMRA85T10A562S;Via Po 1;10100;Torino\n"
    "Fabio;Importato;fabio.importato@example.org;15,50;03/02/2026;bonifico;CRO E2E-2;{campaign};"
    "BNCNNI80A41F205C;Via Po 2;10100;Torino\n"
)


@pytest.mark.django_db(transaction=True)
def test_treasurer_imports_applies_is_refused_again_and_receipts_in_bulk(
    live_server, demo, browser, tmp_path
):
    from wagtail.models import Site

    from campaigns.models import CampaignPage
    from crm.models import Donation, ImportBatch, Receipt

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    base = live_server.url
    network = demo["oltre-il-ponte"]
    campaign = CampaignPage.objects.filter(path__startswith=network.page.path).first()
    path = tmp_path / "banca-febbraio.csv"
    path.write_text(CSV.format(campaign=campaign.title), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="it-IT")
    page = context.new_page()
    try:
        log_in(page, base, *TREASURER)

        # when the treasurer uploads the bank's CSV (no "write at once": map and preview first)
        page.goto(base + "/admin/crm/donations/import/")
        page.set_input_files("#id_file", str(path))
        with page.expect_navigation():  # the upload's answer, not the form still showing
            page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
        batch = ImportBatch.objects.get()
        assert not Donation.objects.filter(reference__startswith="CRO E2E").exists()

        # then the email column ("Posta elettronica") is unknown: they map it, and the campaign
        # column is already mapped from its header
        assert page.locator("#id_col_7").input_value() == "campaign"
        page.select_option("#id_col_2", "email")
        page.locator("button[name=map]").click()
        page.wait_for_url(f"**/admin/crm/imports/{batch.pk}/")
        preview = page.locator("main").inner_text()
        assert "elena.importata@example.org" in preview and campaign.title in preview

        # and applies it without uploading it again
        page.locator("button[name=apply]").click()
        page.wait_for_url(f"**/admin/crm/imports/{batch.pk}/")
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.APPLIED and batch.result["gifts"] == 2
        gifts = Donation.objects.filter(pk__in=batch.gift_ids)
        assert {g.campaign_id for g in gifts} == {campaign.pk}
        assert {g.donor.email for g in gifts} == {
            "elena.importata@example.org",
            "fabio.importato@example.org",
        }

        # when they upload the same file again, it is refused, naming the earlier batch
        page.goto(base + "/admin/crm/donations/import/")
        page.set_input_files("#id_file", str(path))
        page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
        alert = page.locator("[role=alert].help-critical")
        alert.wait_for()
        assert f" {batch.pk}," in alert.inner_text() and "banca-febbraio.csv" in alert.inner_text()
        assert Donation.objects.filter(reference__startswith="CRO E2E").count() == 2

        # when they open the batch's gifts and issue the receipts in bulk
        page.goto(f"{base}/admin/crm/imports/{batch.pk}/")
        page.locator('a[href*="import_batch="]').click()
        page.wait_for_url("**/admin/crm/donations/?import_batch=*")
        assert page.locator("[data-bulk-action-checkbox]").count() == 2
        page.locator("[data-bulk-action-select-all-checkbox]").first.check()
        page.locator('a[href*="/admin/bulk/crm/donation/issue_receipts/"]').click()
        page.wait_for_url("**/admin/bulk/crm/donation/issue_receipts/**")
        assert page.locator("input[name=email]").is_checked()
        # the file had no "wants a receipt" column: the page says nobody asked, and by default
        # none would be issued; the treasurer includes them explicitly
        assert page.locator(".crm-receipt-selection li").count() == 2
        include = page.locator("input[name=include_not_asked]")
        assert (
            not include.is_checked()
            and not page.locator("input[name=include_missing]").is_checked()
        )
        include.check()
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/admin/crm/donations/**")
        receipts = list(Receipt.objects.filter(donations__in=gifts).order_by("pk"))
        assert len(receipts) == 2 and all(r.emails.count() == 1 for r in receipts)

        # and download them as a ZIP from the receipts list
        page.goto(base + "/admin/crm/receipts/")
        for receipt in receipts:
            page.locator(f'[data-bulk-action-checkbox][data-object-id="{receipt.pk}"]').check()
        page.locator('a[href*="/admin/bulk/crm/receipt/download/"]').click()
        page.wait_for_url("**/admin/bulk/crm/receipt/download/**")
        with page.expect_download() as download_info:
            page.locator("main form button[type=submit]").click()
        target = tmp_path / download_info.value.suggested_filename
        download_info.value.save_as(target)
        data = target.read_bytes()
    finally:
        context.close()

    # then the ZIP holds the two receipts' PDFs, named after their numbers, readable as text
    archive = zipfile.ZipFile(io.BytesIO(data))
    for receipt in receipts:
        name = f"ricevuta-{receipt.number.replace('/', '-')}.pdf"
        text = pdf_text(archive.read(name))
        assert receipt.number in text and receipt.donor.last_name in text
    assert sorted(archive.namelist()) == sorted(
        [f"ricevuta-{r.number.replace('/', '-')}.pdf" for r in receipts] + ["index.csv"]
    )
