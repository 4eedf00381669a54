"""Imports that cannot double-count: the batch record, the same file refused, rows already
recorded skipped unless chosen, the column mapping (campaign included), apply without a second
upload, undo while no receipt exists, the batch's receipts emailed, large files on the worker."""

import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from crm import import_batches
from crm.extensions import campaign_pages
from crm.import_batches import BatchRefused, apply_batch, start_batch, undo_batch
from crm.models import Donation, Donor, ImportBatch, Network, Receipt

URL = "/admin/crm/donations/import/"
BATCHES = "/admin/crm/imports/"
HEADER = "Nome;Cognome;Email;Codice fiscale;Importo;Data;Metodo;Riferimento;Campagna\n"


def csv(*rows, header=HEADER):
    return (header + "".join(rows)).encode()


def campaign_of(network):
    """The network's first campaign (the demo's Valle Serena has a second, its partner's)."""
    return campaign_pages(Network.objects.filter(pk=network.pk)).order_by("path").first()


@pytest.fixture
def network(demo):
    return demo["oltre-il-ponte"]


@pytest.fixture
def treasurer(client, users):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    return client


def test_batch_records_who_when_file_and_hash(network, users):
    user = users["tesoreria-oltre-il-ponte"]
    data = csv("Mario;Rossi;m@example.org;;10;01/02/2026;bonifico;CRO 1;\n")
    batch = start_batch(data, "banca.csv", network, user=user)
    assert (batch.created_by, batch.file_name, batch.row_count) == (user, "banca.csv", 1)
    assert batch.sha256 == import_batches.file_hash(data) and len(batch.sha256) == 64
    assert batch.status == ImportBatch.Status.DRAFT and not Donation.objects.exists()
    batch = apply_batch(batch, user=user)
    assert batch.status == ImportBatch.Status.APPLIED and batch.applied_at
    assert batch.result["gifts"] == 1 and batch.result["donors"] == 1
    assert batch.gift_ids == [Donation.objects.get().pk]


def test_same_file_refused_a_second_time_naming_the_earlier_batch(network, treasurer):
    data = csv("Mario;Rossi;;;10;01/02/2026;bonifico;CRO 1;\n")
    upload = {"network": network.pk, "confirm": "on"}
    first = treasurer.post(URL, {**upload, "file": SimpleUploadedFile("a.csv", data)})
    assert first.status_code == 302 and Donation.objects.count() == 1
    earlier = ImportBatch.objects.get()
    # the same bytes under another name, once more
    again = treasurer.post(URL, {**upload, "file": SimpleUploadedFile("copia.csv", data)})
    assert again.status_code == 400 and Donation.objects.count() == 1
    text = again.content.decode()
    assert "already imported" in text and f"batch {earlier.pk}" in text and "a.csv" in text
    # and through the verb too
    with pytest.raises(BatchRefused) as refused:
        start_batch(data, "b.csv", network)
    assert refused.value.earlier == earlier
    # another network may bring the same file in
    assert start_batch(data, "a.csv", Network.objects.exclude(pk=network.pk).first())


def test_rows_already_recorded_are_skipped_unless_chosen(network, treasurer):
    donor = Donor.objects.create(network=network, last_name="Rossi", email="m@example.org")
    Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=1000,
        received_on=datetime.date(2026, 2, 1),
        status="succeeded",
        method="bank_transfer",
        channel="offline",
        reference="CRO 1",
    )
    data = csv(
        "Mario;Rossi;m@example.org;;10;01/02/2026;bonifico;CRO 1;\n",  # already recorded
        "Mario;Rossi;m@example.org;;10;01/02/2026;bonifico;CRO 2;\n",  # another reference
        "Mario;Rossi;M@example.org;;10,00;01/02/2026;bonifico;CRO 1;\n",  # the same, again
    )
    response = treasurer.post(
        URL, {"network": network.pk, "file": SimpleUploadedFile("x.csv", data)}
    )
    assert response.status_code == 200
    batch = ImportBatch.objects.get()
    page = response.content.decode()
    assert "Already recorded" in page and 'name="include" value="2"' in page
    assert 'name="include" value="4"' in page and 'value="3"' not in page
    # apply without uploading again, choosing one of the two duplicates
    response = treasurer.post(f"{BATCHES}{batch.pk}/", {"apply": "1", "include": ["4"]})
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.result["skipped"] == 1 and batch.result["gifts"] == 2
    refs = sorted(
        Donation.objects.filter(pk__in=batch.gift_ids).values_list("reference", flat=True)
    )
    assert refs == ["CRO 1", "CRO 2"] and Donation.objects.count() == 3
    assert Donor.objects.count() == 1  # matched by email, not created


