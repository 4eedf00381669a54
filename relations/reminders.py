"""Reminders by email to the owner of each deadline (a call's, a report's, a task's), N days
before it (`RELATIONS_REMINDER_DAYS`). Exactly once: a reminder's key (what, which row, which
day, how many days before) is a unique row claimed before sending, so the periodic job may run
twice or on two machines; the email is sent after the claim is committed, never inside a
transaction; a claim whose sender died is taken over once stale (`CLAIM_STALE_AFTER`)."""

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from wagtail.users.models import UserProfile

from crm.display import format_date
from crm.money import fiscal_today

from .models import Call, Reminder, Report, Task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadline:
    kind: str  # "call", "report", "task"
    pk: int
    title: str
    due_on: datetime.date
    owner: Any
    network: Any


def deadlines(today: datetime.date, horizon: int):
    """Every deadline with an owner from today to `horizon` days ahead."""
    end = today + datetime.timedelta(days=horizon)
    found = []
    calls = Call.objects.filter(status__in=Call.PENDING, deadline__range=(today, end))
    for call in calls.exclude(owner=None).select_related("owner", "network"):
        found.append(Deadline("call", call.pk, call.title, call.deadline, call.owner, call.network))
    reports = Report.objects.filter(submitted_on=None, due_on__range=(today, end))
    for report in reports.exclude(owner=None).select_related("owner", "network"):
        found.append(
            Deadline("report", report.pk, report.title, report.due_on, report.owner, report.network)
        )
    tasks = Task.objects.filter(done=False, due_on__range=(today, end))
    for task in tasks.select_related("owner", "network"):
        found.append(Deadline("task", task.pk, task.title, task.due_on, task.owner, task.network))
    return found


def reminder_key(deadline: Deadline, days: int) -> str:
    return f"{deadline.kind}:{deadline.pk}:{deadline.due_on.isoformat()}:{days}"


def _claim(key: str, to: str) -> bool:
    """True if this run may send the reminder `key`: it claimed it now, or took over a claim
    whose sender died before sending."""
    now = timezone.now()
    try:
        with transaction.atomic():
            Reminder.objects.create(key=key, to=to, claimed_at=now)
        return True
    except IntegrityError:
        stale = now - datetime.timedelta(seconds=settings.CLAIM_STALE_AFTER)
        return bool(
            Reminder.objects.filter(key=key, sent_at=None, claimed_at__lt=stale).update(
                claimed_at=now
            )
        )


def _language(user) -> str:
    language = UserProfile.get_for_user(user).get_preferred_language() or settings.LANGUAGE_CODE
    return "en" if language.startswith("en") else "it"


def _message(deadline: Deadline, days_left: int) -> EmailMultiAlternatives:
    with translation.override(_language(deadline.owner)):
        what = {
            "call": _("Call deadline"),
            "report": _("Report due"),
            "task": _("Task due"),
        }[deadline.kind]
        context = {
            "deadline": deadline,
            "what": what,
            "days_left": days_left,
            "due": format_date(deadline.due_on),
        }
        subject = _("%(what)s in %(days)d days: %(title)s") % {
            "what": what,
            "days": days_left,
            "title": deadline.title,
        }
        text = render_to_string("relations/emails/reminder.txt", context)
    return EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[deadline.owner.email],
    )


def send_due_reminders(today: datetime.date | None = None) -> int:
    """Send the reminders due today (each deadline's nearest step of `RELATIONS_REMINDER_DAYS`
    it is within); returns how many this run sent."""
    today = today or fiscal_today()
    steps = sorted(settings.RELATIONS_REMINDER_DAYS)
    sent = 0
    for deadline in deadlines(today, max(steps)):
        if not deadline.owner.email:
            continue
        days_left = (deadline.due_on - today).days
        step = min(n for n in steps if n >= days_left)
        key = reminder_key(deadline, step)
        if not _claim(key, deadline.owner.email):
            continue
        try:
            _message(deadline, days_left).send(using="default")
        except Exception:  # noqa: BLE001 - the claim goes stale and another run retries
            logger.exception("reminder %s could not be sent", key)
            continue
        Reminder.objects.filter(key=key).update(sent_at=timezone.now())
        sent += 1
    return sent
