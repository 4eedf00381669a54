"""Fixtures for receipts: a network with its legal data, donors, succeeded gifts, and a reader
that turns a stored PDF back into text with poppler's `pdftotext`."""

import datetime
import subprocess

import pytest


@pytest.fixture
def network(network_factory):
    return network_factory(
        "rete-ricevute",
        legal_name="Cooperativa Sociale Il Ponte ETS",
        codice_fiscale="92012340011",
        partita_iva="02770930994",
        entity_kind="aps",
        runts_number="RUNTS-123456",
        tax_regime="detraction_30",
        signer_name="Giulia Bianchi",
        signer_role="Presidente",
        receipt_series="RP",
        email="tesoreria@ilponte.example",
    )


@pytest.fixture
def donor_factory(network):
    from crm.models import Donor

    def make(**fields):
        values = {
            "network": network,
            "first_name": "Mario",
            "last_name": "Rossi",
            "email": "mario.rossi@example.com",
            "codice_fiscale": "RSSMRA85T10A562S",
            "street_address": "Via Roma 10",
            "postal_code": "10121",
            "city": "Torino",
            "province": "TO",
        }
        values.update(fields)
        return Donor.objects.create(**values)

    return make


@pytest.fixture
def gift_factory(network):
    from crm.models import Donation

    def make(donor, amount_cents=12050, received_on=datetime.date(2026, 3, 14), **fields):
        values = {
            "network": donor.network if donor else network,
            "donor": donor,
            "amount_cents": amount_cents,
            "received_on": received_on,
            "status": Donation.Status.SUCCEEDED,
            "method": Donation.Method.CARD,
        }
        values.update(fields)
        return Donation.objects.create(**values)

    return make


@pytest.fixture
def pdf_text():
    """The text of a receipt's stored PDF, as `pdftotext -layout` reads it."""
    from crm.receipt_files import read_receipt_pdf

    def read(receipt):
        data = read_receipt_pdf(receipt)
        assert data.startswith(b"%PDF-")
        out = subprocess.run(
            ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
            input=data,
            capture_output=True,
            check=True,
        )
        return " ".join(out.stdout.decode("utf-8").split())

    return read
