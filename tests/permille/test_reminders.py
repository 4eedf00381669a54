"""Reminders to the network's treasurers before each 5 per mille deadline: sent once however
often (or wherever) the periodic job runs; never to another network; none once marked done."""

import datetime

import pytest
from django.core import mail

from permille.models import PerMilleGrant, PerMilleReminder
from permille.reminders import send_due_reminders, treasurers_of

pytestmark = pytest.mark.django_db


def test_the_rendiconto_reminder_goes_once_to_each_treasurer_of_the_network(grants, settings, demo):
    settings.PERMILLE_REMINDER_DAYS = (30, 7)
    grant = grants["a"]  # received 15/10/2025: the rendiconto is due on 15/10/2026
    treasurers = list(treasurers_of(demo["oltre-il-ponte"]))
    assert treasurers
    # Given the day 20 days before the deadline
    day = datetime.date(2026, 9, 25)
    # When the job runs twice (or on two machines)
    first = send_due_reminders(day)
    second = send_due_reminders(day)
    # Then each treasurer of A got one email, and nobody of B
    assert first == len(treasurers) and second == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in treasurers)
    message = mail.outbox[0]
    assert "2023" in message.subject and "15/10/2026" in message.subject
    assert f"/admin/crm/permille/{grant.pk}/" in message.body
    b_people = {u.email for u in treasurers_of(demo["valle-serena"])}
    assert not b_people & {m.to[0] for m in mail.outbox}
    # And the next step (7 days before) is one more email each, once (B's own rendiconto,
    # due on 03/11/2026, reaches its 30-day step that day: B's treasurers, B's year)
    mail.outbox.clear()
    send_due_reminders(datetime.date(2026, 10, 10))
    assert send_due_reminders(datetime.date(2026, 10, 10)) == 0
    to_a = [m for m in mail.outbox if m.to[0] not in b_people]
    assert sorted(m.to[0] for m in to_a) == sorted(u.email for u in treasurers)
    assert all("15/10/2026" in m.subject for m in to_a)
    assert all("03/11/2026" in m.subject for m in mail.outbox if m.to[0] in b_people)


def test_above_the_threshold_sending_and_publication_are_reminded_too(grants, settings):
    settings.PERMILLE_REMINDER_DAYS = (7,)
    # A's 23.456,78 euro: sent by 14/11/2026, published by 14/12/2026
    assert send_due_reminders(datetime.date(2026, 11, 10)) >= 1
    keys = set(PerMilleReminder.objects.values_list("key", flat=True))
    assert any(":send:2026-11-14:" in key for key in keys)
    mail.outbox.clear()
    # B's 8.123,40 euro owes no sending: nothing of B is reminded on its would-be date
    b = grants["b"]  # received 03/11/2025
    assert send_due_reminders(datetime.date(2026, 11, 30)) == 0
    assert not PerMilleReminder.objects.filter(key__startswith=f"permille:{b.pk}:send").exists()


def test_a_deadline_marked_done_is_not_reminded(grants, settings):
    settings.PERMILLE_REMINDER_DAYS = (30,)
    PerMilleGrant.objects.filter(pk=grants["a"].pk).update(report_done_on=datetime.date(2026, 9, 1))
    assert send_due_reminders(datetime.date(2026, 9, 25)) == 0
    assert mail.outbox == []


def test_a_stale_claim_is_taken_over_a_fresh_one_is_not(grants, settings, demo):
    settings.PERMILLE_REMINDER_DAYS = (30,)
    grant = grants["a"]
    user = treasurers_of(demo["oltre-il-ponte"]).first()
    key = f"permille:{grant.pk}:report:2026-10-15:30:{user.pk}"
    now = datetime.datetime.now(datetime.UTC)
    claim = PerMilleReminder.objects.create(key=key, to=user.email, claimed_at=now)
    day = datetime.date(2026, 9, 25)
    send_due_reminders(day)
    assert user.email not in [m.to[0] for m in mail.outbox]  # another run is sending it
    PerMilleReminder.objects.filter(pk=claim.pk).update(
        claimed_at=now - datetime.timedelta(seconds=settings.CLAIM_STALE_AFTER + 1)
    )
    send_due_reminders(day)
    assert [m.to[0] for m in mail.outbox].count(user.email) == 1
    assert PerMilleReminder.objects.get(pk=claim.pk).sent_at is not None
