"""Every succeeded gift is acknowledged, once: a one-off or a plan's charge, online or offline;
the receipt issued with it is attached to that very email; a plan's emails carry its manage
link; a plan's first gift is its welcome."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from crm import gifts, plans
from crm.models import Donation, Donor, DonorEmail, Receipt, RecurringPlan
from crm.offline import record_offline_gift
from crm.outbox import queue_gift_email, queue_receipt_email
from crm.receipts import reissue_receipt
from crm.sweep import enqueue_unsent_emails
from tests.pdfs import pdf_text
from tests.receipts.flaky_mail import FlakyBackend

pytestmark = pytest.mark.django_db


def pay(donation, capture):
    with capture(execute=True):
        gifts.record_payment(donation, amount_cents=donation.amount_cents, currency="eur")
    donation.refresh_from_db()
    return donation


def charge(plan, invoice, capture, origin=None):
    with capture(execute=True):
        plans.record_plan_charge(
            plan, invoice_id=invoice, amount_cents=plan.amount_cents, currency="eur", origin=origin
        )


def test_a_one_off_gift_without_receipt_gets_its_confirmation(
    campaign, pending_donation, mailoutbox, django_capture_on_commit_callbacks
):
    # given a one-off gift of € 42,50 by card, no receipt asked
    donation = pending_donation(4250)

    # when the payment arrives (and Stripe says so twice)
    pay(donation, django_capture_on_commit_callbacks)
    pay(donation, django_capture_on_commit_callbacks)

    # then one confirmation tells the amount, date, campaign and method, with no attachment
    (message,) = mailoutbox
    assert message.to == ["anna.rossi@example.org"]
    assert "Grazie per il tuo dono" in message.subject
    assert "€\xa042,50" in message.body
    # (the day of a payment is the day in Rome, whatever the server's time zone)
    rome_today = timezone.localdate(timezone=ZoneInfo("Europe/Rome"))
    assert rome_today.strftime("%d/%m/%Y") in message.body
    assert campaign.title in message.body
    assert "Carta" in message.body
    assert "/my-giving/oltre-il-ponte/" in message.body
    assert message.attachments == []
    email = DonorEmail.objects.get()
    assert (email.kind, email.donation, email.receipt, email.status) == (
        "gift",
        donation,
        None,
        "sent",
    )


def test_a_gift_with_receipt_is_one_email_with_the_pdf_attached(
    campaign, pending_donation, mailoutbox, django_capture_on_commit_callbacks
):
    # given a donor who asked for a receipt
    donation = pending_donation(2500, wants_receipt=True, codice_fiscale="RSSMRA80A01H501U")

    # when the payment arrives
    pay(donation, django_capture_on_commit_callbacks)

    # then ONE email: the confirmation, with the receipt attached under a proper name
    receipt = Receipt.objects.get()
    (message,) = mailoutbox
    (name, content, mimetype) = message.attachments[0]
    assert (name, mimetype) == (
        f"ricevuta-{receipt.number.replace('/', '-')}.pdf",
        "application/pdf",
    )
    text = pdf_text(content)
    assert receipt.number in text and "25,00" in text and "RSSMRA80A01H501U" in text
    assert receipt.number in message.body and campaign.title in message.body
    email = DonorEmail.objects.get()
    assert (email.kind, email.donation, email.receipt) == ("gift", donation, receipt)


def test_a_monthly_gift_without_receipt_gets_a_welcome_then_a_confirmation_each_month(
    campaign, pending_donation, mailoutbox, django_capture_on_commit_callbacks
):
    # given a monthly gift started on the campaign page, no receipt asked
    origin = pending_donation(1500, stripe_subscription_id="sub_M1")
    plan = plans.plan_for_subscription("sub_M1", origin=origin, customer_id="cus_1")

    # when its first invoice is paid (twice: a replay)
    charge(plan, "in_1", django_capture_on_commit_callbacks, origin=origin)
    charge(plan, "in_1", django_capture_on_commit_callbacks, origin=origin)

    # then the donor is welcomed once, with the link to manage the plan
    (welcome,) = mailoutbox
    assert "ha preso il via" in welcome.subject
    assert "€\xa015,00" in welcome.body and campaign.title in welcome.body
    assert "/give/plan/" in welcome.body
    assert welcome.attachments == []

    # when the next month is paid
    plan.refresh_from_db()
    charge(plan, "in_2", django_capture_on_commit_callbacks)

    # then that gift gets its own confirmation, with the manage link too
    assert len(mailoutbox) == 2
    monthly = mailoutbox[1]
    assert "Grazie per il tuo dono" in monthly.subject
    assert "/give/plan/" in monthly.body and "€\xa015,00" in monthly.body
    kinds = list(
        DonorEmail.objects.order_by("pk").values_list("kind", "donation__stripe_invoice_id")
    )
    assert kinds == [("plan_welcome", "in_1"), ("gift", "in_2")]
    assert plan.donations.count() == 2


def test_exactly_one_confirmation_per_gift_even_when_asked_again(
    campaign, pending_donation, django_capture_on_commit_callbacks
):
    donation = pay(pending_donation(1000), django_capture_on_commit_callbacks)
    assert queue_gift_email(donation) is None
    assert DonorEmail.objects.filter(donation=donation).count() == 1


def test_an_offline_gift_is_confirmed_when_the_donor_has_an_email(
    campaign, mailoutbox, django_capture_on_commit_callbacks
):
    network = campaign.network
    with_email = Donor.objects.create(network=network, first_name="Bruno", email="b@example.org")
    without = Donor.objects.create(network=network, first_name="Carla")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        for donor in (with_email, without):
            record_offline_gift(
                network=network,
                donor=donor,
                amount_cents=5000,
                received_on=yesterday,
                method=Donation.Method.BANK_TRANSFER,
                campaign=campaign,
            )

    (message,) = mailoutbox
    assert message.to == ["b@example.org"]
    assert "Bonifico" in message.body and yesterday.strftime("%d/%m/%Y") in message.body


def test_with_mail_down_the_confirmation_waits_and_is_sent_once_when_it_is_back(
    settings, campaign, pending_donation, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "tests.receipts.flaky_mail.FlakyBackend"}}
    FlakyBackend.failures, FlakyBackend.attempts = 1, 0
    django_mail.outbox = []
    pay(pending_donation(1000), django_capture_on_commit_callbacks)
    email = DonorEmail.objects.get()
    assert email.status == DonorEmail.Status.FAILED and django_mail.outbox == []

    assert enqueue_unsent_emails(email.next_attempt_at) == 1
    email.refresh_from_db()
    assert email.status == DonorEmail.Status.SENT
    assert len(django_mail.outbox) == 1


def test_a_reissued_receipts_email_names_the_receipt_it_replaces(
    campaign, pending_donation, mailoutbox, django_capture_on_commit_callbacks
):
    # given a receipt issued and emailed with its gift
    donation = pay(
        pending_donation(3000, wants_receipt=True, codice_fiscale="RSSMRA80A01H501U"),
        django_capture_on_commit_callbacks,
    )
    old = Receipt.objects.get()

    # when a treasurer reissues it and it is emailed
    with django_capture_on_commit_callbacks(execute=True):
        new = reissue_receipt(old, reason="wrong name")
        queue_receipt_email(new)

    # then the email says which number it replaces, with amount, date and campaign
    message = mailoutbox[-1]
    assert new.number != old.number
    assert f"sostituisce la ricevuta n. {old.number}" in message.body
    assert "€\xa030,00" in message.body
    assert donation.received_on.strftime("%d/%m/%Y") in message.body
    assert campaign.title in message.body
    assert message.attachments[0][0] == f"ricevuta-{new.number.replace('/', '-')}.pdf"
    assert new.number in pdf_text(message.attachments[0][1])


def test_a_failed_payment_email_offers_to_update_the_card(
    campaign, pending_donation, mailoutbox, django_capture_on_commit_callbacks
):
    origin = pending_donation(1500, stripe_subscription_id="sub_F1")
    plan = plans.plan_for_subscription("sub_F1", origin=origin)
    charge(plan, "in_F1", django_capture_on_commit_callbacks, origin=origin)
    plan.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        plans.record_plan_failure(plan)
    message = mailoutbox[-1]
    assert plan.status == RecurringPlan.Status.PAST_DUE
    assert "aggiornare la carta" in message.body and "/give/plan/" in message.body


def test_an_import_of_past_gifts_sends_no_confirmations(
    campaign, mailoutbox, django_capture_on_commit_callbacks
):
    donor = Donor.objects.create(network=campaign.network, first_name="Dora", email="d@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        record_offline_gift(
            network=campaign.network,
            donor=donor,
            amount_cents=5000,
            received_on=timezone.localdate() - datetime.timedelta(days=30),
            method=Donation.Method.BANK_TRANSFER,
            confirm=False,
        )
    assert mailoutbox == [] and not DonorEmail.objects.exists()
