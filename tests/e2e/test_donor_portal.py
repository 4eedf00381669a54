"""On a phone: a monthly gift without a receipt is confirmed by email (the plan's welcome, with
its manage link); the donor asks for the link to their page, opens it, sees the gift and the
plan, and gives their codice fiscale for the next receipts."""

import re
import time

import pytest

from tests.e2e.test_campaign_page import _serious
from tests.e2e.test_giving import CAMPAIGN_PATH, _fill_donor, giving_site  # noqa: F401

PORTAL_PATH = "/my-giving/oltre-il-ponte/"


def wait_for_mail(outbox, predicate, seconds=20):
    """The first email matching `predicate`, once the live server has sent it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [m for m in outbox if predicate(m)]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no such email among {[m.subject for m in outbox]}")


@pytest.mark.django_db(transaction=True)
def test_a_monthly_donor_is_confirmed_then_manages_their_page(
    giving_site,  # noqa: F811
    page,
    screenshot,
    mailoutbox,
    settings,
):
    from crm.models import Donor

    settings.SITE_URL = giving_site
    # given a donor on a phone who gives 25 € every month, without asking for a receipt
    page.goto(giving_site + CAMPAIGN_PATH)
    page.check('input[name=amount][value="2500"]')
    page.check("input[name=frequency][value=monthly]")
    _fill_donor(page, first="Lucia", last="Neri", email="lucia@example.org")
    page.click("#give-button")
    page.wait_for_selector("#card-number")
    page.click("#pay")
    page.wait_for_selector('[data-status="confirmed"]', timeout=15_000)

    # then the welcome email confirms the gift, with the link to manage the plan
    welcome = wait_for_mail(mailoutbox, lambda m: m.to == ["lucia@example.org"])
    assert "€\xa025,00" in welcome.body and "Gentile Lucia," in welcome.body
    assert "/give/plan/" in welcome.body
    assert welcome.attachments == []

    # when they ask for the link to their page
    page.goto(giving_site + PORTAL_PATH)
    # (the donor's pages pass axe-core too: no serious or critical violation)
    axe = {"asking for the link": _serious(page)}
    page.fill("#id_email", "lucia@example.org")
    page.get_by_role("button", name="Mandami il link").click()
    page.wait_for_selector('[data-testid="portal-sent"]')
    axe["link sent"] = _serious(page)
    message = wait_for_mail(mailoutbox, lambda m: "/open/" in m.body)
    (link,) = re.findall(r"http://\S+/open/\S+/", message.body)

    # and open it
    page.goto(link)
    page.wait_for_selector('[data-testid="portal-gifts"]')
    screenshot("donor-portal")
    axe["the donor's page"] = _serious(page)
    gifts = page.locator('[data-testid="portal-gifts"]').inner_text()
    assert "25,00" in gifts
    plans = page.locator('[data-testid="portal-plans"]')
    assert "25,00" in plans.inner_text()
    assert "/give/plan/" in plans.get_by_role("link").first.get_attribute("href")

    # when they give their codice fiscale (lower case, with spaces) and save
    page.fill("#id_details-codice_fiscale", " rssmra80a01h501u ")
    page.get_by_role("button", name="Salva i miei dati").click()
    page.wait_for_selector('[data-testid="portal-saved"]')

    # then it is kept for their next receipts
    donor = Donor.objects.get(email="lucia@example.org")
    assert donor.codice_fiscale == "RSSMRA80A01H501U"
    assert page.input_value("#id_details-codice_fiscale") == "RSSMRA80A01H501U"

    # and the plan's own page, reached from theirs, is as accessible
    page.goto(plans.get_by_role("link").first.get_attribute("href"))
    page.wait_for_load_state()
    axe["the plan's page"] = _serious(page)
    assert {where: found for where, found in axe.items() if found} == {}
