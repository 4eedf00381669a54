"""Reminders before each deadline, sent once however often the job runs; the calendar feed
behind a secret, revocable address."""

import datetime

import pytest
from django.core import mail

from relations import reminders, verbs
from relations.models import Call, Reminder, Report, Task
from relations.reminders import send_due_reminders

TODAY = datetime.date.today()


@pytest.fixture
def report(rel, users):
    call = rel["a"]["call"]
    Call.objects.filter(pk=call.pk).update(status=Call.Status.AWARDED)
    return Report.objects.create(
        network=call.network,
        title="Rendiconto intermedio",
        call=call,
        due_on=TODAY + datetime.timedelta(days=5),
        owner=users["comunicazione-oltre-il-ponte"],
    )


def test_a_reminder_goes_once_to_the_owner_before_a_report(report, settings):
    settings.RELATIONS_REMINDER_DAYS = (7, 1)
    assert send_due_reminders(TODAY) == 1
    assert send_due_reminders(TODAY) == 0  # run again (or on a second machine): nothing more
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [report.owner.email]
    assert "Rendiconto intermedio" in message.subject and "5" in message.subject
    # the call awarded: its own deadline is no longer reminded
    assert Reminder.objects.get().key == f"report:{report.pk}:{report.due_on}:7"
    # four days later, the last step
    assert send_due_reminders(report.due_on - datetime.timedelta(days=1)) == 1
    assert send_due_reminders(report.due_on - datetime.timedelta(days=1)) == 0
    assert len(mail.outbox) == 2


def test_nothing_is_reminded_too_early_or_once_submitted(report, settings):
    settings.RELATIONS_REMINDER_DAYS = (3,)
    assert send_due_reminders(TODAY) == 0
    Report.objects.filter(pk=report.pk).update(submitted_on=TODAY)
    assert send_due_reminders(report.due_on) == 0
    assert mail.outbox == []


def test_a_stale_claim_is_taken_over_and_a_fresh_one_is_not(report, settings):
    settings.RELATIONS_REMINDER_DAYS = (7,)
    deadline = next(d for d in reminders.deadlines(TODAY, 7) if d.kind == "report")
    key = reminders.reminder_key(deadline, 7)
    claimed = Reminder.objects.create(
        key=key, to="x@example.org", claimed_at=datetime.datetime.now(datetime.UTC)
    )
    assert send_due_reminders(TODAY) == 0  # another run is sending it
    Reminder.objects.filter(pk=claimed.pk).update(
        claimed_at=claimed.claimed_at - datetime.timedelta(hours=1)
    )
    assert send_due_reminders(TODAY) == 1  # that run died: sent now
    assert Reminder.objects.get().sent_at is not None


def test_the_owner_reads_the_reminder_in_their_language(report, settings):
    from wagtail.users.models import UserProfile

    settings.RELATIONS_REMINDER_DAYS = (7,)
    profile = UserProfile.get_for_user(report.owner)
    profile.preferred_language = "it"
    profile.save()
    send_due_reminders(TODAY)
    assert mail.outbox[0].subject.startswith("Rendicontazione dovuta tra 5 giorni")


def test_the_calendar_feed_is_secret_scoped_and_revocable(client, rel, report, users):
    owner = users["comunicazione-oltre-il-ponte"]
    Task.objects.create(network=report.network, title="Chiamare Ada", due_on=TODAY, owner=owner)
    token = verbs.new_calendar_token(owner)
    response = client.get(f"/relations/calendar/{token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "Rendiconto intermedio" in body and "Chiamare Ada" in body
    assert f"DTSTART;VALUE=DATE:{report.due_on:%Y%m%d}" in body
    assert "Bortolo" not in body  # the other network's call
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    # a new address revokes the old one; revoking leaves none
    new = verbs.new_calendar_token(owner)
    assert client.get(f"/relations/calendar/{token}.ics").status_code == 404
    assert client.get(f"/relations/calendar/{new}.ics").status_code == 200
    verbs.revoke_calendar(owner)
    assert client.get(f"/relations/calendar/{new}.ics").status_code == 404
    assert client.get("/relations/calendar/guess.ics").status_code == 404


def test_long_lines_fold_without_splitting_a_character():
    from relations.ical import escape, fold

    line = "SUMMARY:" + escape("Scadenza, bando; «Città» " * 10)
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
