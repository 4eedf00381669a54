"""Issue 26: every email to a donor about a gift speaks for the entity that received it (a
partner of the network, or its lead entity), not always for the network's lead: the refund
notice, the plan's emails (failed payment, stopped, changed, its link) and the notice to the
family of a gift in memory or in honour of someone."""

import datetime

import pytest

from crm import outbox
from crm.mail import build_message
from crm.models import Donation, Donor, IssuingEntity, Network, RecurringPlan

pytestmark = pytest.mark.django_db

PARTNER = "Cooperativa sociale Il Ponte"


@pytest.fixture
def partner_gift(network_factory):
    """A monthly donor whose plan's gifts go to the network's partner entity."""
    network = network_factory("rete-enti-email", receipt_series="RE")
    partner = IssuingEntity.objects.create(
        network=network,
        legal_name=PARTNER,
        codice_fiscale="01234560157",
        entity_kind=Network.EntityKind.SOCIAL_ENTERPRISE,
        street_address="Via Manzoni 3",
        postal_code="23900",
        city="Lecco",
        email="tesoreria@ilponte.example.org",
        signer_name="Luca Bianchi",
        receipt_series="CP",
    )
    donor = Donor.objects.create(
        network=network,
        first_name="Anna",
        last_name="Rossi",
        email="anna.rossi@example.org",
        language="en",
    )
    plan = RecurringPlan.objects.create(
        network=network,
        donor=donor,
        amount_cents=1000,
        status=RecurringPlan.Status.ACTIVE,
    )
    gift = Donation.objects.create(
        network=network,
        donor=donor,
        entity=partner,
        recurring_plan=plan,
        amount_cents=1000,
        received_on=datetime.date(2026, 5, 10),
        method=Donation.Method.CARD,
        status=Donation.Status.SUCCEEDED,
        tribute=Donation.Tribute.MEMORY,
        tribute_name="Nonna Lia",
        tribute_notify_email="famiglia@example.org",
    )
    return network, partner, plan, gift


def _says_partner(email, network):
    message = build_message(email)
    html = message.alternatives[0][0]
    for text in (message.subject, message.body, html):
        assert network.legal_name not in text, text
    assert PARTNER in message.body
    assert "Luca Bianchi" in message.body
    assert PARTNER in html
    assert message.reply_to == ["tesoreria@ilponte.example.org"]
    return message


def test_the_refund_notice_names_the_entity_that_received_the_gift(partner_gift):
    # given a gift the partner entity received
    network, _partner, _plan, gift = partner_gift
    # when part of it is refunded and the donor told
    email = outbox.queue_refund_email(gift, 400)
    # then the notice speaks for the partner, not for the network's lead entity
    message = _says_partner(email, network)
    assert PARTNER in message.subject


def test_the_plan_emails_name_the_entity_receiving_the_plans_gifts(partner_gift):
    # given a plan whose gifts the partner entity receives
    network, _partner, plan, _gift = partner_gift
    # when a payment fails, the plan changes, its link is sent and it stops
    emails = [
        outbox.queue_payment_failed_email(plan),
        outbox.queue_plan_changed_email(plan, [{"what": "resume"}]),
        outbox.queue_plan_link_email(plan),
        outbox.queue_plan_stopped_email(plan),
    ]
    # then each speaks for the partner, in its subject too
    for email in emails:
        assert PARTNER in _says_partner(email, network).subject


def test_a_plan_without_gifts_yet_names_its_campaigns_entity(partner_gift):
    # given a plan whose first payment failed (no gift recorded), on the lead's network
    network, _partner, plan, gift = partner_gift
    gift.delete()
    # when the donor is told the payment failed
    message = build_message(outbox.queue_payment_failed_email(plan))
    # then it names the entity that would receive it: the lead, the plan naming no campaign
    assert network.legal_name in message.subject
    assert PARTNER not in message.body


def test_the_tribute_notice_names_the_entity_that_received_the_gift(partner_gift):
    # given a gift in memory of someone, received by the partner entity
    network, _partner, _plan, gift = partner_gift
    # when the family is told
    email = outbox.queue_tribute_email(gift)
    # then the notice speaks for the partner
    _says_partner(email, network)


@pytest.mark.parametrize(
    ("language", "words"),
    [("it", "(€\u00a010,00, trimestrale)"), ("en", "(€\u00a010.00, quarterly)")],
)
def test_the_stopped_plan_email_writes_its_frequency_mid_sentence(partner_gift, language, words):
    # found walking the demo: "la tua donazione periodica (€ 30,00, Trimestrale) è stata
    # interrotta", a capital in mid-sentence where the other plan emails write "trimestrale"
    _network, _partner, plan, _gift = partner_gift
    plan.interval = RecurringPlan.Interval.QUARTER
    plan.save()
    plan.donor.language = language
    plan.donor.save()
    message = build_message(outbox.queue_plan_stopped_email(plan))
    assert words in message.body


@pytest.mark.parametrize(
    ("language", "ambient", "amount"), [("it", "en", "10,00"), ("en", "it", "10.00")]
)
def test_every_email_writes_amounts_in_the_donors_language(partner_gift, language, ambient, amount):
    # found walking the demo: an English donor's notices read "€ 10,00" and, sent from a
    # request in English, an Italian donor's read "€ 10.00": the amount followed whatever
    # language the sender happened to run in, not the donor's
    from django.utils import translation

    _network, _partner, plan, gift = partner_gift
    plan.donor.language = language
    plan.donor.save()
    gift.tribute_show_amount = True
    gift.save()
    emails = [
        outbox.queue_payment_failed_email(plan),
        outbox.queue_plan_link_email(plan),
        outbox.queue_plan_stopped_email(plan),
        outbox.queue_refund_email(gift, 400),
        outbox.queue_tribute_email(gift),
    ]
    with translation.override(ambient):
        for email in emails:
            assert f"€\u00a0{amount}" in build_message(email).body, email.kind
