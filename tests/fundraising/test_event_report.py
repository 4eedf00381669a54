"""An event's report: its ticket income (never a gift) and the gifts on top, each net of
refunds, as the event's own figures count them; in the PDF to the cent."""

import pytest
from django.urls import reverse

from crm.models import Donation, Donor
from events.figures import event_figures
from events.models import Order
from fundraising.models import FundraisingReport
from tests.events.conftest import make_event
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db


def _order(event, donor, tickets, refunded, gift_cents=0, gift_refunded=0):
    gift = None
    if gift_cents:
        gift = Donation.objects.create(
            network=event.network,
            donor=donor,
            amount_cents=gift_cents,
            refunded_cents=gift_refunded,
            method=Donation.Method.CARD,
            status=Donation.Status.PARTIALLY_REFUNDED
            if gift_refunded
            else Donation.Status.SUCCEEDED,
        )
    return Order.objects.create(
        network=event.network,
        event=event,
        status=Order.Status.PAID,
        first_name="Ida",
        last_name="Brambilla",
        email="ida@example.org",
        tickets_cents=tickets,
        tickets_refunded_cents=refunded,
        donation=gift,
    )


def test_an_events_report_has_its_tickets_and_gifts_on_top(client, demo, people):
    from cms.models import NetworkPage

    network = demo["oltre-il-ponte"]
    event = make_event(NetworkPage.objects.get(network=network))
    donor = Donor.objects.create(network=network, first_name="Ida", last_name="Brambilla")
    _order(event, donor, 5000, 0, gift_cents=2550)
    _order(event, donor, 7500, 2500, gift_cents=1000, gift_refunded=400)
    Order.objects.create(  # never paid: nothing
        network=network,
        event=event,
        first_name="X",
        last_name="Y",
        email="x@example.org",
        tickets_cents=9900,
    )
    client.force_login(people["tesoreria-oltre-il-ponte"])
    response = client.post(reverse("fundraising_new"), {"source": f"event:{event.pk}"})
    assert response.status_code == 302
    report = FundraisingReport.objects.get(event=event)
    assert report.starts_on == report.ends_on == event.starts_at.date()
    figures = event_figures(event)
    assert (figures["ticket_income_cents"], figures["donations_cents"]) == (10000, 3150)
    text = " ".join(
        pdf_text(client.get(reverse("fundraising_pdf", args=[report.pk])).content).split()
    )
    assert "€ 100,00" in text and "€ 31,50" in text and "€ 131,50" in text
