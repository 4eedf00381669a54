"""Bank statements in: camt.053 001.02 and 001.08, a bank CSV through its saved mapping, the
same statement twice, hostile XML, and what each line becomes."""

import datetime

import pytest
from django.utils import translation

from banking import statements
from banking.matching import LineRefused, ignore_line, record_line_gift
from banking.models import CsvMapping, Pledge, Statement, StatementLine
from banking.parsed import StatementRefused
from banking.pledges import create_pledge
from campaigns.payouts.models import Payout
from crm.models import Donation, Donor, Receipt

from .camt_files import BILLION_LAUGHS, EXTERNAL_ENTITY, Entry, camt053

DETAILS = {
    "first_name": "Anna",
    "last_name": "Bianchi",
    "email": "anna.bianchi@example.org",
    "codice_fiscale": "BNCNNA80A41F205X",
    "language": "it",
}


def _statement(pledge, version, payout=None, statement_id="STMT-1"):
    entries = [
        Entry(
            "25.00",
            ref="BANKREF-1",
            name="Anna Bianchi",
            iban="IT12A0306909606100000012345",
            remittance=f"Donazione rif. {pledge.reference}",
        ),
        Entry("40.00", ref="BANKREF-2", name="Marco Verdi", remittance="Per il doposcuola"),
        Entry(
            "120.00",
            credit=False,
            ref="BANKREF-3",
            name="Enel",
            remittance="Bolletta",
            family="ICDT-ESCT",
        ),
        Entry(
            "40.00",
            ref="BANKREF-4",
            reversal=True,
            credit=True,
            name="Storno",
            remittance="Storno addebito",
        ),
        Entry(
            "15.00",
            ref="BANKREF-5",
            name="Luca Neri",
            returned=True,
            family="RCDT-RRTN",
            remittance="Bonifico restituito",
        ),
        Entry(
            "310.40",
            ref="BANKREF-6",
            name="STRIPE PAYMENTS EUROPE",
            remittance=f"STRIPE {payout.stripe_payout_id if payout else 'PAYOUT'}",
        ),
    ]
    return camt053(entries, version=version, statement_id=statement_id)


def _pledge(campaign, amount=2500, **details):
    return create_pledge(
        network=campaign.network,
        campaign=campaign,
        amount_cents=amount,
        donor_details={**DETAILS, **details},
        wants_receipt=True,
    )


@pytest.mark.parametrize("version", ["001.02", "001.08"])
@pytest.mark.django_db
def test_a_statement_makes_the_pledge_a_gift_and_nothing_else(version, bank_details, campaign):
    network = campaign.network
    pledge = _pledge(campaign)
    payout = Payout.objects.create(
        network=network,
        stripe_payout_id="po_standin123",
        amount_cents=31040,
        arrival_date=datetime.date(2026, 12, 2),
        status=Payout.Status.PAID,
    )
    gifts_before = Donation.objects.count()
    upload = statements.import_statement(
        network=network,
        data=_statement(pledge, version, payout),
        filename="dic.xml",
        kind=Statement.Kind.CAMT053,
    )
    assert upload.created
    assert upload.statement.version == f"camt.053.{version}"
    lines = {line.bank_reference: line for line in upload.statement.lines.all()}
    assert len(lines) == 6
    matched = lines["BANKREF-1"]
    assert matched.status == StatementLine.Status.MATCHED
    gift = matched.donation
    assert gift.amount_cents == 2500 and gift.method == Donation.Method.BANK_TRANSFER
    assert gift.reference == "BANKREF-1" and gift.campaign_id == campaign.pk
    assert gift.received_on == datetime.date(2026, 12, 3)
    assert gift.donor.email == DETAILS["email"]
    assert Receipt.objects.filter(donations=gift).exists()
    assert Pledge.objects.get(pk=pledge.pk).status == Pledge.Status.RECEIVED
    assert lines["BANKREF-2"].status == StatementLine.Status.REVIEW
    assert lines["BANKREF-3"].kind == StatementLine.Kind.DEBIT
    assert lines["BANKREF-4"].kind == StatementLine.Kind.REVERSAL
    assert lines["BANKREF-5"].kind == StatementLine.Kind.RETURN
    for ref in ("BANKREF-3", "BANKREF-4", "BANKREF-5"):
        assert lines[ref].status == StatementLine.Status.NOT_A_GIFT
    assert lines["BANKREF-6"].status == StatementLine.Status.PAYOUT
    assert lines["BANKREF-6"].payout_id == payout.pk
    assert Donation.objects.count() == gifts_before + 1
    # A debit, a reversal, a payout never become gifts, whatever a treasurer clicks.
    for ref in ("BANKREF-3", "BANKREF-4", "BANKREF-6"):
        with pytest.raises(LineRefused):
            record_line_gift(lines[ref], donor=gift.donor)


