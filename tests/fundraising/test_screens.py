"""Bad input is a translated 400 that changes nothing; each network's reports are its
treasurers' alone: another network's treasurer gets a refusal on every report URL, and the
network's communicators (who see no money nor expenses) get none of these screens."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fundraising.models import Expense, FundraisingReport

pytestmark = pytest.mark.django_db

DAY = "01/12/2026"


def _post_expense(client, report, **overrides):
    data = {"amount": "50,00", "spent_on": DAY, "supplier": "Forno Sociale", "category": "goods"}
    data.update(overrides)
    return client.post(reverse("fundraising_expense", args=[report.pk]), data)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "-20"}, "L'importo deve essere maggiore di zero."),
        ({"amount": "dieci"}, "Inserisci un importo in euro"),
        ({"spent_on": "31/02/2026"}, "Inserisci una data valida."),
        ({"spent_on": "01/01/2999"}, "La data non può essere nel futuro."),
        ({"category": "bribes"}, "Scegli un'opzione valida."),
        ({"supplier": ""}, "Questo campo è obbligatorio."),
    ],
)
def test_bad_expenses_are_refused_in_italian_and_change_nothing(
    client, people, report, overrides, message
):
    client.force_login(people["tesoreria-oltre-il-ponte"])
    response = _post_expense(client, report, HTTP_ACCEPT_LANGUAGE="it", **overrides)
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not Expense.objects.exists()


def test_a_wrong_or_oversized_document_is_refused_and_nothing_is_stored(
    client, people, report, settings
):
    settings.FUNDRAISING_DOCUMENT_MAX_BYTES = 1024
    client.force_login(people["tesoreria-oltre-il-ponte"])
    fake = SimpleUploadedFile(
        "fattura.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    response = _post_expense(client, report, document=fake)
    assert response.status_code == 400
    assert "Allega il documento come file PDF, JPEG o PNG." in response.content.decode()
    big = SimpleUploadedFile("fattura.pdf", b"%PDF-1.4" + b"0" * 2048)
    response = _post_expense(client, report, document=big)
    assert response.status_code == 400
    assert "Un documento può essere al massimo di 1,0" in html.unescape(
        response.content.decode()
    ), html.unescape(response.content.decode()).split("error-message")[1:]
    assert not Expense.objects.exists()


def test_a_bad_period_is_refused(client, people, campaign_gifts):
    client.force_login(people["tesoreria-oltre-il-ponte"])
    response = client.post(
        reverse("fundraising_new"),
        {
            "source": f"campaign:{campaign_gifts.pk}",
            "starts_on": "10/10/2026",
            "ends_on": "01/10/2026",
        },
    )
    assert response.status_code == 400
    assert "La fine non può precedere l'inizio." in html.unescape(response.content.decode())
    assert not FundraisingReport.objects.exists()


def _urls(report):
    pk = [report.pk]
    return [
        ("get", reverse("fundraising_report", args=pk), {}),
        ("get", reverse("fundraising_pdf", args=pk), {}),
        ("get", reverse("fundraising_xlsx", args=pk), {}),
        ("get", reverse("fundraising_document", args=pk), {}),
        ("post", reverse("fundraising_note", args=pk), {"note": "scritto da fuori"}),
        (
            "post",
            reverse("fundraising_expense", args=pk),
            {"amount": "5", "spent_on": DAY, "supplier": "x", "category": "other"},
        ),
        ("post", reverse("fundraising_expense_remove", args=pk), {"id": "1"}),
    ]


def test_another_networks_treasurer_is_refused_every_report_url(
    client, people, report, other_report
):
    expense = Expense.objects.create(
        report=report,
        network=report.network,
        amount_cents=100,
        spent_on=report.ends_on,
        supplier="Forno Sociale",
        category="goods",
    )
    client.force_login(people["tesoreria-valle-serena"])
    for method, url, data in _urls(report):
        status = getattr(client, method)(url, data).status_code
        assert status in (403, 404), (url, status)
    # not even knowing the expense's id
    response = client.post(
        reverse("fundraising_expense_remove", args=[report.pk]), {"id": expense.pk}
    )
    assert response.status_code in (403, 404)
    # the list and the new-report form show only their own network's
    listing = client.get(reverse("fundraising_reports")).content.decode()
    assert other_report.title in listing and "Forno Sociale" not in listing
    assert reverse("fundraising_report", args=[report.pk]) not in listing
    form = client.get(reverse("fundraising_new")).content.decode()
    assert f"campaign:{report.campaign_id}" not in form
    refused = client.post(reverse("fundraising_new"), {"source": f"campaign:{report.campaign_id}"})
    assert refused.status_code == 400
    # and nothing of the report changed
    report.refresh_from_db()
    assert report.note == "" and Expense.objects.filter(report=report).count() == 1
    # the report's own treasurer reaches each URL (the refusals above are the policy's)
    client.force_login(people["tesoreria-oltre-il-ponte"])
    assert client.get(reverse("fundraising_report", args=[report.pk])).status_code == 200
    assert client.get(reverse("fundraising_pdf", args=[report.pk])).status_code == 200


def _refused(response):
    """A refusal: 403/404, or Wagtail's answer to a denied admin page (back to the dashboard)."""
    if response.status_code == 302:
        return response["Location"] == reverse("wagtailadmin_home")
    return response.status_code in (403, 404)


def test_communicators_see_no_report(client, people, report):
    client.force_login(people["comunicazione-oltre-il-ponte"])
    assert _refused(client.get(reverse("fundraising_reports")))
    for method, url, data in _urls(report):
        assert _refused(getattr(client, method)(url, data)), url
    menu = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("fundraising_reports") not in menu
    report.refresh_from_db()
    assert report.note == ""
