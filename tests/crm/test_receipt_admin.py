"""Receipts from the treasurer's side of the admin: the period ZIP, the PDF link, reissue and
resend; the actions shown on a gift's and a receipt's page."""

import csv
import datetime
import hashlib
import io
import zipfile

import pytest
from django.core import mail
from django.utils import timezone

from crm.models import Donation, Donor, DonorEmail, Receipt
from crm.receipts import issue_receipt

TREASURER = "tesoreria-oltre-il-ponte"


@pytest.fixture
def gifts(demo):
    """Three succeeded bank transfers of Oltre il Ponte and one of Valle Serena, no receipts."""

    def gift(network, first_name, cents):
        donor = Donor.objects.create(
            network=network,
            first_name=first_name,
            last_name="Bianchi",
            email=f"{first_name.lower()}@example.org",
        )
        return Donation.objects.create(
            network=network,
            donor=donor,
            amount_cents=cents,
            status="succeeded",
            method="bank_transfer",
            channel="offline",
        )

    a = demo["oltre-il-ponte"]
    return [
        gift(a, "Anna", 1000),
        gift(a, "Bruno", 2000),
        gift(a, "Carla", 3000),
        gift(demo["valle-serena"], "Dario", 4000),
    ]


def issue(donation, django_capture_on_commit_callbacks):
    # the PDF is rendered by a task after commit (immediate backend in tests)
    with django_capture_on_commit_callbacks(execute=True):
        return issue_receipt([donation])


def test_receipts_zip_holds_the_pdfs_and_index_of_the_period(
    client, users, gifts, django_capture_on_commit_callbacks
):
    # given two receipts of A issued this week, one of A issued last year and one of B
    anna, bruno, carla, dario = (issue(g, django_capture_on_commit_callbacks) for g in gifts)
    Receipt.objects.filter(pk=carla.pk).update(
        issued_at=timezone.now() - datetime.timedelta(days=400)
    )
    today = timezone.localdate()
    start = today - datetime.timedelta(days=7)
    client.force_login(users[TREASURER])
    # when A's treasurer exports the receipts of the week
    response = client.get(f"/admin/crm/donations/export/receipts/?from={start}&to={today}")
    # then the ZIP holds exactly A's two PDFs of the period and an index listing them
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    expected = {anna, bruno}
    pdf_names = {f"ricevuta-{r.number.replace('/', '-')}.pdf" for r in expected}
    assert set(archive.namelist()) == pdf_names | {"index.csv"}
    for receipt in expected:
        receipt.refresh_from_db()
        data = archive.read(f"ricevuta-{receipt.number.replace('/', '-')}.pdf")
        assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == receipt.pdf_sha256
    index = list(
        csv.reader(io.StringIO(archive.read("index.csv").decode("utf-8-sig")), delimiter=";")
    )
    assert len(index) == 3
    by_number = {row[0]: row for row in index[1:]}
    assert set(by_number) == {r.number for r in expected}
    assert by_number[anna.number][4] == "Anna Bianchi" and by_number[anna.number][6] == "10,00"
    assert by_number[bruno.number][7] == f"ricevuta-{bruno.number.replace('/', '-')}.pdf"
    assert carla.number not in by_number and dario.number not in by_number


def test_pdf_action_serves_the_stored_pdf_to_the_treasurer(
    client, users, gifts, django_capture_on_commit_callbacks
):
    # (the signed link and its forgeries: tests/security/test_private_files.py)
    receipt = issue(gifts[0], django_capture_on_commit_callbacks)
    client.force_login(users[TREASURER])
    download = client.get(f"/admin/crm/receipts/{receipt.pk}/pdf/")
    body = b"".join(download.streaming_content)
    assert download["Content-Type"] == "application/pdf" and body.startswith(b"%PDF")
    number = receipt.number.replace("/", "-")
    assert download["Content-Disposition"] == f'attachment; filename="ricevuta-{number}.pdf"'


def test_reissue_voids_and_replaces_with_current_details(
    client, users, gifts, django_capture_on_commit_callbacks
):
    old = issue(gifts[0], django_capture_on_commit_callbacks)
    Donor.objects.filter(pk=old.donor_id).update(first_name="Annamaria")
    client.force_login(users[TREASURER])
    url = f"/admin/crm/receipts/{old.pk}/reissue/"
    # the GET is a confirmation asking why; an empty reason changes nothing
    assert 'name="reason"' in client.get(url).content.decode()
    client.post(url, {"reason": " "})
    old.refresh_from_db()
    assert old.status == "issued"
    # with a reason, the old one is void and a new one with the new name replaces it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "donor's name was wrong"})
    old.refresh_from_db()
    new = Receipt.objects.get(replaces=old)
    assert old.status == "void" and old.void_reason == "donor's name was wrong"
    assert new.status == "issued" and new.donor_snapshot["name"] == "Annamaria Bianchi"
    assert response["Location"].endswith(f"/crm/receipts/inspect/{new.pk}/")
    assert new.number != old.number and new.pdf_sha256


def test_resend_emails_the_receipt_again(client, users, gifts, django_capture_on_commit_callbacks):
    receipt = issue(gifts[0], django_capture_on_commit_callbacks)
    client.force_login(users[TREASURER])
    assert client.get(f"/admin/crm/receipts/{receipt.pk}/resend/").status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/crm/receipts/{receipt.pk}/resend/")
    assert response.status_code == 302
    email = DonorEmail.objects.get(receipt=receipt)
    assert email.to == "anna@example.org" and email.status == "sent"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["anna@example.org"]
    assert any(name.endswith(".pdf") for name, *_rest in mail.outbox[0].attachments)


def test_gift_and_receipt_pages_offer_their_actions(
    client, users, gifts, django_capture_on_commit_callbacks
):
    client.force_login(users[TREASURER])
    gift_page = client.get(f"/admin/crm/donations/inspect/{gifts[0].pk}/").content.decode()
    assert f"/admin/crm/donations/{gifts[0].pk}/issue-receipt/" in gift_page
    receipt = issue(gifts[0], django_capture_on_commit_callbacks)
    gift_page = client.get(f"/admin/crm/donations/inspect/{gifts[0].pk}/").content.decode()
    assert "/issue-receipt/" not in gift_page  # already covered
    receipt_page = client.get(f"/admin/crm/receipts/inspect/{receipt.pk}/").content.decode()
    for action in ("pdf", "resend", "reissue", "void"):
        assert f"/admin/crm/receipts/{receipt.pk}/{action}/" in receipt_page
