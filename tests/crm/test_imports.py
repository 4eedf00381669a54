"""Imports: a dry run lists every bad row and why; nothing is written until the file is clean."""

import io

import pytest
from openpyxl import Workbook

from crm.imports import apply_import, plan_import
from crm.models import Donation, Donor

HEADER = "Nome;Cognome;Email;Codice fiscale;Importo;Data;Metodo;Riferimento\n"


def test_clean_latin1_csv_imports_donors_and_gifts(demo):
    # given a Latin-1 file with Italian headers, amounts and dates
    text = HEADER + (
        "Niccolò;D'Alò;nd@example.org;rssmra85t10a562s;1.234,50;15/01/2026;bonifico;CRO 1\n"
        "Anna;Bianchi;;;25;02/02/2026;contanti;\n"
        "Anna;Bianchi;;;10,50;03/02/2026;assegno;n. 7\n"
    )
    plan = plan_import(text.encode("latin-1"), "banca.csv", demo["oltre-il-ponte"])
    # when it is checked, then applied
    assert plan.is_clean, plan.errors
    assert Donor.objects.count() == 0  # the dry run wrote nothing
    result = apply_import(plan)
    # then donors are created once and gifts recorded
    assert result == {"donors": 3, "gifts": 3}  # no email or CF: the two Annas stay two
    donor = Donor.objects.get(last_name="D'Alò")
    assert donor.codice_fiscale == "RSSMRA85T10A562S" and donor.first_name == "Niccolò"
    assert donor.donations.get().amount_cents == 123450


def test_utf8_bom_xlsx_and_comma_separated_files_are_read(demo):
    plan = plan_import(
        '\ufeffNome,Cognome,Importo,Data\nMario,Rossi,"10,00",01/03/2026\n'.encode(),
        "x.csv",
        demo["oltre-il-ponte"],
    )
    assert plan.is_clean and plan.rows[0][1]["amount_cents"] == 1000
    workbook = Workbook()
    workbook.active.append(["Cognome", "Importo", "Data"])
    workbook.active.append(["Verdi", 12.5, "04/03/2026"])
    data = io.BytesIO()
    workbook.save(data)
    plan = plan_import(data.getvalue(), "x.xlsx", demo["oltre-il-ponte"])
    assert plan.is_clean and plan.rows[0][1]["amount_cents"] == 1250


@pytest.mark.parametrize(
    "line, reason",
    [
        ("Mario;;;;10;01/01/2026;bonifico;", "surname"),
        ("Mario;Rossi;not-an-email;;10;01/01/2026;bonifico;", "email"),
        ("Mario;Rossi;;RSSMRA85T10A562T;10;01/01/2026;bonifico;", "check character"),
        ("Mario;Rossi;;;-5;01/01/2026;bonifico;", "more than zero"),
        ("Mario;Rossi;;;1e9;01/01/2026;bonifico;", "amount"),
        ("Mario;Rossi;;;NaN;01/01/2026;bonifico;", "amount"),
        ("Mario;Rossi;;;0,001;01/01/2026;bonifico;", "amount"),
        ("Mario;Rossi;;;10;2026-01-01;bonifico;", "dd/mm/yyyy"),
        ("Mario;Rossi;;;10;01/01/2999;bonifico;", "future"),
        ("Mario;Rossi;;;10;01/01/2026;bitcoin;", "method"),
    ],
)
def test_each_kind_of_bad_row_is_explained(demo, line, reason):
    plan = plan_import((HEADER + line + "\n").encode(), "x.csv", demo["oltre-il-ponte"])
    assert not plan.is_clean
    assert reason in plan.errors[0].message and plan.errors[0].line == 2


def test_one_bad_row_blocks_the_whole_file(demo):
    text = (
        HEADER
        + "A;Uno;;;10;01/01/2026;bonifico;\nB;;;;x;01/01/2026;bonifico;\n"
        + ("C;Tre;;;10;01/01/2026;bonifico;\nC;Tre;;;10;01/01/2026;bonifico;\n")
    )
    plan = plan_import(text.encode(), "x.csv", demo["oltre-il-ponte"])
    assert [e.line for e in plan.errors] == [3, 5]  # the bad row and the duplicated one
    assert "surname" in plan.errors[0].message and "amount" in plan.errors[0].message
    with pytest.raises(ValueError):
        apply_import(plan)
    assert not Donor.objects.exists() and not Donation.objects.exists()


def test_formula_injection_file_is_refused(demo):
    text = HEADER + '=HYPERLINK("http://x");Rossi;;;10;01/01/2026;bonifico;\n'
    text += "Mario;@SUM(A1);;;10;01/01/2026;bonifico;\n"
    plan = plan_import(text.encode(), "x.csv", demo["oltre-il-ponte"])
    assert [e.line for e in plan.errors] == [2, 3]
    assert all("formula" in e.message for e in plan.errors)


def test_empty_and_headerless_files(demo):
    assert not plan_import(b"", "x.csv", demo["oltre-il-ponte"]).is_clean
    assert "column" in plan_import(b"a;b\n1;2\n", "x.csv", demo["oltre-il-ponte"]).errors[0].message


def test_import_view_dry_run_then_write(client, users, demo):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(users["tesoreria-oltre-il-ponte"])
    body = (HEADER + "Mario;Rossi;;;10;01/01/2026;bonifico;\n").encode()
    network = demo["oltre-il-ponte"].pk
    response = client.post(
        "/admin/crm/donations/import/",
        {"network": network, "file": SimpleUploadedFile("x.csv", body)},
    )
    assert response.status_code == 200 and not Donor.objects.exists()
    response = client.post(
        "/admin/crm/donations/import/",
        {"network": network, "file": SimpleUploadedFile("x.csv", body), "confirm": "on"},
    )
    assert response.status_code == 302 and Donation.objects.get().amount_cents == 1000
    # a treasurer cannot import into another network
    response = client.post(
        "/admin/crm/donations/import/",
        {
            "network": demo["valle-serena"].pk,
            "file": SimpleUploadedFile("x.csv", body),
            "confirm": "on",
        },
    )
    # (the network is not one of theirs: a 400 that names the field, and nothing written)
    assert response.status_code == 400 and Donation.objects.count() == 1
