"""Retention (ops.pruning): each rule deletes what it should after its time, and keeps what a
receipt, a gift, a plan, a payout report or the Agenzia's data still needs."""

import datetime
import io
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from campaigns.models import StripeEvent
from crm.models import Donation, Donor, DonorEmail, Receipt
from ops import pruning
from ops.tasks import prune_old_records
from outreach.models import Delivery, Message
from outreach.results import message_results

NOW = timezone.make_aware(datetime.datetime(2027, 6, 1, 3, 0))
Kind = DonorEmail.Kind
Status = DonorEmail.Status


@pytest.fixture
def network(network_factory):
    return network_factory("rete-archivio")


@pytest.fixture
def donor(network):
    return Donor.objects.create(
        network=network, first_name="Ada", last_name="Archivio", email="ada@example.org"
    )


def aged(queryset, days, field="created_at", now=NOW):
    queryset.update(**{field: now - timedelta(days=days)})


# --- Task results -------------------------------------------------------------------------------


def task_result(status, finished_days_ago, backend="default"):
    finished = NOW - timedelta(days=finished_days_ago) if finished_days_ago is not None else None
    return DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="ops.tasks.prune_old_records",
        backend_name=backend,
        queue_name="default",
        run_after=NOW - timedelta(days=400),
        finished_at=finished,
        exception_class_path="",
        traceback="",
    )


def test_finished_task_results_go_after_their_time_on_the_database_queue(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASK_RESULTS_RETENTION_DAYS = 30
    old_ok = task_result(TaskResultStatus.SUCCESSFUL, 31)
    old_failed = task_result(TaskResultStatus.FAILED, 45)
    recent = task_result(TaskResultStatus.SUCCESSFUL, 29)
    waiting = task_result(TaskResultStatus.READY, None)
    running = task_result(TaskResultStatus.RUNNING, None)
    # when the rule runs
    assert pruning.prune_task_results(NOW) == 2
    # then the old finished results are gone; recent, waiting and running ones stay
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert left == {recent.pk, waiting.pk, running.pk}
    assert old_ok.pk not in left and old_failed.pk not in left


def test_task_results_are_left_alone_when_the_queue_is_not_the_database(db, settings):
    # (RQ expires its own results; the immediate backend keeps none)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    task_result(TaskResultStatus.SUCCESSFUL, 400)
    assert pruning.prune_task_results(NOW) == 0
    assert DBTaskResult.objects.count() == 1


# --- Stripe events ------------------------------------------------------------------------------


def stripe_event(outcome, processed_days_ago):
    processed = NOW - timedelta(days=processed_days_ago) if processed_days_ago is not None else None
    event = StripeEvent.objects.create(
        event_id=f"evt_{uuid.uuid4().hex}",
        type="checkout.session.completed",
        payload={"id": "x"},
        outcome=outcome,
        processed_at=processed,
    )
    aged(StripeEvent.objects.filter(pk=event.pk), processed_days_ago or 200, "received_at")
    return event


def test_only_processed_stripe_events_go_after_their_time(db, settings):
    settings.STRIPE_EVENTS_RETENTION_DAYS = 90
    Outcome = StripeEvent.Outcome
    gone = [stripe_event(Outcome.APPLIED, 91), stripe_event(Outcome.IGNORED, 365)]
    kept = [
        stripe_event(Outcome.APPLIED, 89),  # recent
        stripe_event(Outcome.FAILED, 365),  # never applied: for a person to look at
        stripe_event(Outcome.PENDING, None),  # waiting (e.g. for its plan)
    ]
    assert pruning.prune_stripe_events(NOW) == 2
    left = set(StripeEvent.objects.values_list("pk", flat=True))
    assert left == {e.pk for e in kept}
    assert not left & {e.pk for e in gone}


# --- Emails to donors ---------------------------------------------------------------------------


def test_only_finished_link_emails_go_receipts_and_gifts_emails_stay(db, settings, network, donor):
    settings.DONOR_LINK_EMAILS_RETENTION_DAYS = 90
    gift = Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=2500,
        received_on=datetime.date(2016, 3, 1),
        status=Donation.Status.SUCCEEDED,
    )
    receipt = Receipt.objects.create(
        network=network, year=2016, sequence=1, number="2016/00001", donor=donor, amount_cents=2500
    )
    receipt.donations.add(gift)
    plan_email = {"to": donor.email, "donor": donor}
    gone = [
        DonorEmail.objects.create(kind=Kind.DONOR_PORTAL, status=Status.SENT, **plan_email),
        DonorEmail.objects.create(kind=Kind.DONOR_PORTAL, status=Status.GAVE_UP, **plan_email),
    ]
    kept = [
        # the receipt's own email and its delivery status: the receipt's record, ten years
        DonorEmail.objects.create(
            kind=Kind.RECEIPT, receipt=receipt, to=donor.email, status=Status.DELIVERED
        ),
        # the gift's confirmation (also what stops a second one being sent)
        DonorEmail.objects.create(
            kind=Kind.GIFT, donation=gift, receipt=receipt, to=donor.email, status=Status.SENT
        ),
        DonorEmail.objects.create(
            kind=Kind.REFUND, donation=gift, amount_cents=500, to=donor.email, status=Status.SENT
        ),
        # the double opt-in's proof
        DonorEmail.objects.create(
            kind=Kind.NEWSLETTER_CONFIRM, status=Status.DELIVERED, **plan_email
        ),
        # a link email not sent yet (a worker will retry it)
        DonorEmail.objects.create(kind=Kind.DONOR_PORTAL, status=Status.FAILED, **plan_email),
    ]
    aged(DonorEmail.objects.all(), 3650)
    recent = DonorEmail.objects.create(kind=Kind.DONOR_PORTAL, status=Status.SENT, **plan_email)
    aged(DonorEmail.objects.filter(pk=recent.pk), 89)
    # when the rule runs
    assert pruning.prune_link_emails(NOW) == 2
    # then only the old, finished link emails are gone
    left = set(DonorEmail.objects.values_list("pk", flat=True))
    assert left == {e.pk for e in kept} | {recent.pk}
    assert not left & {e.pk for e in gone}
    # and the receipt, its gift and its email's status are untouched
    receipt.refresh_from_db()
    assert receipt.emails.get(kind=Kind.RECEIPT).status == Status.DELIVERED
    assert list(receipt.donations.all()) == [gift]


