"""A campaign's public-fundraising report holds, to the cent, the income the money views show
(gifts net of refunds, offline gifts, matched funds received), the expenses the treasurer
recorded and the explanatory note: on the screen, in the PDF read back as text and in the
spreadsheet read back with openpyxl."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from campaigns.reports import campaign_progress
from crm.models import Donation, Network
from fundraising.documents import render_report_pdf
from fundraising.figures import income_lines
from fundraising.models import Expense, FundraisingReport
from tests.entities import partner_entity
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db

NOTE = "La cena del 12 ottobre al Centro Civico ha finanziato il doposcuola di via Padova."
PDF = b"%PDF-1.4\n% a scanned invoice\n"


def _cents(report):
    return {line.key: line.cents for line in income_lines(report)}


def _record(client, report, amount, on, supplier, category, document=None):
    data = {"amount": amount, "spent_on": on, "supplier": supplier, "category": category}
    if document is not None:
        data["document"] = document
    return client.post(reverse("fundraising_expense", args=[report.pk]), data)


def test_the_income_lines_are_the_money_views_figures(report, campaign_gifts, today):
    # Given the campaign's gifts (fixtures: refunds, a checkout never paid, offline, matched)
    lines = _cents(report)
    # Then each line is net of refunds, to the cent
    assert lines == {"online": 17025, "offline": 103540, "matched": 20000}
    # and together they are what the money views say the campaign raised in the period
    raised = Donation.objects.filter(
        campaign=campaign_gifts, received_on__gte=report.starts_on
    ).raised()
    assert sum(lines.values()) == raised == 140565
    progress = campaign_progress(Network.objects.filter(pk=report.network_id))
    whole = next(row["raised"] for row in progress if row["title"] == campaign_gifts.title)
    assert whole == raised + 4400  # the money view has no period: the early gift too
    # Given a period that starts on the early gift's day, the report counts it as well
    report.starts_on = today - datetime.timedelta(days=60)
    assert sum(_cents(report).values()) == whole


def test_the_pdf_and_the_spreadsheet_hold_income_expenses_and_note(client, people, report):
    client.force_login(people["tesoreria-oltre-il-ponte"])
    before = client.get(reverse("fundraising_report", args=[report.pk])).content.decode()
    assert "costs-warning" not in before and "1.405,65" in before
    # When the treasurer records two expenses (euros as people write them) and the note
    day = report.ends_on.strftime("%d/%m/%Y")
    invoice = SimpleUploadedFile("fattura-tipografia.pdf", PDF, content_type="application/pdf")
    ok = _record(client, report, "250", day, "Tipografia Gialla", "promotion", invoice)
    assert ok.status_code == 302
    assert _record(client, report, "1.234,50", day, "Centro Civico", "hire").status_code == 302
    saved = client.post(reverse("fundraising_note", args=[report.pk]), {"note": NOTE})
    assert saved.status_code == 302
    assert Expense.objects.filter(report=report).count() == 2
    stored = Expense.objects.get(supplier="Tipografia Gialla")
    assert stored.amount_cents == 25000 and stored.document_name == "fattura-tipografia.pdf"
    # the document is private: the storage has no URL for it, the checked view serves it
    with pytest.raises(NotImplementedError):
        stored.document.url  # noqa: B018
    document = client.get(reverse("fundraising_document", args=[report.pk]), {"id": stored.pk})
    assert b"".join(document.streaming_content) == PDF

    # Then the screen shows the figures as people write them
    page = client.get(reverse("fundraising_report", args=[report.pk])).content.decode()
    for amount in ("170,25", "1.035,40", "200,00", "1.405,65", "1.234,50", "1.484,50", "78,85"):
        assert amount in page, amount
    # and, the expenses above the income, asks for the reason in the note (DM 9 June 2022)
    assert 'data-testid="costs-warning"' in page

    # and the PDF read back holds the income to the cent, the expenses and the note
    response = client.get(reverse("fundraising_pdf", args=[report.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content).split())
    for amount in ("170,25", "1.035,40", "200,00", "1.405,65", "250,00", "1.234,50", "1.484,50"):
        assert f"€ {amount}" in text, amount
    assert "− € 78,85" in text  # the balance: expenses above the income
    assert "Tipografia Gialla" in text and "Centro Civico" in text
    assert "Centro Civico ha finanziato il doposcuola di via Padova" in text
    assert report.title in text
    for raw in ("140565", "None", "True", "promotion"):
        assert raw not in text, raw

    # and so does the spreadsheet, read back with openpyxl: numbers in euros, to the cent
    sheet = client.get(reverse("fundraising_xlsx", args=[report.pk]))
    book = load_workbook(io.BytesIO(b"".join(sheet.streaming_content)))
    cells = list(book.active.iter_rows(values_only=True))
    amounts = [value for row in cells for value in row if hasattr(value, "as_integer_ratio")]
    for euros in ("170.25", "1035.40", "200.00", "1405.65", "250.00", "1234.50", "1484.50"):
        assert any(f"{value:.2f}" == euros for value in amounts), euros
    assert any(f"{value:.2f}" == "-78.85" for value in amounts)
    flat = [value for row in cells for value in row if isinstance(value, str)]
    assert NOTE in flat and "Tipografia Gialla" in flat
    assert any(isinstance(v, datetime.datetime) for row in cells for v in row)


def test_a_report_is_created_from_a_campaign_with_its_dates(client, people, campaign_gifts):
    client.force_login(people["tesoreria-oltre-il-ponte"])
    form = client.get(reverse("fundraising_new")).content.decode()
    assert campaign_gifts.title in form
    response = client.post(
        reverse("fundraising_new"),
        {"source": f"campaign:{campaign_gifts.pk}", "starts_on": "01/01/2026", "ends_on": ""},
    )
    assert response.status_code == 302
    report = FundraisingReport.objects.get()
    assert report.campaign_id == campaign_gifts.pk and report.network == campaign_gifts.network
    assert report.starts_on == datetime.date(2026, 1, 1)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("it", ("Totale entrate", "Donazioni offline", "€ 1.405,65", "Relazione illustrativa")),
        ("en", ("Total income", "Offline gifts", "€ 1,405.65", "Explanatory note")),
    ],
)
def test_the_pdf_speaks_the_readers_language(report, language, words):
    with translation.override(language):
        text = " ".join(pdf_text(render_report_pdf(report)).split())
    for word in words:
        assert word in text, word


def test_the_report_names_the_entity_that_received_the_campaigns_gifts(report):
    # Given a campaign whose gifts go to a partner of the network, not to the lead entity
    network = report.network
    partner = partner_entity(network)
    campaign = report.campaign
    campaign.issuing_entity = partner
    campaign.save(update_fields=["issuing_entity"])
    # When its report is drawn up
    text = " ".join(pdf_text(render_report_pdf(report)).split())
    # Then it speaks for the partner, who received the money, not for the lead entity
    assert "Cooperativa sociale Il Ponte" in text and "01234560157" in text
    assert network.lead_entity.codice_fiscale not in text
