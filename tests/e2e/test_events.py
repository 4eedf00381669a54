"""Events on a phone (issue 25): a donor buys two tickets and adds € 10, gets the ticket email,
the ticket's QR code is read at the door on a phone-size screen (the address it carries is
opened, as a phone's camera does) and checked in once; only the € 10 gets a receipt and counts
as a gift. The event page, the ticket form (with its errors) and the tickets page pass axe-core
with no serious or critical violation."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail

from .test_giving import giving_site  # noqa: F401

SERIOUS = {"serious", "critical"}
EVENT_PATH = "/oltre-il-ponte/cena-di-primavera/"


def _serious(page):
    results = Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


@pytest.fixture
def event(giving_site, demo):  # noqa: F811
    from cms.models import NetworkPage
    from tests.events.conftest import make_event

    return make_event(NetworkPage.objects.get(network=demo["oltre-il-ponte"]))


@pytest.mark.django_db(transaction=True)
def test_two_tickets_and_10_euro_checked_in_at_the_door(giving_site, event, page, screenshot):  # noqa: F811
    from crm.models import Donation, Receipt
    from events.models import Order, Ticket
    from events.tasks import qr_png

    axe = {}
    adult = event.ticket_types.get(name="Adulto")
    # given a donor on a phone on the event page
    page.goto(giving_site + EVENT_PATH)
    axe["event page"] = _serious(page)
    # a form sent without details is refused, its errors announced
    page.fill(f"#id_qty_{adult.pk}", "2")
    page.click("#buy-button")
    page.wait_for_selector(".has-error")
    axe["ticket form with errors"] = _serious(page)
    # when they take two tickets, add € 10 and pay on Checkout
    page.fill(f"#id_qty_{adult.pk}", "2")
    page.fill("#id_donation", "10")
    page.check("#id_wants_receipt")
    page.fill("#id_first_name", "Giulia")
    page.fill("#id_last_name", "D'Alò")
    page.fill("#id_email", "giulia@example.org")
    page.check("#id_privacy")
    screenshot("event-ticket-form")
    page.click("#buy-button")
    page.wait_for_selector("#card-number")
    assert "60,00" in page.content() or "60.00" in page.content()
    page.click("#pay")
    # then their tickets page turns paid by itself and shows two QR codes
    page.wait_for_url("**/events/order/**")
    page.wait_for_selector('[data-status="paid"]', timeout=15_000)
    assert page.locator('[data-testid="ticket"] img').count() == 2
    axe["tickets page"] = _serious(page)
    screenshot("event-tickets")
    # and the ticket email arrives, a QR code for each ticket
    order = Order.objects.get()
    ticket_mail = [m for m in mail.outbox if "Cena di primavera" in m.subject]
    assert len(ticket_mail) == 1
    html = ticket_mail[0].alternatives[0].content
    urls = re.findall(r'data-checkin-url="([^"]+)"', html)
    images = [a.get_content() for a in ticket_mail[0].attachments]
    assert len(urls) == 2 and images == [qr_png(url.replace("&amp;", "&")) for url in urls]
    # at the door, the volunteer's phone reads the first QR code (its address) and checks in
    page.goto(giving_site + "/admin/login/")
    page.fill("#id_username", "tesoreria-oltre-il-ponte")
    page.fill("#id_password", "demo-oltre-il-ponte-tes")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    door = urls[0].replace("&amp;", "&").replace("http://127.0.0.1:8000", giving_site)
    page.goto(door)
    screenshot("event-checkin")
    page.click("#checkin-button")
    page.wait_for_selector('[data-state="ok"]')
    # the same QR code again: already used
    page.goto(door)
    page.wait_for_selector('[data-state="used"]')
    assert Ticket.objects.filter(order=order, checked_in_at__isnull=False).count() == 1
    # only the € 10 is a gift: its receipt, the gift figures
    gift = Donation.objects.get()
    assert (gift.amount_cents, gift.status) == (1000, "succeeded")
    assert Donation.objects.raised() == 1000
    assert list(Receipt.objects.get().donations.all()) == [gift]
    assert order.tickets_cents == 5000
    assert {where: found for where, found in axe.items() if found} == {}