# --- Messages to donors -------------------------------------------------------------------------


def sent_message(network, donors, finished_days_ago):
    message = Message.objects.create(
        network=network,
        subject="Notizie",
        body=[],
        status=Message.Status.SENT,
        finished_at=NOW - timedelta(days=finished_days_ago),
        recipients=len(donors),
    )
    sent_at = NOW - timedelta(days=finished_days_ago + 1)
    deliveries = [
        Delivery.objects.create(
            message=message,
            donor=d,
            to=d.email,
            token=uuid.uuid4().hex,
            status=Delivery.Status.DELIVERED,
            sent_at=sent_at,
            delivered_at=sent_at,
            opened_at=sent_at if i % 2 == 0 else None,
            clicked_at=sent_at if i == 0 else None,
        )
        for i, d in enumerate(donors)
    ]
    return message, deliveries


def test_old_deliveries_go_and_the_messages_figures_stay(db, settings, network):
    settings.OUTREACH_DELIVERIES_RETENTION_DAYS = 180
    donors = [
        Donor.objects.create(network=network, first_name=f"D{i}", email=f"d{i}@example.org")
        for i in range(3)
    ]
    old, old_deliveries = sent_message(network, donors, 181)
    recent, recent_deliveries = sent_message(network, donors, 179)
    # a gift made through the old message's button, within its attribution window
    gift = Donation.objects.create(
        network=network,
        donor=donors[0],
        amount_cents=4000,
        received_on=datetime.date(2026, 11, 1),
        status=Donation.Status.SUCCEEDED,
        message_token=old_deliveries[0].attribution,
    )
    aged(Donation.objects.filter(pk=gift.pk), 181)
    before = message_results(old)
    assert before["opened"] == 2 and before["clicked"] == 1 and before["gifts"] == 1
    assert before["gifts_cents"] == 4000 and before["delivered"] == 3
    # when the rule runs
    assert pruning.prune_outreach_deliveries(NOW) == 3
    # then the old message's per-donor deliveries are gone, its figures are not
    old.refresh_from_db()
    assert not Delivery.objects.filter(message=old).exists()
    assert message_results(old) == before
    # and the recent message keeps its deliveries; the gift itself is untouched
    assert Delivery.objects.filter(message=recent).count() == 3
    assert Donation.objects.get(pk=gift.pk).amount_cents == 4000
    # and a second run finds nothing more to do
    assert pruning.prune_outreach_deliveries(NOW) == 0


def test_an_unsubscribe_link_older_than_the_pruning_still_works(client, db, settings, network):
    """A donor may object to direct marketing at any time (art. 21(2)-(3) GDPR): the
    unsubscribe link of any email ever sent keeps working after its delivery is pruned."""
    # given a donor who gets the news, and a message sent to them 400 days ago, pruned
    settings.OUTREACH_DELIVERIES_RETENTION_DAYS = 365
    donor = Donor.objects.create(
        network=network, first_name="Gina", email="gina@example.org", newsletter=True
    )
    message, (delivery,) = sent_message(network, [donor], 400)
    assert pruning.prune_outreach_deliveries(NOW) == 1
    assert not Delivery.objects.filter(message=message).exists()
    # when they follow the old email's unsubscribe link, the page asks
    url = reverse("outreach_public:unsubscribe", args=[delivery.token])
    page = client.get(url)
    assert page.status_code == 200
    assert "gina@example.org" not in page.content.decode()  # what is kept holds no address
    donor.refresh_from_db()
    assert donor.newsletter is True
    # and their mail app's one-click button (RFC 8058) unsubscribes them
    assert client.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200
    donor.refresh_from_db()
    assert donor.newsletter is False
    # and the old email's preferences link opens, but cannot start the news again
    preferences = reverse("outreach_public:preferences", args=[delivery.token])
    assert client.get(preferences).status_code == 200
    assert client.post(preferences, {"newsletter": "on", "language": "it"}).status_code == 400
    donor.refresh_from_db()
    assert donor.newsletter is False