def test_mapping_step_maps_campaign_receipt_method_and_reference(network, treasurer):
    campaign = campaign_of(network)
    header = "Chi;Posta;Quanto;Quando;Come;CRO;Progetto;Vuole la ricevuta\n"
    data = csv(
        f"Rossi;m@example.org;25;03/02/2026;contanti;CRO 9;{campaign.title};sì\n", header=header
    )
    response = treasurer.post(
        URL, {"network": network.pk, "file": SimpleUploadedFile("x.csv", data)}
    )
    # the column headed like the option ("Vuole la ricevuta") is known; the others are not
    assert response.status_code == 400 and "surname" in response.content.decode()
    batch = ImportBatch.objects.get()
    assert batch.mapping == {"7": "wants_receipt"}
    assert batch.table[1][1][6] == campaign.title  # the cells are kept: no second upload
    mapping = {
        "col_0": "last_name",
        "col_1": "email",
        "col_2": "amount",
        "col_3": "received_on",
        "col_4": "method",
        "col_5": "reference",
        "col_6": "campaign",
        "col_7": "wants_receipt",
    }
    # a field taken from two columns is refused
    twice = treasurer.post(f"{BATCHES}{batch.pk}/", {**mapping, "col_1": "last_name", "map": "1"})
    assert twice.status_code == 400 and "one column only" in twice.content.decode()
    assert treasurer.post(f"{BATCHES}{batch.pk}/", {**mapping, "map": "1"}).status_code == 302
    preview = treasurer.get(f"{BATCHES}{batch.pk}/").content.decode()
    assert "1 row is ready to import" in preview and campaign.title in preview
    assert treasurer.post(f"{BATCHES}{batch.pk}/", {"apply": "1"}).status_code == 302
    gift = Donation.objects.get()
    assert gift.campaign_id == campaign.pk and gift.wants_receipt and gift.method == "cash"
    assert gift.reference == "CRO 9" and gift.amount_cents == 2500


def test_unknown_campaign_is_a_bad_row(network):
    other = campaign_of(Network.objects.exclude(pk=network.pk).first())
    batch = start_batch(
        csv(f"Mario;Rossi;;;10;01/02/2026;bonifico;;{other.title}\n"), "x.csv", network
    )
    plan = import_batches.plan_batch(batch)
    assert not plan.is_clean and "no campaign of this network" in plan.errors[0].message


def test_preview_lists_matched_and_new_donors(network, treasurer):
    Donor.objects.create(
        network=network, first_name="Anna", last_name="Nota", codice_fiscale="RSSMRA85T10A562S"
    )
    data = csv(
        "Anna;Nota;;rssmra85t10a562s;10;01/02/2026;bonifico;;\n",
        "Bruno;Nuovo;b@example.org;;20;01/02/2026;bonifico;;\n",
    )
    page = treasurer.post(URL, {"network": network.pk, "file": SimpleUploadedFile("x.csv", data)})
    text = page.content.decode()
    assert "1 row of a donor already in the CRM" in text and "1 row of a new donor" in text
    assert "Nota Anna" in text or "Anna Nota" in text
    assert "b@example.org" in text