@pytest.mark.django_db
def test_the_same_statement_twice_adds_nothing(bank_details, campaign):
    network = campaign.network
    pledge = _pledge(campaign)
    data = _statement(pledge, "001.08")
    first = statements.import_statement(
        network=network, data=data, filename="a.xml", kind="camt053"
    )
    counts = (
        Statement.objects.count(),
        StatementLine.objects.count(),
        Donation.objects.count(),
        Receipt.objects.count(),
    )
    again = statements.import_statement(
        network=network, data=data, filename="b.xml", kind="camt053"
    )
    assert not again.created and again.statement.pk == first.statement.pk
    # The same statement re-exported (another file, same id and account): recognised too.
    reexported = data.replace(
        b"<CreDtTm>2026-12-04T08:00:00</CreDtTm>", b"<CreDtTm>2026-12-05T09:00:00</CreDtTm>"
    )
    assert reexported != data
    assert not statements.import_statement(
        network=network, data=reexported, filename="c.xml", kind="camt053"
    ).created
    # An overlapping statement (another id) brings its old lines once.
    overlapping = _statement(pledge, "001.02", statement_id="STMT-2")
    upload = statements.import_statement(
        network=network, data=overlapping, filename="d.xml", kind="camt053"
    )
    assert upload.created and upload.statement.lines_added == 0
    assert counts == (
        Statement.objects.count() - 1,
        StatementLine.objects.count(),
        Donation.objects.count(),
        Receipt.objects.count(),
    )


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY])
@pytest.mark.django_db
def test_hostile_xml_is_refused_and_nothing_stored(hostile, bank_details, campaign):
    with pytest.raises(StatementRefused, match="DTD"):
        statements.import_statement(
            network=campaign.network, data=hostile, filename="x.xml", kind="camt053"
        )
    assert not Statement.objects.exists()


@pytest.mark.django_db
def test_too_large_or_not_a_statement_is_refused(bank_details, campaign, settings):
    settings.BANK_STATEMENT_MAX_BYTES = 100
    with translation.override("en"), pytest.raises(StatementRefused, match="too large"):
        statements.import_statement(
            network=campaign.network, data=b"x" * 101, filename="x.xml", kind="camt053"
        )
    settings.BANK_STATEMENT_MAX_BYTES = 10_000
    with translation.override("it"), pytest.raises(StatementRefused, match="non è un estratto"):
        statements.import_statement(
            network=campaign.network, data=b"<a/>", filename="x.xml", kind="camt053"
        )
    assert not Statement.objects.exists()


CSV = """Estratto conto Banca Esempio
Data contabile;Data valuta;Entrate;Uscite;Descrizione;Ordinante;IBAN ordinante;Riferimento
03/12/2026;03/12/2026;1.234,50;;BONIFICO {ref};Anna Bianchi;IT12A0306909606100000012345;CRO001
03/12/2026;03/12/2026;;80,00;Addebito utenze;;;CRO002
04/12/2026;04/12/2026;50,00;;Offerta libera;Giulia Gialli;;CRO003
"""


@pytest.mark.django_db
def test_a_bank_csv_through_its_saved_mapping(bank_details, campaign):
    network = campaign.network
    pledge = _pledge(campaign, amount=123450)
    mapping = CsvMapping.objects.create(
        network=network,
        bank="Banca Esempio",
        skip_lines=1,
        date_column="Data contabile",
        value_date_column="Data valuta",
        credit_column="Entrate",
        debit_column="Uscite",
        description_column="Descrizione",
        name_column="Ordinante",
        iban_column="IBAN ordinante",
        reference_column="Riferimento",
    )
    data = CSV.format(ref=pledge.reference).encode("cp1252")
    upload = statements.import_statement(
        network=network, data=data, filename="ec.csv", kind="csv", mapping=mapping
    )
    lines = {line.bank_reference: line for line in upload.statement.lines.all()}
    assert lines["CRO001"].status == StatementLine.Status.MATCHED
    assert lines["CRO001"].donation.amount_cents == 123450
    assert lines["CRO002"].kind == StatementLine.Kind.DEBIT
    assert lines["CRO002"].amount_cents == 8000
    assert lines["CRO003"].status == StatementLine.Status.REVIEW
    assert not statements.import_statement(
        network=network, data=data, filename="ec.csv", kind="csv", mapping=mapping
    ).created


@pytest.mark.django_db
def test_review_proposes_then_makes_a_gift_once_or_ignores(bank_details, campaign):
    network = campaign.network
    pledge = _pledge(
        campaign,
        amount=4000,
        first_name="Marco",
        last_name="Verdi",
        email="marco@example.org",
        codice_fiscale="",
    )
    upload = statements.import_statement(
        network=network,
        data=_statement(_pledge(campaign), "001.02"),
        filename="s.xml",
        kind="camt053",
    )
    line = upload.statement.lines.get(bank_reference="BANKREF-2")
    assert line.pledge_id == pledge.pk  # same name, same amount, no reference
    donor = Donor.objects.create(network=network, first_name="Marco", last_name="Verdi")
    gift = record_line_gift(line, donor=donor, pledge=line.pledge)
    assert record_line_gift(line, donor=donor, pledge=line.pledge) == gift
    assert Donation.objects.filter(reference="BANKREF-2").count() == 1
    with pytest.raises(LineRefused):
        ignore_line(line, reason="non è un dono")
    other = upload.statement.lines.get(bank_reference="BANKREF-1")
    with pytest.raises(LineRefused):
        ignore_line(other, reason="già registrato")  # matched already
