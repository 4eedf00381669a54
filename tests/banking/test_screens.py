"""The treasurers' screens: upload (twice: nothing added), hostile XML refused with a 400 and
nothing stored, the review list's decisions, the bank details, and network isolation."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from banking.models import BankDetails, CsvMapping, Pledge, Statement, StatementLine
from banking.pledges import create_pledge
from crm.models import Donation, Donor, Receipt

from .camt_files import BILLION_LAUGHS, EXTERNAL_ENTITY, Entry, camt053

DETAILS = {"first_name": "Zaccaria", "last_name": "Segreti", "email": "zac@example.org"}


def _upload(client, network, data, name="dic.xml"):
    return client.post(
        reverse("banking_upload"),
        {"network": network.pk, "kind": "camt053", "file": SimpleUploadedFile(name, data)},
    )


@pytest.fixture
def statement_file(campaign, bank_details):
    pledge = create_pledge(
        network=campaign.network,
        campaign=campaign,
        amount_cents=5000,
        donor_details=DETAILS,
        wants_receipt=True,
    )
    entries = [
        Entry("50.00", ref="R-1", name="Zaccaria Segreti", remittance=f"rif {pledge.reference}"),
        Entry("77.00", ref="R-2", name="Ignoto Benefattore", remittance="offerta"),
        Entry("12.00", credit=False, ref="R-3", name="Banca", remittance="commissioni"),
    ]
    return pledge, camt053(entries, version="001.08")


@pytest.mark.django_db
def test_upload_twice_adds_nothing(client, treasurers, campaign, statement_file):
    pledge, data = statement_file
    client.force_login(treasurers[0])
    response = _upload(client, campaign.network, data)
    assert response.status_code == 302
    statement = Statement.objects.get()
    page = client.get(response["Location"]).content.decode()
    # the admin in Italian, euros as people write them
    assert "R-1" in page and "Dono registrato" in page and "€\u00a077,00" in page
    counts = (StatementLine.objects.count(), Donation.objects.count(), Receipt.objects.count())
    again = _upload(client, campaign.network, data, name="again.xml")
    assert again["Location"] == reverse("banking_statement", args=[statement.pk])
    assert counts == (
        StatementLine.objects.count(),
        Donation.objects.count(),
        Receipt.objects.count(),
    )
    assert Statement.objects.count() == 1
    assert Pledge.objects.get(pk=pledge.pk).donation.receipts.exists()


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY])
@pytest.mark.django_db
def test_hostile_xml_gets_a_400_and_nothing_is_stored(
    client, treasurers, campaign, bank_details, hostile
):
    client.force_login(treasurers[0])
    response = _upload(client, campaign.network, hostile)
    assert response.status_code == 400
    assert "DTD" in response.content.decode()
    assert not Statement.objects.exists() and not StatementLine.objects.exists()


@pytest.mark.django_db
def test_the_review_list_makes_a_gift_or_ignores(client, treasurers, campaign, statement_file):
    _pledge, data = statement_file
    client.force_login(treasurers[0])
    _upload(client, campaign.network, data)
    line = StatementLine.objects.get(bank_reference="R-2")
    review = client.get(reverse("banking_review")).content.decode()
    assert "Ignoto Benefattore" in review and "commissioni" not in review  # no debit
    url = reverse("banking_decide", args=[line.pk])
    client.post(url, {f"l{line.pk}-action": "ignore", f"l{line.pk}-reason": ""})
    line.refresh_from_db()
    assert line.status == "review"  # a reason is required
    client.post(
        url,
        {
            f"l{line.pk}-action": "new",
            f"l{line.pk}-first_name": "Ignoto",
            f"l{line.pk}-last_name": "Benefattore",
        },
    )
    line.refresh_from_db()
    assert line.status == "matched" and line.donation.donor.last_name == "Benefattore"
    assert line.donation.method == Donation.Method.BANK_TRANSFER
    debit = StatementLine.objects.get(bank_reference="R-3")
    client.post(
        reverse("banking_decide", args=[debit.pk]),
        {f"l{debit.pk}-action": "new", f"l{debit.pk}-last_name": "X"},
    )
    debit.refresh_from_db()
    assert debit.donation_id is None and debit.status == "not_a_gift"


@pytest.mark.django_db
def test_a_treasurer_edits_the_bank_details_and_a_bad_iban_is_refused(client, treasurers, networks):
    client.force_login(treasurers[0])
    url = reverse("banking_details", args=[networks[0].pk])
    bad = client.post(
        url,
        {"beneficiary": "Oltre il Ponte", "iban": "IT60X0542811101000000123457", "pledge_days": 30},
    )
    assert bad.status_code == 400 and "non è un IBAN valido" in bad.content.decode()
    assert not BankDetails.objects.exists()
    client.post(
        url,
        {
            "beneficiary": "Oltre il Ponte",
            "iban": "it60 x054 2811 1010 0000 0123 456",
            "pledge_days": 20,
            "payout_marker": "STRIPE",
        },
    )
    assert BankDetails.objects.get().iban == "IT60X0542811101000000123456"
    # network B's treasurer reaches neither A's bank details nor A's statement
    client.force_login(treasurers[1])
    assert client.get(url).status_code in (403, 404)


@pytest.mark.django_db
def test_a_credit_too_large_for_a_gift_stays_to_review(client, treasurers, campaign, bank_details):
    # a credit of € 99.999.999,99 (a loan, a sale): no gift can keep it (a 500 before)
    client.force_login(treasurers[0])
    huge = Entry("99999999.99", ref="R-9", name="Grande Benefattore", remittance="offerta")
    _upload(client, campaign.network, camt053([huge]))
    line = StatementLine.objects.get(bank_reference="R-9")
    url = reverse("banking_decide", args=[line.pk])
    response = client.post(url, {f"l{line.pk}-action": "new", f"l{line.pk}-last_name": "Grande"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.status == "review" and line.donation_id is None
    assert not Donation.objects.filter(reference="R-9").exists()
    assert not Donor.objects.filter(last_name="Grande").exists()
    page = client.get(reverse("banking_review")).content.decode()
    assert "al massimo €" in page


@pytest.mark.django_db
@pytest.mark.parametrize("days", ["0", "366", "99999999999"])
def test_a_pledge_waits_between_a_day_and_a_year(client, treasurers, networks, days):
    # 0 days lets every pledge lapse the day it is made; a huge number broke the date of
    # expiry on the public bank-transfer page (a 500 for the donor)
    client.force_login(treasurers[0])
    url = reverse("banking_details", args=[networks[0].pk])
    details = {"beneficiary": "Oltre il Ponte", "iban": "IT60X0542811101000000123456"}
    response = client.post(url, {**details, "pledge_days": days})
    assert response.status_code == 400
    assert "pledge_days" in response.context["form"].errors
    assert not BankDetails.objects.exists()


@pytest.mark.django_db
def test_a_treasurer_of_b_never_sees_a_statements_or_pledges(
    client, treasurers, campaign, statement_file
):
    _pledge, data = statement_file
    client.force_login(treasurers[0])
    _upload(client, campaign.network, data)
    statement = Statement.objects.get()
    client.force_login(treasurers[1])
    for name in ("banking_statements", "banking_review", "banking_pledges"):
        html = client.get(reverse(name)).content.decode()
        assert "Segreti" not in html and "Benefattore" not in html, name
    assert client.get(reverse("banking_statement", args=[statement.pk])).status_code == 404
    line = StatementLine.objects.get(bank_reference="R-2")
    refused = client.post(
        reverse("banking_decide", args=[line.pk]),
        {f"l{line.pk}-action": "ignore", f"l{line.pk}-reason": "mine"},
    )
    assert refused.status_code == 404
    # nor upload a statement for A
    assert _upload(client, campaign.network, data, "x.xml").status_code == 400
    # and A's treasurer sees them all
    client.force_login(treasurers[0])
    assert "Segreti" in client.get(reverse("banking_pledges")).content.decode()


@pytest.mark.django_db
def test_a_csv_mapping_offers_date_formats_in_peoples_words(client, treasurers, networks):
    client.force_login(treasurers[0])
    url = reverse("banking_details", args=[networks[0].pk])
    page = client.get(url).content.decode()
    assert "gg/mm/aaaa (31/12/2026)" in page and 'value="%d/%m/%Y"' not in page.split("<select")[0]
    mapping = {
        "csv-bank": "Banca Etica",
        "csv-delimiter": ";",
        "csv-skip_lines": "0",
        "csv-date_column": "Data",
        "csv-amount_column": "Importo",
        "csv-description_column": "Causale",
    }
    refused = client.post(reverse("banking_add_mapping", args=[networks[0].pk]),
                          {**mapping, "csv-date_format": "gg/mm/aaaa"}, follow=True)  # fmt: skip
    told = refused.content.decode()
    assert "Formato della data:" in told and "date_format:" not in told
    assert not CsvMapping.objects.exists()
    client.post(reverse("banking_add_mapping", args=[networks[0].pk]),
                {**mapping, "csv-date_format": "%d.%m.%Y"})  # fmt: skip
    assert CsvMapping.objects.get().date_format == "%d.%m.%Y"
