"""A gift's confirmation carries its receipt's PDF: rendered by the email's own task before the
email is claimed, stored once, and attached as stored (the bytes whose SHA-256 the receipt
records); a second run of the task neither renders nor sends again (issue 21: the task reads
the receipt once for rendering and not again for attaching)."""

import hashlib

import pytest
from django.core import mail as django_mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import tasks, thanks
from crm.models import DonorEmail, Receipt
from crm.receipt_files import read_receipt_pdf

pytestmark = pytest.mark.django_db


def test_the_confirmation_attaches_the_stored_pdf_once(
    donor_factory, gift_factory, django_capture_on_commit_callbacks, monkeypatch
):
    rendered = []
    from crm import pdf

    real_render = pdf.render_receipt
    monkeypatch.setattr(pdf, "render_receipt", lambda r: rendered.append(r.pk) or real_render(r))
    django_mail.outbox = []
    gift = gift_factory(donor_factory(), wants_receipt=True)
    # when the gift is acknowledged and its email's task runs
    with django_capture_on_commit_callbacks(execute=True):
        receipt = thanks.acknowledge_gift(gift)
    # then one email went, with the PDF as stored, rendered once
    email = DonorEmail.objects.get(donation=gift)
    assert (email.kind, email.status, email.receipt_id) == ("gift", "sent", receipt.pk)
    receipt = Receipt.objects.get(pk=receipt.pk)
    [(name, data, mime)] = django_mail.outbox[0].attachments
    assert (name, mime) == (f"ricevuta-{receipt.number.replace('/', '-')}.pdf", "application/pdf")
    assert hashlib.sha256(data).hexdigest() == receipt.pdf_sha256
    assert data == read_receipt_pdf(receipt)
    assert rendered == [receipt.pk]
    # and the task run again renders nothing and sends nothing
    tasks.send_donor_email.enqueue(email.pk)
    assert (len(django_mail.outbox), rendered) == (1, [receipt.pk])


def test_a_stored_pdf_is_read_back_without_reading_its_receipt_again(donor_factory, gift_factory):
    gift = gift_factory(donor_factory(), wants_receipt=True)
    receipt = thanks.acknowledge_gift(gift)
    first = read_receipt_pdf(receipt)  # rendered and stored here
    stored = Receipt.objects.get(pk=receipt.pk)
    with CaptureQueriesContext(connection) as queries:
        assert read_receipt_pdf(stored) == first
    assert len(queries) == 0


def test_a_tampered_stored_pdf_is_refused(donor_factory, gift_factory):
    from crm.receipt_files import ReceiptError

    gift = gift_factory(donor_factory(), wants_receipt=True)
    receipt = thanks.acknowledge_gift(gift)
    read_receipt_pdf(receipt)
    stored = Receipt.objects.get(pk=receipt.pk)
    with stored.pdf.open("wb") as fh:
        fh.write(b"%PDF-1.7 not the receipt")
    with pytest.raises(ReceiptError):
        read_receipt_pdf(stored)
