"""A bank file that is odd, hostile or simply long (attack pass, 5 December 2026): whatever it
holds, the upload is a clear translated 400 that writes nothing, never a 500 from the database
or the csv module; and a movement read twice is one line, whatever the length of its reference."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from banking import statements
from banking.models import CsvMapping, Statement, StatementLine
from banking.parsed import StatementRefused
from tests.banking import conftest as banking
from tests.banking.camt_files import Entry, camt053

bank_details = banking.bank_details
campaign = banking.campaign
networks = banking.networks
treasurers = banking.treasurers
_clear_cache = banking._clear_cache

pytestmark = pytest.mark.django_db

HEADER = "Data;Importo;Descrizione;Ordinante;IBAN;Riferimento\n"


@pytest.fixture
def mapping(campaign, bank_details):
    return CsvMapping.objects.create(
        network=campaign.network,
        bank="Banca Prova",
        date_column="Data",
        amount_column="Importo",
        description_column="Descrizione",
        name_column="Ordinante",
        iban_column="IBAN",
        reference_column="Riferimento",
    )


def _upload_csv(client, network, mapping, data):
    return client.post(
        reverse("banking_upload"),
        {
            "network": network.pk,
            "kind": "csv",
            "mapping": mapping.pk,
            "file": SimpleUploadedFile("estratto.csv", data, content_type="text/csv"),
        },
        HTTP_ACCEPT_LANGUAGE="it",
    )


def _upload_camt(client, network, data):
    return client.post(
        reverse("banking_upload"),
        {
            "network": network.pk,
            "kind": "camt053",
            "file": SimpleUploadedFile("estratto.xml", data, content_type="text/xml"),
        },
    )


@pytest.mark.parametrize(
    "line, said",
    [
        # a cell over the csv module's field limit (131,072 characters)
        ("03/12/2026;10,00;" + "x" * 140_000 + ";Anna;;R1", "non è un CSV"),
        # an amount with more digits than a Decimal keeps
        ("03/12/2026;1" + "0" * 40 + ",00;Offerta;Anna;;R1", "non si riesce a leggere"),
        # an amount past what the amount column keeps (a database error, a 500)
        ("03/12/2026;99999999999999999999,00;Offerta;Anna;;R1", "Riga 1: l&#x27;importo supera"),
        # an IBAN column holding a sentence, longer than an IBAN's column
        ("03/12/2026;10,00;Offerta;Anna;" + "IT60 X054 " * 10 + ";R1", "Riga 1: l&#x27;IBAN"),
        # a NUL byte (a UTF-16 file read as another encoding is full of them)
        ("03/12/2026;10,00;Off\x00erta;Anna;;R1", "Il testo del file non si riesce a leggere"),
    ],
)
def test_an_odd_bank_csv_is_a_clear_400_that_writes_nothing(
    client, treasurers, campaign, mapping, line, said
):
    client.force_login(treasurers[0])
    client.raise_request_exception = False
    response = _upload_csv(client, campaign.network, mapping, (HEADER + line + "\n").encode())
    assert response.status_code == 400
    assert said in response.content.decode()  # in Italian, under the file box
    assert not Statement.objects.exists()
    assert not StatementLine.objects.exists()


@pytest.mark.parametrize(
    "entry, iban",
    [
        (Entry("1" + "0" * 40 + ".00", ref="R1"), None),
        (Entry("10.00", ref="R1", iban="IT60X0542811101000000123456" * 3), None),
        (Entry("10.00", ref="R1"), "IT60X0542811101000000123456" * 3),
    ],
)
def test_an_odd_camt_statement_is_a_clear_400_that_writes_nothing(
    client, treasurers, campaign, bank_details, entry, iban
):
    client.force_login(treasurers[0])
    client.raise_request_exception = False
    data = camt053([entry], **({"iban": iban} if iban else {}))
    response = _upload_camt(client, campaign.network, data)
    assert response.status_code == 400
    assert not Statement.objects.exists()


def test_a_currency_code_longer_than_three_letters_is_refused(campaign, bank_details):
    data = camt053([Entry("10.00", ref="R1")]).replace(b'Ccy="EUR">10.00', b'Ccy="EURO">10.00')
    with translation.override("en"), pytest.raises(StatementRefused):
        statements.import_statement(
            network=campaign.network, data=data, filename="x.xml", kind="camt053"
        )
    assert not Statement.objects.exists()


def test_a_long_bank_reference_read_twice_is_one_line(campaign, mapping):
    reference = "CRO-" + "7" * 200
    first = HEADER + f"03/12/2026;10,00;Offerta;Anna;;{reference}\n"
    # the next statement overlaps the first: the same movement, and a new one
    second = first + "04/12/2026;20,00;Offerta;Bruno;;CRO-2\n"
    for data in (first, second):
        statements.import_statement(
            network=campaign.network,
            data=data.encode(),
            filename="x.csv",
            kind="csv",
            mapping=mapping,
        )
    assert StatementLine.objects.count() == 2
    assert StatementLine.objects.filter(amount_cents=1000).count() == 1


def test_a_pledge_received_already_is_not_offered_as_a_second_gift(
    client, treasurers, campaign, bank_details
):
    """The donor's transfer comes in twice (two statements, two bank references: the bank's
    retry, or the donor's own mistake). The first is the pledge's gift; the second waits for
    review and names the pledge; "gift of the proposed pledge" made a second gift of it."""
    from banking.models import Pledge
    from banking.pledges import create_pledge
    from crm.models import Donation

    pledge = create_pledge(
        network=campaign.network,
        campaign=campaign,
        amount_cents=5000,
        donor_details={"first_name": "Zaccaria", "last_name": "Segreti", "email": "z@example.org"},
        wants_receipt=True,
    )
    for number in (1, 2):
        entry = Entry(
            "50.00", ref=f"R-{number}", name="Zaccaria Segreti", remittance=pledge.reference
        )
        statements.import_statement(
            network=campaign.network,
            data=camt053([entry], statement_id=f"S-{number}"),
            filename="s.xml",
            kind="camt053",
        )
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.RECEIVED and Donation.objects.count() == 1
    second = StatementLine.objects.get(bank_reference="R-2")
    assert second.status == StatementLine.Status.REVIEW and second.pledge_id == pledge.pk

    client.force_login(treasurers[0])
    url = reverse("banking_decide", args=[second.pk])
    response = client.post(url, {f"l{second.pk}-action": "pledge"}, follow=True)
    assert "Questa promessa è già stata ricevuta" in response.content.decode()
    assert Donation.objects.count() == 1
    second.refresh_from_db()
    assert second.status == StatementLine.Status.REVIEW  # still the treasurer's to decide
