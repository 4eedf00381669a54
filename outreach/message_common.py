"""What the message views share: who reaches a message, its history's actions, its labels."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.permissions import policy_registry

from crm import display

from .models import Message

LANGUAGES = {"it": _("Italian"), "en": _("English")}
# The message's history (registered in outreach.wagtail_hooks).
LOG_TEST, LOG_SEND = "outreach.message.test", "outreach.message.send"
LOG_SCHEDULE, LOG_UNSCHEDULE = "outreach.message.schedule", "outreach.message.unschedule"


def number(value):
    """`1.234` in Italian, `1,234` in English."""
    return number_format(value, 0, use_l10n=True, force_grouping=True)


def audience_label(message):
    if message.segment_id:
        return message.segment.name
    if message.campaign_id:
        return gettext("Donors of “%(campaign)s”") % {"campaign": message.campaign.title}
    return display.EMPTY


def sent_label(message):
    """When it went (or goes) out, Italian time."""
    if message.status == Message.Status.SCHEDULED:
        return gettext("Scheduled for %(when)s") % {
            "when": display.format_datetime(message.send_at)
        }
    return display.format_datetime(message.finished_at or message.started_at)


def user_message(request, pk, action="change"):
    """The user's message `pk` (404 if another network's), if they may `action` it (403)."""
    message = get_object_or_404(
        Message.objects.for_user(request.user).select_related("network", "segment", "campaign"),
        pk=pk,
    )
    if not policy_registry.get_by_type(Message).user_has_permission_for_instance(
        request.user, action, message
    ):
        raise PermissionDenied
    return message


def back_to_inspect(message):
    return redirect("outreach_message:inspect", message.pk)
