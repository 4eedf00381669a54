"""The yearly reminder: before the deadline for filing the annual accounts with the RUNTS
(art. 48 c. 3 D.Lgs. 117/2017; the reports of the year's public fundraisings go inside those
accounts, art. 87 c. 6), the network's treasurers get one email per report of the year, in
the language of their admin.

Exactly once per report and filing year: the reminder's row (`FilingReminder`, unique on report
and year) is claimed before sending, so the periodic job may run twice or on two machines; the
email goes out after the claim is committed, never inside a transaction; a claim whose sender
died is taken over once stale (`CLAIM_STALE_AFTER`)."""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from wagtail.users.models import UserProfile

from crm.display import format_date
from crm.money import fiscal_today

from .models import FilingReminder, FundraisingReport

logger = logging.getLogger(__name__)


def filing_deadline(year: int) -> datetime.date:
    """The day the accounts of fiscal year `year` are due with the RUNTS: the configured days
    after the year's end (`FUNDRAISING_FILING_DAYS_AFTER_YEAR_END`, README)."""
    days = int(settings.FUNDRAISING_FILING_DAYS_AFTER_YEAR_END)
    return datetime.date(year, 12, 31) + datetime.timedelta(days=days)


def due_reports(today: datetime.date):
    """The reports whose year's accounts are due within `FUNDRAISING_REMINDER_DAYS` of today:
    those of last year (a report belongs to the year its period ends in)."""
    year = today.year - 1
    deadline = filing_deadline(year)
    lead = datetime.timedelta(days=int(settings.FUNDRAISING_REMINDER_DAYS))
    if not deadline - lead <= today <= deadline:
        return FundraisingReport.objects.none(), deadline
    reports = FundraisingReport.objects.filter(ends_on__year=year).select_related("network")
    return reports.order_by("pk"), deadline


def _claim(report: FundraisingReport, year: int) -> bool:
    now = timezone.now()
    try:
        with transaction.atomic():
            FilingReminder.objects.create(report=report, year=year, claimed_at=now)
        return True
    except IntegrityError:
        stale = now - datetime.timedelta(seconds=settings.CLAIM_STALE_AFTER)
        return bool(
            FilingReminder.objects.filter(
                report=report, year=year, sent_at=None, claimed_at__lt=stale
            ).update(claimed_at=now)
        )


def _language(user) -> str:
    language = UserProfile.get_for_user(user).get_preferred_language() or settings.LANGUAGE_CODE
    return "en" if language.startswith("en") else "it"


def treasurers_of(network) -> dict[str, list[str]]:
    """The network's treasurers' addresses by the language of their admin (it, en)."""
    users = (
        get_user_model()
        .objects.filter(groups=network.treasurers_group_id, is_active=True)
        .exclude(email="")
    )
    by_language: dict[str, list[str]] = {}
    for user in users.order_by("email"):
        addresses = by_language.setdefault(_language(user), [])
        if user.email not in addresses:
            addresses.append(user.email)
    return by_language


def _message(
    report: FundraisingReport, deadline: datetime.date, to: list[str], language: str
) -> EmailMessage:
    with translation.override(language):
        context = {"report": report, "deadline": format_date(deadline)}
        subject = _("Public fundraising report to file by %(date)s: %(title)s") % {
            "date": format_date(deadline),
            "title": report.title,
        }
        body = render_to_string("fundraising/emails/filing_reminder.txt", context)
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to)


def send_filing_reminders(today: datetime.date | None = None) -> int:
    """Send the reminders due today; returns how many this run sent."""
    today = today or fiscal_today()
    reports, deadline = due_reports(today)
    sent = 0
    for report in reports:
        recipients = treasurers_of(report.network)
        if not recipients or not _claim(report, deadline.year):
            continue
        try:  # one email per language; a failure leaves the claim to go stale and be retried
            for language, to in sorted(recipients.items()):
                _message(report, deadline, to, language).send()
        except Exception:  # noqa: BLE001 - the claim goes stale and another run retries
            logger.exception("filing reminder of report %s could not be sent", report.pk)
            continue
        FilingReminder.objects.filter(report=report, year=deadline.year).update(
            sent_at=timezone.now()
        )
        sent += 1
    return sent