def test_undo_while_no_receipt_then_refused_once_issued(network, users):
    user = users["tesoreria-oltre-il-ponte"]
    kept = Donor.objects.create(network=network, last_name="Vecchio", email="v@example.org")
    data = csv(
        "Mario;Rossi;m@example.org;;10;01/02/2026;bonifico;;\n",
        "Vito;Vecchio;v@example.org;;20;01/02/2026;bonifico;;\n",
    )
    batch = apply_batch(start_batch(data, "x.csv", network, user=user), user=user)
    assert Donation.objects.count() == 2 and Donor.objects.count() == 2
    batch = undo_batch(batch, user=user)
    assert batch.status == ImportBatch.Status.UNDONE
    assert not Donation.objects.exists() and list(Donor.objects.all()) == [kept]
    # once undone, the same file may come in again; with a receipt it cannot be undone
    batch = apply_batch(start_batch(data, "x.csv", network, user=user), user=user)
    report = import_batches.issue_batch_receipts(
        batch, user=user, email=False, include_not_asked=True, include_missing=True
    )
    assert len(report["issued"]) == 2
    with pytest.raises(BatchRefused):
        undo_batch(batch, user=user)
    assert Donation.objects.count() == 2


def test_batch_receipts_are_emailed_unless_unticked(
    network, treasurer, django_capture_on_commit_callbacks
):
    header = "Nome;Cognome;Email;Codice fiscale;Indirizzo;CAP;Città;Importo;Data;Metodo\n"
    data = csv(
        "Mario;Rossi;m@example.org;RSSMRA85T10A562S;Via Po 1;10100;Torino;10;01/02/2026;\n",
        "Nina;Senzaposta;;BNCNNI80A41F205C;Via Po 2;10100;Torino;20;01/02/2026;\n",
        header=header,
    )
    treasurer.post(
        URL, {"network": network.pk, "confirm": "on", "file": SimpleUploadedFile("x.csv", data)}
    )
    batch = ImportBatch.objects.get()
    url = f"{BATCHES}{batch.pk}/receipts/"
    page = treasurer.get(url).content.decode()
    assert 'name="email" value="1" checked' in page
    # nobody asked (no such column): by default none, so the treasurer includes them
    assert "2 gifts are left out: the donor did not ask for a receipt" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = treasurer.post(url, {"email": ["0", "1"], "include_not_asked": "1"}, follow=True)
    assert "2 receipts issued, 1 emailed" in response.content.decode()
    assert Receipt.objects.count() == 2
    assert [m.to for m in mail.outbox] == [["m@example.org"]]
    # a second run finds them covered; unticked, nothing is sent
    mail.outbox.clear()
    response = treasurer.post(url, {"email": "0", "include_not_asked": "1"}, follow=True)
    assert (
        "0 receipts issued" in response.content.decode()
        and "2 gifts already had one" in response.content.decode()
    )
    assert mail.outbox == []


