"""A monthly donor whose payment fails is told, in their language, with the link to stop giving;
the notice is an email like any other: retried while the provider is down, never lost."""

import pytest
from django.core import mail as django_mail

from crm import plans
from crm.models import DonorEmail, RecurringPlan
from crm.sweep import enqueue_unsent_emails

from .flaky_mail import FlakyBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_factory(network, donor_factory):
    def make(**donor_fields):
        donor = donor_factory(**donor_fields)
        return RecurringPlan.objects.create(
            network=network,
            donor=donor,
            amount_cents=2500,
            status=RecurringPlan.Status.PAST_DUE,
            stripe_subscription_id=f"sub_{donor.pk}",
        )

    return make


def fail_payment(plan, capture):
    with capture(execute=True):
        plans.record_plan_failure(plan, first_attempt=True)


def test_italian_donor_is_told_with_the_link_to_stop(
    plan_factory, django_capture_on_commit_callbacks
):
    # given a monthly donor writing in Italian
    plan = plan_factory(first_name="Lucia", last_name="D'Alò", language="it")

    # when a monthly payment fails
    fail_payment(plan, django_capture_on_commit_callbacks)

    # then one email tells them, in Italian, with the signed self-service link
    (message,) = django_mail.outbox
    assert message.to == ["mario.rossi@example.com"]
    assert "non è andato a buon fine" in message.subject
    assert "donazione periodica (€\xa025,00, mensile)" in message.body
    assert message.body.startswith("Gentile Lucia,")
    assert "€\xa025,00" in message.body
    assert "/give/plan/" in message.body
    assert message.reply_to == ["tesoreria@ilponte.example"]
    email = DonorEmail.objects.get()
    assert (email.kind, email.status, email.recurring_plan) == ("payment_failed", "sent", plan)


def test_english_donor_reads_english(plan_factory, django_capture_on_commit_callbacks):
    plan = plan_factory(language="en")
    fail_payment(plan, django_capture_on_commit_callbacks)
    (message,) = django_mail.outbox
    assert message.subject.startswith(
        "A payment of your regular donation to Cooperativa Sociale Il Ponte ETS"
    )
    # the amount written as the English pages and the thank-you email write it
    assert "(€\xa025.00, monthly)" in message.body
    assert message.body.startswith("Dear Mario,")
    assert "/en/give/plan/" in message.body


def test_donor_without_email_gets_nothing_and_nothing_breaks(
    plan_factory, django_capture_on_commit_callbacks
):
    plan = plan_factory(email="")
    fail_payment(plan, django_capture_on_commit_callbacks)
    assert django_mail.outbox == []
    assert not DonorEmail.objects.exists()


def test_notice_is_retried_while_the_provider_is_down(
    settings, plan_factory, django_capture_on_commit_callbacks
):
    # given a provider that fails twice
    settings.MAILERS = {"default": {"BACKEND": "tests.receipts.flaky_mail.FlakyBackend"}}
    FlakyBackend.failures, FlakyBackend.attempts = 2, 0
    django_mail.outbox = []
    plan = plan_factory()

    # when the payment fails, the notice is recorded as failed and waits
    fail_payment(plan, django_capture_on_commit_callbacks)
    email = DonorEmail.objects.get()
    assert (email.status, email.attempts) == ("failed", 1)

    # then the retries deliver it once the provider is back
    while email.status == "failed":
        assert enqueue_unsent_emails(email.next_attempt_at) == 1
        email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 3)
    assert len(django_mail.outbox) == 1
