"""Relationship fundraising in a real browser (issue 24): a communicator records a foundation's
call, turns it into an opportunity and moves it to pledged with three instalments; a bank
transfer for the first instalment arrives (crm's offline-gift verb) and the treasurer links it:
the dashboard shows two instalments left; after the award, the report owed is reminded to its
owner by email before its due date, once however often the periodic job runs."""

import datetime
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from .test_treasurer import log_in

COMMUNICATOR = ("comunicazione-oltre-il-ponte", "demo-oltre-il-ponte-com")
TREASURER = ("tesoreria-oltre-il-ponte", "demo-oltre-il-ponte-tes")


def submit(page):
    page.locator("main form[method='post'] button[type='submit']").first.click()


@pytest.mark.django_db(transaction=True)
def test_a_call_becomes_a_grant_paid_in_instalments_and_its_report_is_reminded(
    live_server, demo, browser, page, screenshot, settings
):
    from wagtail.models import Site

    from crm.models import Donation, Donor
    from crm.offline import record_offline_gift
    from relations.models import Call, Instalment, Opportunity, Organisation, Report
    from relations.tasks import send_reminders

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    base = live_server.url
    network = demo["oltre-il-ponte"]
    today = timezone.localdate()
    # given a foundation the network knows, with its donor record in the CRM
    donor = Donor.objects.create(
        network=network,
        kind=Donor.Kind.ORGANISATION,
        organisation_name="Fondazione Comunitaria del Lecchese",
        codice_fiscale="92012340011",
    )
    foundation = Organisation.objects.create(
        network=network, name=donor.organisation_name, kind="foundation", donor=donor
    )

    # when the communicator records the foundation's call
    log_in(page, base, *COMMUNICATOR)
    page.goto(base + "/admin/crm/relations/calls/new/")
    page.fill("#id_title", "Bando Welfare di comunità 2026")
    page.select_option("#id_funder", str(foundation.pk))
    page.fill("#id_deadline", (today + datetime.timedelta(days=40)).strftime("%d/%m/%Y"))
    page.fill("#id_budget_cents", "30.000")
    submit(page)
    page.wait_for_url("**/crm/relations/calls/")
    call = Call.objects.get(title="Bando Welfare di comunità 2026")
    assert call.funder == foundation and call.budget_cents == 3_000_000
    assert call.owner.username == COMMUNICATOR[0]

    # and turns it into an opportunity from the call's page
    page.goto(f"{base}/admin/crm/relations/calls/inspect/{call.pk}/")
    page.locator("form[action$='/to-opportunity/'] button").click()
    page.wait_for_url("**/crm/relations/opportunities/inspect/*/")
    ask = Opportunity.objects.get(call=call)
    assert ask.organisation == foundation and ask.stage == "idea"

    # and moves it to pledged with three instalments, the first due today
    page.locator(f"a[href$='/opportunities/{ask.pk}/pledge/']").click()
    page.select_option("#id_kind", "grant")
    assert page.input_value("#id_amount") == "30.000,00"
    page.fill("#id_instalments", "3")
    page.fill("#id_first_due_on", today.isoformat())
    page.fill("#id_every_months", "4")
    submit(page)
    page.wait_for_url(f"**/crm/relations/opportunities/inspect/{ask.pk}/")
    ask.refresh_from_db()
    assert ask.stage == "pledged"
    assert [i.amount_cents for i in ask.pledge.instalments.all()] == [1_000_000] * 3
    screenshot("relations-pledged")

    # and the communicator's dashboard shows the three instalments to come
    page.goto(base + "/admin/")
    assert page.locator("[data-panel='relations-instalments'] [data-due='3']").is_visible()
    # (a communicator links no gift: that is the treasurer's)
    first = ask.pledge.instalments.get(number=1)
    page.goto(f"{base}/admin/crm/relations/opportunities/instalment/{first.pk}/link/")
    assert page.url == base + "/admin/"  # refused: Wagtail sends them home with a message
    assert page.locator("#id_donation").count() == 0

    # when a bank transfer for the first instalment arrives (crm's offline-gift verb)
    gift = record_offline_gift(
        network=network,
        donor=donor,
        amount_cents=1_000_000,
        received_on=today,
        method=Donation.Method.BANK_TRANSFER,
        reference="CRO 2026-0001",
        confirm=False,
    )
    # and the treasurer links it to its instalment from the opportunity's page
    treasurer_context = browser.new_context(viewport={"width": 1280, "height": 900})
    treasurer = treasurer_context.new_page()
    log_in(treasurer, base, *TREASURER)
    treasurer.goto(f"{base}/admin/crm/relations/opportunities/inspect/{ask.pk}/")
    treasurer.locator(f"a[href$='/instalment/{first.pk}/link/']").click()
    treasurer.select_option("#id_donation", str(gift.pk))
    submit(treasurer)
    treasurer.wait_for_url(f"**/crm/relations/opportunities/inspect/{ask.pk}/")
    first.refresh_from_db()
    assert first.donation == gift

    # then the dashboard shows two left, for both of them
    for who in (treasurer, page):
        who.goto(base + "/admin/")
        panel = who.locator("[data-panel='relations-instalments']")
        assert panel.locator("[data-due='2']").is_visible()
        assert panel.locator("tbody tr").count() == 2
    screenshot("relations-dashboard")
    # and the money is the gift's, once: the pledge added none
    assert Donation.objects.filter(network=network).counted().raised() == (
        sum(
            Donation.objects.filter(network=network)
            .counted()
            .values_list("amount_cents", flat=True)
        )
    )
    assert Instalment.objects.filter(pledge__opportunity=ask, donation=None).count() == 2
    treasurer_context.close()

    # when the call is awarded and the communicator adds the report owed, due in 5 days
    Call.objects.filter(pk=call.pk).update(status=Call.Status.AWARDED)
    page.goto(f"{base}/admin/crm/relations/calls/inspect/{call.pk}/")
    page.locator("a[href*='/crm/relations/reports/new/']").click()
    page.fill("#id_title", "Rendiconto intermedio")
    assert page.input_value("#id_call") == str(call.pk)
    page.fill("#id_due_on", (today + datetime.timedelta(days=5)).strftime("%d/%m/%Y"))
    submit(page)
    page.wait_for_url("**/crm/relations/reports/")
    report = Report.objects.get(title="Rendiconto intermedio")
    assert report.owner.username == COMMUNICATOR[0]

    # then the periodic job emails its owner before the due date, once, even run twice
    settings.RELATIONS_REMINDER_DAYS = (7, 1)
    mail.outbox.clear()
    send_reminders.call()
    send_reminders.call()
    reminders = [m for m in mail.outbox if "Rendiconto intermedio" in m.subject]
    assert len(reminders) == 1
    assert reminders[0].to == [report.owner.email]
