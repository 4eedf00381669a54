"""The money path end to end, as plain calls: a signed Stripe delivery reaches our webhook and,
with nothing sent by hand, the gift succeeds, its receipt is numbered, rendered as a PDF and
emailed exactly once (campaigns.webhooks names each step)."""

import hashlib

import pytest

from campaigns.models import StripeEvent
from crm.models import Donation, DonorEmail, Receipt
from tests.pdfs import pdf_text

from . import payloads
from .conftest import event

pytestmark = pytest.mark.django_db


def test_a_signed_delivery_ends_in_one_rendered_receipt_and_one_email(
    deliver, pending_donation, mailoutbox, django_capture_on_commit_callbacks
):
    # given a donor who asked for a receipt and went to pay € 42,50 on Stripe Checkout
    donation = pending_donation(
        4250, codice_fiscale="RSSMRA80A01H501U", wants_receipt=True, email="anna@example.org"
    )
    completed = event("checkout.session.completed", payloads.checkout_session(donation, pi="pi_M"))

    # when Stripe delivers the completion (signed), and delivers it again
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(completed)
    with django_capture_on_commit_callbacks(execute=True):
        again = deliver(completed)

    # then the event is stored once and the gift succeeded, with its donor
    assert (first.status_code, again.status_code) == (200, 200)
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.APPLIED
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    assert donation.donor.codice_fiscale == "RSSMRA80A01H501U"

    # and one receipt is numbered for it and rendered to a stored PDF that says what it is
    receipt = Receipt.objects.get()
    assert list(receipt.donations.all()) == [donation]
    assert receipt.pdf_sha256
    with receipt.pdf.open("rb") as fh:
        stored = fh.read()
    assert hashlib.sha256(stored).hexdigest() == receipt.pdf_sha256
    text = pdf_text(stored)
    assert receipt.number in text
    assert "42,50" in text
    assert "RSSMRA80A01H501U" in text

    # and exactly one email went out, to the donor, with that very PDF attached
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["anna@example.org"]
    (name, content, mimetype) = message.attachments[0]
    assert mimetype == "application/pdf"
    assert content == stored
    email = DonorEmail.objects.get()
    assert (email.receipt, email.status, email.attempts) == (receipt, "sent", 1)
