"""Imports under attack: files that would exhaust the server, cells a spreadsheet would run,
rows the database would refuse. Each is refused with a clear reason, in the dry run as in the
write, with a 400 and nothing written; never a 500."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from crm.imports import plan_import
from crm.models import Donation, Donor

HEADER = "Nome;Cognome;Email;Codice fiscale;Telefono;Importo;Data;Metodo;Riferimento\n"
URL = "/admin/crm/donations/import/"
FAR_ROW = '<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>x</t></is></c></row>'
FAR_ROW = '<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>x</t></is></c></row>'


def row(first="Mario", last="Rossi", email="", cf="", phone="", amount="10", date="01/02/2026"):
    return f"{first};{last};{email};{cf};{phone};{amount};{date};bonifico;\n"


def xlsx(rows):
    workbook = Workbook()
    for values in rows:
        workbook.active.append(values)
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def rewrite_sheet(data, replace):
    """The same XLSX with its first sheet's XML rewritten by `replace` (what an attacker would
    craft by hand)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = replace(content.decode()).encode()
            target.writestr(item, content)
    return out.getvalue()


@pytest.fixture(autouse=True)
def english(settings):
    """The reasons are read in English here (their Italian is checked by tests/test_i18n.py)."""
    from django.urls import clear_url_caches
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    clear_url_caches()  # reverse() caches the language prefix: see tests/crm/conftest.py
    with translation.override("en"):
        yield
    clear_url_caches()


@pytest.fixture
def treasurer_client(client, demo):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="tesoreria-oltre-il-ponte"))
    return client


def post(client, demo, name, body, confirm=True):
    data = {"network": demo["oltre-il-ponte"].pk, "file": SimpleUploadedFile(name, body)}
    if confirm:
        data["confirm"] = "on"
    return client.post(URL, data)


def nothing_written():
    return not Donor.objects.exists() and not Donation.objects.exists()


# --- files that would exhaust the server -------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(treasurer_client, demo, settings):
    settings.IMPORT_MAX_BYTES = 1024
    body = (HEADER + row() * 100).encode()
    response = post(treasurer_client, demo, "big.csv", body)
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert nothing_written()


def test_an_xlsx_zip_bomb_is_refused(demo, settings):
    # given an XLSX whose sheet inflates far beyond the limit from a small file
    settings.IMPORT_MAX_INFLATED_BYTES = 1024 * 1024
    padding = "<!--" + "A" * (3 * 1024 * 1024) + "-->"
    bomb = rewrite_sheet(
        xlsx([["Cognome", "Importo", "Data"], ["Verdi", 10, "01/02/2026"]]),
        lambda xml: xml.replace("<sheetData>", padding + "<sheetData>"),
    )
    assert len(bomb) < 64 * 1024
    # when it is read, then it is refused as a whole, before openpyxl inflates it
    plan = plan_import(bomb, "bomb.xlsx", demo["oltre-il-ponte"])
    assert not plan.is_clean
    assert "too large once opened" in plan.errors[0].message


def test_an_xlsx_declaring_a_million_rows_stops_at_the_row_limit(demo, settings):
    # given a tiny XLSX with one cell a million rows down (openpyxl yields every row between)
    settings.IMPORT_MAX_ROWS = 100
    data = rewrite_sheet(
        xlsx([["Cognome", "Importo", "Data"], ["Verdi", 10, "01/02/2026"]]),
        lambda xml: xml.replace("</sheetData>", FAR_ROW + "</sheetData>"),
    )
    assert len(data) < 16 * 1024
    plan = plan_import(data, "rows.xlsx", demo["oltre-il-ponte"])
    assert not plan.is_clean
    assert "too many rows" in plan.errors[0].message


def test_an_xlsx_with_thousands_of_columns_reads_only_the_first_ones(demo):
    wide = ["Cognome", "Importo", "Data"] + [f"c{i}" for i in range(5000)]
    data = xlsx([wide, ["Verdi", 10, "01/02/2026"] + ["x"] * 5000])
    plan = plan_import(data, "wide.xlsx", demo["oltre-il-ponte"])
    assert plan.is_clean, plan.errors
    assert plan.rows[0][1]["amount_cents"] == 1000


def test_a_damaged_xlsx_is_a_clear_error(treasurer_client, demo):
    response = post(treasurer_client, demo, "x.xlsx", b"PK\x03\x04 not really a zip")
    assert response.status_code == 400
    assert "XLSX" in response.content.decode()
    assert nothing_written()


def test_a_huge_cell_is_refused(demo):
    body = (HEADER + row(first="M" * 5000)).encode()
    plan = plan_import(body, "x.csv", demo["oltre-il-ponte"])
    assert not plan.is_clean and "too long" in plan.errors[0].message


# --- cells a spreadsheet would run ---------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "＝1+1",
        "＋1",
        "＠x",
        " =1",
    ],
)
def test_every_formula_prefix_is_refused(demo, cell):
    # in a CSV (the cell quoted, as a spreadsheet saves a cell with a line break) and in an XLSX
    csv_body = (HEADER + row(last=f'"{cell}"')).encode()
    xlsx_body = xlsx([["Cognome", "Importo", "Data"], [cell, 10, "01/02/2026"]])
    for body, name in ((csv_body, "x.csv"), (xlsx_body, "x.xlsx")):
        plan = plan_import(body, name, demo["oltre-il-ponte"])
        assert not plan.is_clean, name
        assert "formula" in plan.errors[0].message, name


def test_a_phone_number_with_its_international_prefix_is_kept(demo):
    body = (HEADER + row(phone="+39 02 1234 5678")).encode()
    plan = plan_import(body, "x.csv", demo["oltre-il-ponte"])
    assert plan.is_clean, plan.errors
    assert plan.rows[0][1]["phone"] == "+39 02 1234 5678"


def test_exports_neutralise_the_same_prefixes():
    from crm.exports import neutralise

    for cell in ["＝1+1", " =1", "-2+3", "\t1"]:
        assert neutralise(cell) == "'" + cell
    assert neutralise("Rossi") == "Rossi"


# --- rows the database would refuse: the dry run says so -----------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (row(last="R" * 151), "longer than 150"),
        (row(email=("a" * 250) + "@example.org"), "email"),
        (row(amount="99999999999"), "too large"),
        (row(date="01/01/1066"), "too far in the past"),
    ],
)
def test_the_dry_run_refuses_what_the_write_would_fail_on(treasurer_client, demo, line, reason):
    # given a row the database would refuse
    body = (HEADER + line).encode()
    # when the dry run checks it, then it says why
    plan = plan_import(body, "x.csv", demo["oltre-il-ponte"])
    assert not plan.is_clean
    assert reason in plan.errors[0].message
    # and a confirmed upload answers 400 with the reason and writes nothing
    response = post(treasurer_client, demo, "x.csv", body)
    assert response.status_code == 400
    assert nothing_written()


def test_a_clean_file_still_writes(treasurer_client, demo):
    body = (HEADER + row(last="D'Alò", phone="+39 333 1234567", amount="1.234,50")).encode()
    response = post(treasurer_client, demo, "x.csv", body)
    assert response.status_code == 302
    donor = Donor.objects.get()
    assert (donor.last_name, donor.phone) == ("D'Alò", "+39 333 1234567")
    assert donor.donations.get().amount_cents == 123450
