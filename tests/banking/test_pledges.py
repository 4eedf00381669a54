"""A pledge: its RF reference (ISO 11649), its EPC QR code (EPC069-12), never money."""

import io

import pytest
import segno.helpers
from django.core import mail
from PIL import Image

from banking import qr, references
from banking.models import Pledge
from banking.pledges import create_pledge
from crm.models import Donation

zxingcpp = pytest.importorskip("zxingcpp")

DETAILS = {"first_name": "Anna", "last_name": "Bianchi", "email": "anna@example.org"}


def test_reference_check_digits_follow_iso_11649():
    # The example of ISO 11649 (and of the EPC's own guidance): RF18 5390 0754 7034.
    assert references.with_check_digits("539007547034") == "RF18539007547034"
    assert references.is_valid("RF18 5390 0754 7034")
    assert not references.is_valid("RF19539007547034")
    ref = references.new_reference()
    assert references.is_valid(ref) and len(ref) == 19


def test_references_are_found_in_remittance_text_whatever_the_spacing():
    ref = references.new_reference()
    text = f"Bonifico a favore di ... Rif. {references.grouped(ref).lower()} grazie"
    assert references.find_references(text) == [ref]
    broken = ref[:-1] + str((int(ref[-1]) + 1) % 10)
    assert references.find_references(f"rif {broken}") == []


@pytest.mark.django_db
def test_a_pledge_has_a_unique_reference_and_is_never_a_gift(bank_details, campaign):
    network = campaign.network
    before = Donation.objects.count()
    raised = campaign.get_progress()["raised_cents"]
    first = create_pledge(
        network=network, campaign=campaign, amount_cents=2500, donor_details=DETAILS
    )
    second = create_pledge(
        network=network, campaign=campaign, amount_cents=2500, donor_details=DETAILS
    )
    assert first.reference != second.reference
    assert references.is_valid(first.reference)
    assert Donation.objects.count() == before
    assert campaign.get_progress()["raised_cents"] == raised
    assert first.state() == "open"
    assert first.state(today=first.expires_on.replace(year=first.expires_on.year + 1)) == "expired"


@pytest.mark.django_db
def test_the_qr_code_carries_the_epc_fields(bank_details, campaign):
    pledge = create_pledge(
        network=campaign.network, campaign=campaign, amount_cents=123450, donor_details=DETAILS
    )
    details = bank_details[0]
    payload = qr.epc_payload(details, pledge)
    fields = qr.parse_epc(payload)
    assert fields["service"] == "BCD" and fields["version"] == "002"
    assert fields["charset"] == "1" and fields["identification"] == "SCT"
    assert fields["name"] == "Associazione Oltre il Ponte ETS"
    assert fields["iban"] == details.iban and fields["bic"] == "BPMOIT22XXX"
    assert fields["amount"] == "EUR1234.50"
    assert fields["reference"] == pledge.reference
    # segno's own EPC builder says the same (amount aside: it drops trailing zeros).
    theirs = segno.helpers._make_epc_qr_data(
        name=details.beneficiary,
        iban=details.iban,
        amount="1234.50",
        reference=pledge.reference,
        bic=details.bic,
        encoding="utf-8",
    )
    assert qr.parse_epc(theirs) | {"amount": ""} == fields | {"amount": ""}
    # And the symbol, read back by a real decoder, carries exactly the payload.
    png = io.BytesIO()
    qr.epc_qr(details, pledge).save(png, kind="png", scale=6)
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.getvalue())))
    assert found.text.encode("utf-8") == payload
    assert "<svg" in qr.epc_svg(details, pledge)


@pytest.mark.django_db
def test_the_pledge_email_goes_once_in_the_donors_language(
    bank_details, campaign, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pledge = create_pledge(
            network=campaign.network,
            campaign=campaign,
            amount_cents=2500,
            donor_details={**DETAILS, "language": "en"},
        )
    from banking.mail import deliver_pledge_email

    deliver_pledge_email(pledge.pk)  # a second run finds it sent
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@example.org"]
    assert "bank transfer" in message.subject.lower()
    assert references.grouped(pledge.reference) in message.body
    assert "€\u00a025.00" in message.body  # in English
    assert message.attachments[0][2] == "image/png"
    assert Pledge.objects.get(pk=pledge.pk).email_status == "sent"


@pytest.mark.django_db
def test_a_failed_pledge_email_is_sent_again_by_the_sweep(bank_details, campaign, settings):
    from django.utils import timezone

    from banking.mail import deliver_pledge_email, due_pledge_emails
    from banking.tasks import sweep_pledge_emails
    from tests.receipts.flaky_mail import FlakyBackend

    settings.MAILERS = {"default": {"BACKEND": "tests.receipts.flaky_mail.FlakyBackend"}}
    FlakyBackend.failures, FlakyBackend.attempts = 1, 0
    pledge = create_pledge(
        network=campaign.network, campaign=campaign, amount_cents=2500, donor_details=DETAILS
    )
    deliver_pledge_email(pledge.pk)  # its task: the provider is down
    pledge.refresh_from_db()
    assert (pledge.email_status, pledge.email_attempts) == ("failed", 1)
    assert due_pledge_emails(now=timezone.now()) == []  # not before its backoff
    assert due_pledge_emails(now=pledge.email_next_attempt_at) == [pledge.pk]
    Pledge.objects.filter(pk=pledge.pk).update(email_next_attempt_at=timezone.now())
    assert sweep_pledge_emails.call() == 1
    pledge.refresh_from_db()
    assert (pledge.email_status, pledge.email_attempts, FlakyBackend.attempts) == ("sent", 2, 2)
    deliver_pledge_email(pledge.pk)  # sent: a late duplicate task sends nothing
    assert FlakyBackend.attempts == 2
