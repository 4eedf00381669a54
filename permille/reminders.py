"""Reminders to a network's treasurers before each 5 per mille deadline (`permille.rules`):
the rendiconto (one year after the money was received), and above the threshold the sending to
the Ministry and the publication. `PERMILLE_REMINDER_DAYS` days before, each step once.

Exactly once: a reminder's key (grant, deadline, its date, the step, the treasurer) is a unique
row claimed in its own transaction before sending; the email leaves after the claim is
committed, never inside a transaction; a claim whose sender died is taken over once stale
(`CLAIM_STALE_AFTER`). A deadline marked done (the date it was done) is not reminded."""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from wagtail.users.models import UserProfile

from crm.display import format_date
from crm.money import fiscal_today

from . import rules
from .models import PerMilleGrant, PerMilleReminder

logger = logging.getLogger(__name__)


def _open_deadlines(grant):
    """(kind, date) of the grant's deadlines not yet marked done."""
    due = rules.deadlines(grant.received_on, grant.amount_cents)
    found = []
    if grant.report_done_on is None:
        found.append(("report", due.report_by))
    if due.send_by and grant.sent_on is None:
        found.append(("send", due.send_by))
    if due.publish_by and grant.published_on is None:
        found.append(("publish", due.publish_by))
    return found


def _labels():
    return {
        "report": _("The rendiconto and its explanatory report are due"),
        "send": _("The rendiconto must reach the Ministry"),
        "publish": _("The rendiconto must be published on the website"),
    }


def treasurers_of(network):
    if network.treasurers_group_id is None:
        return get_user_model().objects.none()
    users = get_user_model().objects.filter(groups=network.treasurers_group_id, is_active=True)
    return users.exclude(email="").order_by("pk")


def _claim(key: str, to: str) -> bool:
    now = timezone.now()
    try:
        with transaction.atomic():
            PerMilleReminder.objects.create(key=key, to=to, claimed_at=now)
        return True
    except IntegrityError:
        stale = now - datetime.timedelta(seconds=settings.CLAIM_STALE_AFTER)
        claims = PerMilleReminder.objects.filter(key=key, sent_at=None, claimed_at__lt=stale)
        return bool(claims.update(claimed_at=now))


def _language(user) -> str:
    language = UserProfile.get_for_user(user).get_preferred_language() or settings.LANGUAGE_CODE
    return "en" if language.startswith("en") else "it"


def _message(grant, kind, due, days_left, user) -> EmailMessage:
    with translation.override(_language(user)):
        what = _labels()[kind]
        context = {
            "grant": grant,
            "what": what,
            "due": format_date(due),
            "days_left": days_left,
            "url": settings.SITE_URL + reverse("permille_grant", args=[grant.pk]),
        }
        subject = _("5 per mille %(year)s: %(what)s on %(due)s") % {
            "year": grant.reference_year,
            "what": what,
            "due": format_date(due),
        }
        body = render_to_string("permille/emails/reminder.txt", context)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def send_due_reminders(today: datetime.date | None = None) -> int:
    """Send the reminders due today; returns how many this run sent."""
    today = today or fiscal_today()
    steps = sorted(settings.PERMILLE_REMINDER_DAYS)
    if not steps:
        return 0
    sent = 0
    grants = PerMilleGrant.objects.select_related("network", "network__treasurers_group")
    for grant in grants.filter(received_on__gte=today - datetime.timedelta(days=2 * 366)):
        for kind, due in _open_deadlines(grant):
            days_left = (due - today).days
            if not 0 <= days_left <= steps[-1]:
                continue
            step = min(n for n in steps if n >= days_left)
            for user in treasurers_of(grant.network):
                key = f"permille:{grant.pk}:{kind}:{due.isoformat()}:{step}:{user.pk}"
                if not _claim(key, user.email):
                    continue
                try:
                    _message(grant, kind, due, days_left, user).send()
                except Exception:  # noqa: BLE001 - the claim goes stale and another run retries
                    logger.exception("5 per mille reminder %s could not be sent", key)
                    continue
                PerMilleReminder.objects.filter(key=key).update(sent_at=timezone.now())
                sent += 1
    return sent