def test_large_files_run_on_the_worker_with_progress(
    network, users, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_ROWS = 2
    user = users["tesoreria-oltre-il-ponte"]
    rows = [f"N{i};Cognome{i};;;{i + 1};01/02/2026;bonifico;R{i};\n" for i in range(5)]
    batch = start_batch(csv(*rows), "big.csv", network, user=user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = apply_batch(batch, user=user)
    assert batch.status == ImportBatch.Status.RUNNING and not Donation.objects.exists()
    settings.IMPORT_STEP_ROWS = 2
    for callback in callbacks:
        callback()  # the immediate task backend runs the worker's task here
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.progress == 5
    assert Donation.objects.count() == 5 and batch.result["gifts"] == 5


def test_another_networks_batch_is_a_404(network, client, users):
    batch = start_batch(csv("Mario;Rossi;;;10;01/02/2026;bonifico;;\n"), "x.csv", network)
    client.force_login(users["tesoreria-valle-serena"])
    for suffix in ("", "undo/", "receipts/", "receipts.zip"):
        assert client.get(f"{BATCHES}{batch.pk}/{suffix}").status_code == 404
    assert client.post(f"{BATCHES}{batch.pk}/", {"apply": "1"}).status_code == 404
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DRAFT and not Donation.objects.exists()


# --- Imports see content, not bytes -------------------------------------------------------------

SAME_HEADER = ["Nome", "Cognome", "Email", "Importo", "Data", "Metodo", "Riferimento"]
SAME_ROWS = [
    ["Niccolò", "D'Alò", "nd@example.org", "10", "01/02/2026", "bonifico", "CRO 1"],
    ["Anna", "Bianchi", "", "25,50", "02/02/2026", "bonifico", ""],
]


def semicolons(header, rows, newline="\n"):
    return newline.join(";".join(cells) for cells in [header, *rows]) + newline


def xlsx(header, rows):
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(header)
    for cells in rows:
        typed = list(cells)
        typed[3] = float(cells[3].replace(",", "."))  # Excel keeps amounts as numbers
        day, month, year = (int(p) for p in cells[4].split("/"))
        typed[4] = datetime.datetime(year, month, day)  # and dates as dates
        workbook.active.append(typed)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def reordered(header, rows):
    order = [6, 3, 0, 5, 1, 4, 2]
    return semicolons([header[i] for i in order], [[r[i] for i in order] for r in rows])


SAVED_AGAIN = {
    "windows line endings": lambda: (
        semicolons(SAME_HEADER, SAME_ROWS, "\r\n").encode(),
        "banca.csv",
    ),
    "Latin-1": lambda: (semicolons(SAME_HEADER, SAME_ROWS).encode("latin-1"), "banca.csv"),
    "UTF-8 with a BOM": lambda: (
        b"\xef\xbb\xbf" + semicolons(SAME_HEADER, SAME_ROWS).encode(),
        "banca.csv",
    ),
    "columns in another order": lambda: (reordered(SAME_HEADER, SAME_ROWS).encode(), "b.csv"),
    "XLSX": lambda: (xlsx(SAME_HEADER, SAME_ROWS), "banca.xlsx"),
    "commas, quotes and 25,50 as 25.50": lambda: (
        (
            "Nome,Cognome,Email,Importo,Data,Metodo,Riferimento\r\n"
            'Niccolò,D\'Alò,nd@example.org,"10,00",01/02/2026,bonifico,CRO 1\r\n'
            "Anna,Bianchi,,25.50,02/02/2026,bonifico,\r\n"
        ).encode(),
        "banca.csv",
    ),
}


@pytest.mark.parametrize("how", list(SAVED_AGAIN))
def test_the_same_data_saved_again_is_the_same_file(network, users, how):
    # given the bank file applied once
    user = users["tesoreria-oltre-il-ponte"]
    original = semicolons(SAME_HEADER, SAME_ROWS).encode()
    earlier = apply_batch(start_batch(original, "banca.csv", network, user=user), user=user)
    assert Donation.objects.count() == 2 and Donor.objects.count() == 2
    # when the same data comes back saved another way
    data, name = SAVED_AGAIN[how]()
    assert data != original
    # then it is refused as the same file, naming the earlier batch, and nothing is written
    with pytest.raises(BatchRefused) as refused:
        start_batch(data, name, network, user=user)
    assert refused.value.earlier == earlier and "already imported" in str(refused.value)
    assert Donation.objects.count() == 2 and Donor.objects.count() == 2


def test_a_changed_amount_is_another_file(network):
    apply_batch(start_batch(semicolons(SAME_HEADER, SAME_ROWS).encode(), "a.csv", network))
    changed = [SAME_ROWS[0], [*SAME_ROWS[1][:3], "25,60", *SAME_ROWS[1][4:]]]
    assert start_batch(semicolons(SAME_HEADER, changed).encode(), "a.csv", network)


def test_windows_copy_through_the_upload_screen_is_refused(network, treasurer):
    upload = {"network": network.pk, "confirm": "on"}
    data = semicolons(SAME_HEADER, SAME_ROWS).encode()
    first = treasurer.post(URL, {**upload, "file": SimpleUploadedFile("a.csv", data)})
    assert first.status_code == 302 and Donation.objects.count() == 2
    crlf = semicolons(SAME_HEADER, SAME_ROWS, "\r\n").encode()
    again = treasurer.post(URL, {**upload, "file": SimpleUploadedFile("a-win.csv", crlf)})
    assert again.status_code == 400 and "already imported" in again.content.decode()
    assert Donation.objects.count() == 2 and Donor.objects.count() == 2


def test_a_row_without_reference_matching_a_recorded_gift_is_flagged(network, treasurer):
    # given Anna's gift recorded by an earlier file (no reference, no email, no CF)
    apply_batch(start_batch(semicolons(SAME_HEADER, SAME_ROWS[1:]).encode(), "a.csv", network))
    assert Donation.objects.count() == 1 and Donor.objects.count() == 1
    # when another file holds the same row (same name, amount, date, method) and a new one
    rows = [
        SAME_ROWS[1],
        ["Anna", "Bianchi", "", "25,50", "02/02/2026", "contanti", ""],  # another method
        ["Bruno", "Nuovo", "", "30", "02/02/2026", "bonifico", ""],
    ]
    data = semicolons(SAME_HEADER, rows).encode()
    response = treasurer.post(
        URL, {"network": network.pk, "file": SimpleUploadedFile("b.csv", data)}
    )
    # then the preview flags the row as already recorded, to be imported only if ticked
    page = response.content.decode()
    assert response.status_code == 200 and "Already recorded" in page
    assert 'name="include" value="2"' in page
    assert 'name="include" value="3"' not in page and 'name="include" value="4"' not in page
    batch = ImportBatch.objects.get(file_name="b.csv")
    assert treasurer.post(f"{BATCHES}{batch.pk}/", {"apply": "1"}).status_code == 302
    batch.refresh_from_db()
    assert batch.result["skipped"] == 1 and batch.result["gifts"] == 2
    assert Donor.objects.filter(last_name="Bianchi").count() == 2  # the cash gift's new donor
    assert Donation.objects.filter(amount_cents=2550, method="bank_transfer").count() == 1


def test_a_flagged_row_is_imported_when_the_treasurer_ticks_it(network, treasurer):
    apply_batch(start_batch(semicolons(SAME_HEADER, SAME_ROWS[1:]).encode(), "a.csv", network))
    rows = [SAME_ROWS[1], ["Bruno", "Nuovo", "", "30", "02/02/2026", "bonifico", ""]]
    batch = start_batch(semicolons(SAME_HEADER, rows).encode(), "b.csv", network)
    assert import_batches.plan_batch(batch).duplicates == {2}
    response = treasurer.post(f"{BATCHES}{batch.pk}/", {"apply": "1", "include": ["2"]})
    assert response.status_code == 302
    assert Donation.objects.filter(amount_cents=2550).count() == 2


@pytest.mark.parametrize(
    "header",
    [
        "Cognome;Importo;Data di ricevimento;Vuole la ricevuta;Codice fiscale;"
        "Nome dell'organizzazione",
        "Last name;Amount;Date received;Wants a receipt;Codice fiscale;Organisation name",
        "last_name;amount;received_on;wants_receipt;codice_fiscale;organisation_name",
        "  COGNOME ; importo;Data  di ricevimento;VUOLE LA RICEVUTA;CF;Ragione sociale",
    ],
)
def test_headers_named_like_the_visible_options_are_mapped(network, header):
    data = (header + "\nRossi;10;01/02/2026;sì;RSSMRA85T10A562S;\n").encode()
    batch = start_batch(data, "x.csv", network)
    assert batch.mapping == {
        "0": "last_name",
        "1": "amount",
        "2": "received_on",
        "3": "wants_receipt",
        "4": "codice_fiscale",
        "5": "organisation_name",
    }
    plan = import_batches.plan_batch(batch)
    assert plan.is_clean and plan.rows[0][1]["wants_receipt"] is True


# --- An import's receipts, said in its preview --------------------------------------------------

RECEIPT_HEADER = "Nome;Cognome;Email;Codice fiscale;Indirizzo;CAP;Città;Importo;Data;Ricevuta\n"
RECEIPT_ROWS = (
    "Mario;Rossi;m@example.org;RSSMRA85T10A562S;Via Po 1;10100;Torino;10;01/02/2026;sì\n",
    "Nina;Senzaposta;;BNCNNI80A41F205C;Via Po 2;10100;Torino;20;01/02/2026;sì\n",
    "Ugo;Senzacf;u@example.org;;Via Po 3;10100;Torino;30;01/02/2026;sì\n",
    "Zeno;Noricevuta;z@example.org;;;;;40;01/02/2026;no\n",
)


def test_preview_says_how_many_receipts_are_issued_and_emailed(
    network, treasurer, django_capture_on_commit_callbacks
):
    data = csv(*RECEIPT_ROWS, header=RECEIPT_HEADER)
    response = treasurer.post(
        URL, {"network": network.pk, "file": SimpleUploadedFile("r.csv", data)}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Applying issues 2 receipts, for the gifts whose donor asked for one" in page
    assert "1 of them will be emailed to the donor" in page
    assert "1 row asks for a receipt but its donor lacks a codice fiscale or address" in page
    assert 'name="email_receipts" value="1" checked' in page
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        applied = treasurer.post(f"{BATCHES}{batch.pk}/", {"apply": "1"}, follow=True)
    assert "2 receipts issued, 1 emailed" in applied.content.decode()
    assert Receipt.objects.count() == 2
    assert [m.to for m in mail.outbox] == [["m@example.org"]]


def test_an_import_can_issue_its_receipts_without_emailing_them(
    network, treasurer, django_capture_on_commit_callbacks
):
    data = csv(*RECEIPT_ROWS, header=RECEIPT_HEADER)
    treasurer.post(URL, {"network": network.pk, "file": SimpleUploadedFile("r.csv", data)})
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        applied = treasurer.post(
            f"{BATCHES}{batch.pk}/", {"apply": "1", "email_receipts": "0"}, follow=True
        )
    assert "2 receipts issued, 0 emailed" in applied.content.decode()
    assert Receipt.objects.count() == 2 and mail.outbox == []
    assert not Receipt.objects.filter(donor__last_name="Senzacf").exists()


def test_write_at_once_stops_at_the_preview_when_receipts_would_be_issued(network, treasurer):
    data = csv(*RECEIPT_ROWS, header=RECEIPT_HEADER)
    response = treasurer.post(
        URL, {"network": network.pk, "confirm": "on", "file": SimpleUploadedFile("r.csv", data)}
    )
    assert response.status_code == 200 and not Donation.objects.exists()
    page = response.content.decode()
    assert "Not written yet: this file issues receipts" in page
    assert "Applying issues 2 receipts" in page


def test_a_row_already_recorded_says_so_in_the_donors_table_too(network, treasurer):
    # given a gift of Lucia Ferri recorded without email, and a file with the same gift again
    # (no email: matched by her name) and a gift of a new donor
    donor = Donor.objects.create(network=network, first_name="Lucia", last_name="Ferri")
    Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=5000,
        received_on=datetime.date(2026, 10, 25),
        status="succeeded",
        method="bank_transfer",
        channel="offline",
    )
    data = csv(
        "Lucia;Ferri;;;50,00;25/10/2026;bonifico;;\n",
        "Anna;Neri;anna@example.org;;20;26/10/2026;bonifico;;\n",
    )
    response = treasurer.post(
        URL, {"network": network.pk, "file": SimpleUploadedFile("x.csv", data)}
    )
    page = response.content.decode()
    assert 'name="include" value="2"' in page
    # the row shows in the donors table as skipped, not as one more new donor, names in the
    # order the rest of the CRM writes them
    new_donors = page[page.index("rows of new donors") :]
    assert "Lucia Ferri" in new_donors and "Ferri Lucia" not in page
    lucia = new_donors[new_donors.index("Lucia Ferri") :][:300]
    assert "already recorded: skipped unless ticked above" in lucia
    anna = new_donors[new_donors.index("Anna Neri") :][:300]
    assert "already recorded" not in anna
