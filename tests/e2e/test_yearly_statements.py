"""The yearly statements in a real browser, with a real background worker: the treasurer opens
the screen from the year-end page, reads the preview, confirms, watches the progress reach the
end while `manage.py run_worker` issues and renders, and downloads the run's ZIP."""

import datetime
import zipfile
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from crm.receipt_files import download_name
from tests.pdfs import pdf_text
from tests.worker.conftest import (  # noqa: F401  (fixtures)
    mail_dir,
    queue_in_database,
    start_worker,
    worker_env,
)

from .test_treasurer import TREASURER, log_in

LAST_YEAR = timezone.localdate().year - 1


@pytest.fixture
def tasks_backend(queue_in_database):  # noqa: F811
    """The treasurer's walk runs on the database queue (the worker tests cover RQ too)."""
    return "db"


@pytest.mark.django_db(transaction=True)
def test_treasurer_previews_confirms_watches_and_downloads_the_statements(
    live_server,
    demo,
    page,
    screenshot,
    tmp_path,
    start_worker,  # noqa: F811
):
    from wagtail.models import Site

    from crm.models import Donation, Donor, Receipt, StatementRun

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    base = live_server.url
    network = demo["oltre-il-ponte"]
    # given three donors who asked for receipts last year, and one without a codice fiscale
    names = ["Anna", "Bruno", "Carla"]
    for i, name in enumerate([*names, "Dario"]):
        donor = Donor.objects.create(
            network=network,
            first_name=name,
            last_name="Verdi",
            email=f"{name.lower()}@example.org",
            codice_fiscale="" if name == "Dario" else "RSSMRA85T10A562S",
            street_address="Via Roma 1",
            city="Lecco",
        )
        Donation.objects.create(
            network=network,
            donor=donor,
            amount_cents=10000 + i * 100,
            received_on=datetime.date(LAST_YEAR, 5, 1 + i),
            method="bank_transfer",
            status="succeeded",
            wants_receipt=True,
        )

    # when the treasurer opens the year-end page and the preview of last year's statements
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.on("requestfailed", lambda request: console.append(f"failed {request.url}"))
    log_in(page, base, *TREASURER)
    page.goto(base + "/admin/crm/year/")
    page.locator(f'a[href$="/crm/year/{network.pk}/{LAST_YEAR}/statements/"]').click()
    page.wait_for_url(f"**/crm/year/{network.pk}/{LAST_YEAR}/statements/")

    # then the preview lists who gets a statement and who is left out, and why
    assert page.locator("#eligible tbody tr").count() == 3
    left_out = page.locator("#left-out tbody tr")
    assert left_out.count() == 1 and "Dario" in left_out.inner_text()
    screenshot("yearly-statements-preview")

    # when they confirm, and the background worker runs
    page.locator("#start-run button[type=submit]").click()
    page.wait_for_url("**/crm/year/runs/*/")
    worker = start_worker()

    # then the page's progress reaches the end on its own
    try:
        page.locator("#run-complete").wait_for(state="visible", timeout=90_000)
    except Exception:
        runs = list(StatementRun.objects.values())
        pytest.fail(f"the run did not finish: {runs} {console}\n--- worker log ---\n{worker.log()}")
    assert page.locator("#issue-progress").get_attribute("value") == "3"
    assert page.locator("#pdf-progress").evaluate("p => p.value === p.max")
    assert worker.alive
    screenshot("yearly-statements-done")
    run = StatementRun.objects.get()
    assert run.status == StatementRun.Status.DONE and run.receipts.count() == 3

    # and the ZIP holds the run's three statements
    with page.expect_download() as download_info:
        page.locator("#run-zip").click()
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    archive = zipfile.ZipFile(path)
    statements = Receipt.objects.filter(kind="annual").order_by("sequence")
    expected = [download_name(r) for r in statements]
    assert sorted(archive.namelist()) == sorted([*expected, "index.csv"])
    texts = " ".join(pdf_text(archive.read(name)) for name in expected)
    for name in names:
        assert f"{name} Verdi" in texts
    assert "Dario" not in texts
