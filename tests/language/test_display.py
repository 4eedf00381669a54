"""Values as people read them (`crm.display`), and the files a treasurer downloads."""

import csv
import datetime
import io
import zipfile

from django.db.models.fields.files import FieldFile
from django.utils import timezone, translation

from crm.display import format_datetime, human, yes_no
from crm.exports import write_receipts_zip
from crm.models import Donation, Donor, Receipt

UTC_MOMENT = datetime.datetime(2026, 11, 24, 23, 47, 13, 123456, tzinfo=datetime.UTC)


def test_values_read_as_words_amounts_and_local_times():
    status = Donation._meta.get_field("status")
    amount = Donation._meta.get_field("amount_cents")
    with translation.override("it"):
        assert human("bank_transfer", Donation._meta.get_field("method")) == "Bonifico bancario"
        assert human("disputed", status) != "disputed"
        assert human(123450, amount) == "€\u00a01.234,50"
        assert (yes_no(True), yes_no(False)) == ("Sì", "No")
    with translation.override("en"):
        assert (yes_no(True), yes_no(False)) == ("Yes", "No")
    assert human(None) == human("") == human({}) == "—"
    local = timezone.localtime(UTC_MOMENT)
    assert format_datetime(UTC_MOMENT) == local.strftime("%d/%m/%Y %H:%M")
    assert "23:47" not in format_datetime(UTC_MOMENT) and "." not in format_datetime(UTC_MOMENT)


def test_a_stored_file_reads_by_its_given_name_never_where_it_is_stored():
    receipt = Receipt._meta.get_field("pdf")
    stored = "receipts/2026/oltre-il-ponte/4c7a0a327abf451ab825317cde40f83a.pdf"
    with translation.override("it"):
        assert human(FieldFile(Receipt(), receipt, stored), receipt) == "Archiviato"
        statement = "statements/oltre-il-ponte/4c7a0a327abf451ab825317cde40f83a-estratto.xml"
        assert human(FieldFile(Receipt(), receipt, statement), receipt) == "estratto.xml"
        assert human(FieldFile(Receipt(), receipt, ""), receipt) == "—"


def test_receipts_zip_index_is_in_local_time(demo):
    network = demo["oltre-il-ponte"]
    donor = Donor.objects.create(network=network, first_name="Ada", last_name="Neri")
    Receipt.objects.create(
        network=network,
        year=2026,
        sequence=1,
        number="OP-2026/00001",
        donor=donor,
        amount_cents=2500,
        donor_snapshot={"name": "Ada Neri"},
        issued_at=UTC_MOMENT,
    )
    output = io.BytesIO()
    with translation.override("it"):
        write_receipts_zip(Receipt.objects.all(), output)
    index = zipfile.ZipFile(output).read("index.csv").decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(index), delimiter=";"))
    assert header[:3] == ["Numero", "Emessa il", "Stato"]
    assert row[1] == timezone.localtime(UTC_MOMENT).strftime("%d/%m/%Y %H:%M")
    assert row[2] == "Emessa" and row[6] == "25,00"