def test_deliveries_inside_the_attribution_window_stay_whatever_the_setting(db, settings, network):
    settings.OUTREACH_DELIVERIES_RETENTION_DAYS = 1
    donor = Donor.objects.create(network=network, first_name="E", email="e@example.org")
    message, _ = sent_message(network, [donor], 20)
    assert pruning.prune_outreach_deliveries(NOW) == 0
    assert Delivery.objects.filter(message=message).count() == 1


def test_a_message_still_sending_keeps_its_deliveries(db, settings, network):
    settings.OUTREACH_DELIVERIES_RETENTION_DAYS = 60
    donor = Donor.objects.create(network=network, first_name="F", email="f@example.org")
    message, _ = sent_message(network, [donor], 400)
    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENDING)
    assert pruning.prune_outreach_deliveries(NOW) == 0


# --- The job and the command --------------------------------------------------------------------


def test_the_daily_job_is_scheduled_and_runs_every_rule(db, settings, network, donor):
    # the scheduler's list names a real django.tasks task, daily
    assert ("ops.tasks.prune_old_records", 86400) in settings.PERIODIC_JOBS
    assert import_string("ops.tasks.prune_old_records") is prune_old_records
    # given an old link email, then the job run (the tests' immediate backend)
    email = DonorEmail.objects.create(
        kind=Kind.DONOR_PORTAL, status=Status.SENT, donor=donor, to=donor.email
    )
    aged(
        DonorEmail.objects.filter(pk=email.pk),
        settings.DONOR_LINK_EMAILS_RETENTION_DAYS + 1,
        now=timezone.now(),
    )
    result = prune_old_records.enqueue()
    assert result.return_value["link_emails"] == 1
    assert set(result.return_value) == set(pruning.RULES)
    assert not DonorEmail.objects.filter(pk=email.pk).exists()


def test_manage_py_prune_runs_it_once(db, donor):
    email = DonorEmail.objects.create(
        kind=Kind.DONOR_PORTAL,
        status=Status.DELIVERED,
        donor=donor,
        to=donor.email,
    )
    aged(
        DonorEmail.objects.filter(pk=email.pk),
        settings.DONOR_LINK_EMAILS_RETENTION_DAYS + 1,
        now=timezone.now(),
    )
    out = io.StringIO()
    call_command("prune", stdout=out)
    assert "link_emails: 1" in out.getvalue()
    assert not DonorEmail.objects.filter(pk=email.pk).exists()


# --- Checkout attempts ----------------------------------------------------------------------------


def test_checkout_attempts_never_paid_go_after_their_time_gifts_and_failures_stay(
    db, settings, network, donor
):
    def donation(status, **fields):
        return Donation.objects.create(
            network=network, amount_cents=2500, status=status, donor_details={}, **fields
        )

    S = Donation.Status
    abandoned = donation(S.PENDING, stripe_checkout_session_id="cs_1")
    cancelled = donation(S.CANCELLED, stripe_checkout_session_id="cs_2")
    recent = donation(S.PENDING, stripe_checkout_session_id="cs_3")
    sepa_on_its_way = donation(S.PENDING, stripe_payment_intent_id="pi_4")
    refused_card = donation(S.FAILED, stripe_payment_intent_id="pi_5")
    gift = donation(S.SUCCEEDED, donor=donor, stripe_payment_intent_id="pi_6")
    days = settings.CHECKOUT_ATTEMPTS_RETENTION_DAYS
    aged(Donation.objects.exclude(pk=recent.pk), days + 1)
    aged(Donation.objects.filter(pk=recent.pk), days - 1)
    assert pruning.prune_checkout_attempts(NOW) == 2
    kept = set(Donation.objects.values_list("pk", flat=True))
    assert kept == {recent.pk, sepa_on_its_way.pk, refused_card.pk, gift.pk}
    assert abandoned.pk not in kept and cancelled.pk not in kept


def test_checkout_attempts_stay_a_week_whatever_the_setting(db, settings, network):
    settings.CHECKOUT_ATTEMPTS_RETENTION_DAYS = 1
    attempt = Donation.objects.create(
        network=network, amount_cents=2500, status=Donation.Status.PENDING, donor_details={}
    )
    aged(Donation.objects.filter(pk=attempt.pk), 6)
    assert pruning.prune_checkout_attempts(NOW) == 0
    aged(Donation.objects.filter(pk=attempt.pk), 8)
    assert pruning.prune_checkout_attempts(NOW) == 1
