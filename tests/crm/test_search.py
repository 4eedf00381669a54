"""Donor search: what the treasurer types finds the right donors, on SQLite and PostgreSQL; on
PostgreSQL each kind of search can be answered from migration 0002's trigram indexes."""

import pytest
from django.db import connection

from crm.models import Donor
from crm.search import search_donors


@pytest.fixture
def donors(demo):
    a, b = demo["oltre-il-ponte"], demo["valle-serena"]
    made = {
        "mario": Donor.objects.create(
            network=a,
            first_name="Mario",
            last_name="Rossi",
            email="Mario.Rossi@example.org",
            codice_fiscale="RSSMRA85T10A562S",
        ),
        "anna": Donor.objects.create(
            network=a, first_name="Anna Maria", last_name="De Luca", email="anna@example.org"
        ),
        "coop": Donor.objects.create(
            network=a,
            kind="organisation",
            organisation_name="Cooperativa Il_Ponte 100%",
            partita_iva="01234567890",
        ),
        "grossi": Donor.objects.create(network=a, first_name="Marta", last_name="Grossi"),
        "other": Donor.objects.create(network=b, first_name="Mario", last_name="Rossi"),
    }
    return made


def found(query, network):
    return {
        d.first_name or d.organisation_name
        for d in search_donors(Donor.objects.filter(network=network), query)
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ("ross", {"Mario"}),  # the start of a word, not "Grossi"
        ("ROSSI mar", {"Mario"}),
        ("mar", {"Mario", "Marta", "Anna Maria"}),
        ("luca", {"Anna Maria"}),  # second word of a surname
        ("mario.rossi@EX", {"Mario"}),
        ("rssmra85t10a562s", {"Mario"}),
        ("RSSMRA85", {"Mario"}),
        ("01234567890", {"Cooperativa Il_Ponte 100%"}),
        ("il_p", {"Cooperativa Il_Ponte 100%"}),
        ("100%", {"Cooperativa Il_Ponte 100%"}),
        ("i%", set()),  # LIKE wildcards are text
        ("zzz", set()),
        ("", {"Mario", "Anna Maria", "Cooperativa Il_Ponte 100%", "Marta"}),
    ],
)
def test_search_finds_what_the_treasurer_types(donors, query, expected):
    assert found(query, donors["mario"].network) == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
@pytest.mark.parametrize(
    "query, index",
    [
        ("ross mar", "crm_donor_name_trgm"),
        ("mario.rossi@ex", "crm_donor_email_trgm"),
        ("RSSMRA85", "crm_donor_cf_trgm"),
    ],
)
def test_postgresql_search_can_use_the_trigram_indexes(donors, query, index):
    # with sequential scans off, the plan shows whether the expression matches an index
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = search_donors(Donor.objects.all(), query).explain()
    assert index in plan
