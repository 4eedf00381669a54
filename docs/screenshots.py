"""The README's screenshots, taken from a running demo (`make demo`) in Debian's Chromium.

    make demo                      # in one terminal, on a fresh demo (no trama.sqlite3)
    make screenshots               # in another: rewrites docs/*.png

A donor on a phone: the home page, a network's page, a campaign page, a gift paid on the Stripe
stand-in's Checkout and its thank-you page; the gift's receipt (its PDF, first page, through
pdftoppm); the treasurer's dashboard on a desktop. Everything is the demo's own data, as a
newcomer sees it: rerun after a change anyone would see in these pages.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

DOCS = Path(__file__).resolve().parent
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CAMPAIGN = "/oltre-il-ponte/un-doposcuola-per-ogni-quartiere/"
TREASURER = ("tesoreria-oltre-il-ponte", "demo-oltre-il-ponte-tes")


def give(page: Page, base: str) -> None:
    """A € 25 gift with a receipt, paid with the stand-in's prefilled test card."""
    page.goto(base + CAMPAIGN)
    page.check('input[name=amount][value="2500"]')
    page.fill("#id_first_name", "Giulia")
    page.fill("#id_last_name", "Neri")
    page.fill("#id_email", f"giulia.neri+{int(time.time())}@example.org")
    page.check("#id_wants_receipt")
    page.fill("#id_codice_fiscale", "RSSMRA85T10A562S")
    page.fill("#id_street_address", "Via Roma 10")
    page.fill("#id_postal_code", "20121")
    page.fill("#id_city", "Milano")
    page.fill("#id_province", "MI")
    page.check("#id_privacy")
    with page.expect_navigation():
        page.click("#give-button")
    with page.expect_navigation(url=re.compile("^" + re.escape(base))):
        page.get_by_role("button").last.click()
    # the thank-you page says "confirmed" once the worker has applied Stripe's webhook
    page.wait_for_selector("text=Confermata", timeout=30_000)


def receipt_png(page: Page, base: str, target: Path) -> None:
    """The newest receipt's PDF, as the treasurer downloads it, first page as a PNG."""
    page.goto(base + "/admin/login/")
    page.fill("#id_username", TREASURER[0])
    page.fill("#id_password", TREASURER[1])
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.screenshot(path=DOCS / "dashboard.png")
    page.goto(base + "/admin/crm/receipts/")
    page.locator("table.listing tbody a").first.click()
    page.wait_for_load_state()
    link = page.locator("a[href$='.pdf'], a[href*='/pdf']").first
    with page.expect_download() as download:
        link.click()
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "receipt.pdf"
        download.value.save_as(pdf)
        subprocess.run(  # noqa: S603 (our own arguments)
            [
                "/usr/bin/pdftoppm",
                "-png",
                "-r",
                "60",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                pdf,
                target.with_suffix(""),
            ],
            check=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the running demo")
    base = parser.parse_args().base.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        phone = browser.new_page(viewport=PHONE, locale="it-IT")
        phone.goto(base + "/")
        phone.screenshot(path=DOCS / "home.png", full_page=True)
        phone.goto(base + "/oltre-il-ponte/")
        phone.screenshot(path=DOCS / "network-page.png", full_page=True)
        phone.goto(base + CAMPAIGN)
        phone.screenshot(path=DOCS / "campaign.png", full_page=True)
        give(phone, base)
        phone.screenshot(path=DOCS / "thank-you.png")
        desktop = browser.new_page(viewport=DESKTOP, locale="it-IT", accept_downloads=True)
        receipt_png(desktop, base, DOCS / "receipt.png")
        browser.close()
    print("docs/: home, network-page, campaign, thank-you, receipt, dashboard (.png) rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
