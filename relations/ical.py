"""The iCalendar feed (RFC 5545, written by hand) of a user's networks: call deadlines,
reports owed, instalments due and the user's own tasks, as all-day events. Reached through a
secret, revocable address (`relations.verbs.new_calendar_token`), no login: calendar apps
cannot log in."""

import datetime

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm.money import format_amount

from .access import networks_for
from .models import Call, Instalment, Report, Task
from .verbs import user_of_token


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11)."""
    text = str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """A content line folded at 75 octets (§3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def events(user):
    """(uid, day, summary) of what the user's calendar shows."""
    networks = networks_for(user)
    rows = []
    for call in Call.objects.filter(network__in=networks, status__in=Call.PENDING):
        rows.append((f"call-{call.pk}", call.deadline, _("Call deadline: %s") % call.title))
    for report in Report.objects.filter(network__in=networks, submitted_on=None):
        rows.append((f"report-{report.pk}", report.due_on, _("Report due: %s") % report.title))
    instalments = Instalment.objects.filter(network__in=networks, donation=None)
    for instalment in instalments.select_related("pledge__opportunity"):
        summary = _("Instalment due: %(ask)s, %(amount)s") % {
            "ask": instalment.pledge.opportunity.title,
            "amount": format_amount(instalment.amount_cents),
        }
        rows.append((f"instalment-{instalment.pk}", instalment.due_on, summary))
    for task in Task.objects.filter(network__in=networks, owner=user, done=False):
        rows.append((f"task-{task.pk}", task.due_on, _("Task: %s") % task.title))
    return rows


def calendar(user, host: str = "trama") -> str:
    stamp = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Trama//Relationship fundraising//IT",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{escape(_('Trama deadlines'))}",
    ]
    for uid, day, summary in events(user):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + datetime.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape(summary)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


@require_GET
def feed(request, token):
    user = user_of_token(token)
    if user is None:
        raise Http404
    response = HttpResponse(
        calendar(user, request.get_host().split(":")[0]),
        content_type="text/calendar; charset=utf-8",
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="trama.ics"'
    return response
