"""A treasurer refunds part of a gift from its admin page, in a real browser: the form, the
question page that says what will happen, then the refund through (stand-in) Stripe."""

import pytest

from .test_giving import (
    _fill_donor,
    giving_site,  # noqa: F401  (the fixture, asked for by name)
)

CAMPAIGN_PATH = "/oltre-il-ponte/un-doposcuola-per-ogni-quartiere/"


@pytest.mark.django_db(transaction=True)
def test_the_treasurer_refunds_part_of_a_gift_from_its_page(request, page, screenshot):
    from crm.models import Donation, DonorEmail, Network, Receipt

    base = request.getfixturevalue("giving_site")

    Network.objects.filter(slug="oltre-il-ponte").update(always_issue_receipts=True)
    # given a donor who gave 25 € once and whose gift was receipted
    page.goto(base + CAMPAIGN_PATH)
    page.check('input[name=amount][value="2500"]')
    page.check("input[name=frequency][value=once]")
    _fill_donor(page)
    page.click("#give-button")
    page.wait_for_selector("#card-number")
    page.click("#pay")
    page.wait_for_url("**/give/thanks/**")
    page.wait_for_selector('[data-status="confirmed"]', timeout=15_000)
    gift = Donation.objects.get()
    old = Receipt.objects.get(donations=gift)

    # when the treasurer opens the gift's page and chooses "Rimborsa"
    page.goto(base + "/admin/login/")
    page.fill("#id_username", "tesoreria-oltre-il-ponte")
    page.fill("#id_password", "demo-oltre-il-ponte-tes")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"{base}/admin/crm/donations/inspect/{gift.pk}/")
    page.locator(f'a[href$="/crm/refunds/{gift.pk}/"]').click()
    page.wait_for_url(f"**/crm/refunds/{gift.pk}/")
    # and asks for 10 € back, with a reason
    page.fill("#id_amount", "10,00")
    page.fill("#id_reason", "Doppio versamento, chiesto al telefono")
    page.locator("[data-testid=refund-form] button[type=submit]").click()

    # then the page asks, and says what will happen, before anything is refunded
    title = page.locator("h1").inner_text()
    assert "Rimborsare € 10,00 a Giulia D'Alò?" in " ".join(title.split())
    consequences = page.locator("[data-testid=refund-consequences]").inner_text()
    assert f"La ricevuta {old.number} sarà annullata e riemessa per € 15,00." in " ".join(
        consequences.split()
    )
    assert "giulia@example.org" in consequences
    screenshot("refund-question")
    gift.refresh_from_db()
    assert gift.refunded_cents == 0

    # when they confirm
    page.get_by_role("button", name="Rimborsa").click()
    page.wait_for_url(f"**/crm/donations/inspect/{gift.pk}/")
    # then the gift is partly refunded, the receipt reissued for 15 €, the donor told
    assert "€ 10,00 rimborsati." in " ".join(page.locator("main").inner_text().split())
    gift.refresh_from_db()
    assert (gift.status, gift.refunded_cents) == ("partially_refunded", 1000)
    old.refresh_from_db()
    new = Receipt.objects.get(donations=gift, status="issued")
    assert old.status == "void" and new.replaces_id == old.pk and new.amount_cents == 1500
    assert DonorEmail.objects.get(kind="refund").amount_cents == 1000
    screenshot("refund-done")
