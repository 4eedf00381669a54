"""Sending a message: a test to oneself, the send question, a schedule and its cancelling,
and a campaign's update turned into a message in one step."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.log_actions import log
from wagtail.permissions import policy_registry

from crm import display
from crm.models import Donation, Donor

from .access import networks_for
from .campaign_updates import NoUpdate, draft_from_campaign_update
from .forms import CampaignUpdateForm, ScheduleForm
from .message_common import (
    LANGUAGES,
    LOG_SCHEDULE,
    LOG_SEND,
    LOG_TEST,
    LOG_UNSCHEDULE,
    back_to_inspect,
    number,
    user_message,
)
from .models import Message
from .segments import members
from .sending import SendingError, cancel_schedule, recipients_for, send_test, start_sending


@require_POST
def test(request, pk):
    """Send the message to the logged-in user's own address, with sample values."""
    message = user_message(request, pk)
    language = request.GET.get("language", "it")
    if language not in LANGUAGES:
        raise Http404
    if not request.user.email:
        messages.error(request, _("Your account has no email address to send the test to."))
        return back_to_inspect(message)
    send_test(message, request.user.email, language=language)
    log(message, LOG_TEST, user=request.user, data={"to": request.user.email})
    messages.success(request, _("Test sent to %(email)s.") % {"email": request.user.email})
    return back_to_inspect(message)


def audience(message):
    """Who the message is for, and how many of them will receive it: everyone in the segment
    (or the campaign's donors) against those who confirmed the newsletter and can be reached."""
    if message.segment_id:
        everyone = members(message.segment).count()
    elif message.campaign_id:
        everyone = (
            Donor.objects.filter(
                network=message.network,
                merged_into__isnull=True,
                anonymised_at__isnull=True,
                donations__campaign_id=message.campaign_id,
                donations__status__in=Donation.COUNTED_STATUSES,
            )
            .distinct()
            .count()
        )
    else:
        return None
    recipients = recipients_for(message).count()
    if message.segment_id:
        # "of …" so that languages can bind the preposition ("di «…»", "della campagna «…»")
        label = gettext("of “%(segment)s”") % {"segment": message.segment.name}
    else:
        label = gettext("of the campaign “%(campaign)s”") % {"campaign": message.campaign.title}
    return {
        "label": label,
        "recipients": recipients,
        "recipients_text": number(recipients),
        "left_out": max(everyone - recipients, 0),
        "left_out_text": number(max(everyone - recipients, 0)),
    }


def _not_sendable(message):
    """Why the message cannot be sent (None if it can)."""
    if not message.editable:
        return _("This message has already been sent; it cannot be sent again.")
    return None


def _already_sent(message):
    """When the same subject already went to the same audience (a campaign update sent twice)."""
    earlier = (
        Message.objects.filter(
            network=message.network,
            subject=message.subject,
            segment=message.segment,
            campaign=message.campaign,
            status__in=(Message.Status.SENDING, Message.Status.SENT),
        )
        .exclude(pk=message.pk)
        .order_by("-started_at")
        .first()
    )
    return display.format_datetime(earlier.started_at) if earlier else None


def _sendable_message(request, pk):
    """The message to send or schedule, and the way back to its page if it cannot be."""
    message = user_message(request, pk)
    refusal = _not_sendable(message)
    if refusal:
        messages.error(request, refusal)
        return message, back_to_inspect(message)
    return message, None


def send(request, pk):
    """The question ("Send … to 1.234 donors of …?"), then the sending, once."""
    message, refused = _sendable_message(request, pk)
    if refused:
        return refused
    who, refusal = audience(message), None
    status = 200
    if request.method == "POST":
        if who is None or who["recipients"] == 0:
            status = 400
        else:
            try:
                # Two clicks (or two tabs) on "Send": `start_sending` locks the message and
                # the second finds it no longer a draft.
                count = start_sending(message, request.user)
            except SendingError as error:
                refusal, status = " ".join(error.messages), 400
            else:
                log(message, LOG_SEND, user=request.user, data={"recipients": count})
                messages.success(
                    request,
                    ngettext(
                        "Sending to %(count)s donor has started.",
                        "Sending to %(count)s donors has started.",
                        count,
                    )
                    % {"count": number(count)},
                )
                return back_to_inspect(message)
    context = {
        "title": message.subject,
        "message": message,
        "audience": who,
        "error": refusal,
        "already_sent": _already_sent(message),
    }
    return TemplateResponse(request, "outreach/message_send.html", context, status=status)


def schedule(request, pk):
    """Send later: a day and a time (local), in the future."""
    message, refused = _sendable_message(request, pk)
    if refused:
        return refused
    who, refusal = audience(message), None
    initial = {}
    if message.send_at:
        local = timezone.localtime(message.send_at)
        initial = {"date": local.date(), "time": local.time().replace(second=0, microsecond=0)}
    form = ScheduleForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if who is None or who["recipients"] == 0 or not form.is_valid():
            status = 400
        else:
            send_at = form.cleaned_data["send_at"]
            try:
                start_sending(message, request.user, send_at=send_at)
            except SendingError as error:
                refusal, status = " ".join(error.messages), 400
            else:
                log(message, LOG_SCHEDULE, user=request.user, data={"send_at": send_at.isoformat()})
                messages.success(
                    request,
                    _("Scheduled: it will be sent on %(when)s.")
                    % {"when": display.format_datetime(send_at)},
                )
                return back_to_inspect(message)
    context = {
        "title": message.subject,
        "message": message,
        "audience": who,
        "form": form,
        "error": refusal,
    }
    return TemplateResponse(request, "outreach/message_schedule.html", context, status=status)


@require_POST
def cancel(request, pk):
    message = user_message(request, pk)
    if message.status != Message.Status.SCHEDULED:
        messages.error(request, _("This message is not scheduled."))
        return back_to_inspect(message)
    if cancel_schedule(message):
        log(message, LOG_UNSCHEDULE, user=request.user)
    messages.success(request, _("Schedule cancelled: the message is a draft again."))
    return back_to_inspect(message)


# --- A campaign's update, in one step -----------------------------------------------------------


def campaign_update(request):
    """Choose a campaign: its latest update becomes a draft for the campaign's consenting
    donors, and the send question follows."""
    policy = policy_registry.get_by_type(Message)
    if not policy.user_has_permission(request.user, "add"):
        raise PermissionDenied
    form = CampaignUpdateForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            page = form.cleaned_data["campaign"]
            network = getattr(page.specific, "network", None)
            if network is None or not networks_for(request.user).filter(pk=network.pk).exists():
                raise Http404
            try:
                message = draft_from_campaign_update(page, network=network, user=request.user)
            except NoUpdate:
                form.add_error(
                    "campaign", _("This campaign has no update yet: write one on its page first.")
                )
            else:
                return redirect("outreach_message:send", message.pk)
        status = 400
    context = {"title": _("Send a campaign update"), "form": form}
    return TemplateResponse(
        request, "outreach/message_campaign_update.html", context, status=status
    )
