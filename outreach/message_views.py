"""Messages to donors in the admin: list, write (Italian, English tab), preview as the donor
sees it, send a test to oneself, send or schedule for a segment, results.

Who: every network's communicators and treasurers (model permissions given by `crm.tenancy`
through the hooks in `outreach.wagtail_hooks`), for the networks `networks_for` gives them.
Another network's message is a 404 (`ScopedModelViewSet` guards every URL with a `pk`).
Rendering and sending are `outreach.rendering` and `outreach.sending`; these views only ask."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.panels import FieldPanel, ObjectList, TabbedInterface
from wagtail.admin.ui.side_panels import PreviewSidePanel
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic.preview import PreviewOnCreate, PreviewOnEdit
from wagtail.admin.widgets import HeaderButton
from wagtail.log_actions import log
from wagtail.permissions import policy_registry
from wagtail.utils.decorators import xframe_options_sameorigin_override

from crm import display
from crm.admin.common import ActionsInspectView, ScopedIndexView, ScopedModelViewSet
from crm.models import Donation, Donor
from crm.money import format_amount

from .access import networks_for
from .campaign_updates import NoUpdate, draft_from_campaign_update
from .forms import CampaignUpdateForm, MessageForm, ScheduleForm
from .models import Message
from .rendering import render_message
from .results import message_results
from .segments import members
from .sending import SendingError, cancel_schedule, recipients_for, send_test, start_sending

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


def _message(request, pk, action="change"):
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


def _inspect(message):
    return redirect("outreach_message:inspect", message.pk)


# --- Preview: the email as the donor sees it --------------------------------------------------


def _preview_mode(mode):
    """(language, plain text?) of a preview mode such as `it` or `en-text`."""
    language, _sep, kind = (mode or "it").partition("-")
    if language not in LANGUAGES or kind not in ("", "text"):
        raise Http404
    return language, kind == "text"


def preview_response(message, mode):
    language, plain = _preview_mode(mode)
    rendered = render_message(message, language=language)
    if plain:
        html = render_to_string(
            "outreach/message_text_preview.html", {"rendered": rendered, "language": language}
        )
        return HttpResponse(html)
    return HttpResponse(rendered.html)


class MessagePreviewMixin:
    """Wagtail's preview views (form state, validation, the panel), answering with the email
    `outreach.rendering` makes, so the model holds data only and never renders itself."""

    @method_decorator(xframe_options_sameorigin_override)
    def get(self, request, *args, **kwargs):
        form = self.get_form(self._get_form_data(self._get_form_state()))
        if not self.validate_form(form):
            return self.error_response()
        form.save(commit=False)
        if self.object.network_id is None:
            return self.error_response()
        return preview_response(self.object, request.GET.get("mode"))


class MessagePreviewOnCreate(MessagePreviewMixin, PreviewOnCreate):
    pass


class MessagePreviewOnEdit(MessagePreviewMixin, PreviewOnEdit):
    def get_object(self):
        return get_object_or_404(Message.objects.for_user(self.request.user), pk=self.kwargs["pk"])


def plain_text(request, pk):
    """The plain-text part of the email, as a donor's mail app shows it without HTML."""
    message = _message(request, pk, "view")
    language = request.GET.get("language", "it")
    if language not in LANGUAGES:
        raise Http404
    rendered = render_message(message, language=language)
    context = {
        "title": _("Plain text: %(subject)s") % {"subject": message.subject},
        "message": message,
        "rendered": rendered,
        "language": language,
        "languages": [("it", "Italiano"), ("en", "English")],
    }
    return TemplateResponse(request, "outreach/message_plain_text.html", context)


# --- List, write, edit, delete -----------------------------------------------------------------


def _figure(message, name):
    """A figure of the index: counted from the deliveries, or frozen when they were pruned."""
    frozen = message.frozen_results
    return frozen[name] if frozen is not None else getattr(message, name)


class MessageIndexView(ScopedIndexView):
    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .select_related("network", "segment", "campaign")
            .annotate(
                opened=Count("deliveries", filter=Q(deliveries__opened_at__isnull=False)),
                clicked=Count("deliveries", filter=Q(deliveries__clicked_at__isnull=False)),
            )
        )

    @cached_property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(
                _("Send a campaign update"),
                url=reverse("outreach_message:campaign_update"),
                icon_name="date",
            ),
        ]


class PreviewPanelMixin:
    def get_side_panels(self):
        panels = super().get_side_panels()
        panels.append(
            PreviewSidePanel(self.form.instance, self.request, preview_url=self.preview_url())
        )
        return panels

    def get_success_url(self):
        return reverse("outreach_message:inspect", args=[self.object.pk])


class MessageCreateView(PreviewPanelMixin, generic.CreateView):
    def preview_url(self):
        return reverse("outreach_message:preview_on_add")

    def save_instance(self):
        self.form.instance.created_by = self.request.user
        return super().save_instance()


class MessageEditView(PreviewPanelMixin, generic.EditView):
    """Only a draft or a scheduled message can be changed: once sending starts, it is what the
    donors received."""

    def preview_url(self):
        return reverse("outreach_message:preview_on_edit", args=[self.object.pk])

    def dispatch(self, request, *args, **kwargs):
        message = get_object_or_404(Message, pk=self.object_pk)
        if not message.editable:
            messages.error(request, _("This message has been sent: it can no longer be changed."))
            return _inspect(message)
        return super().dispatch(request, *args, **kwargs)

    def save_instance(self):
        # The worker may have started sending since the form was opened (we are in a
        # transaction: the row stays locked until the save).
        current = Message.objects.select_for_update().get(pk=self.object.pk)
        if not current.editable:
            raise PermissionDenied
        self.form.instance.status = current.status
        self.form.instance.send_at = current.send_at
        return super().save_instance()


class MessageDeleteView(generic.DeleteView):
    """Drafts and cancelled messages can be deleted; a sent one stays, with its results."""

    def dispatch(self, request, *args, **kwargs):
        if self.object.status not in (Message.Status.DRAFT, Message.Status.CANCELLED):
            messages.error(request, _("Only a draft or a cancelled message can be deleted."))
            return _inspect(self.object)
        return super().dispatch(request, *args, **kwargs)


class MessageInspectView(ActionsInspectView):
    """The message's page: what it is, where it stands, and what can be done with it."""

    # The viewset passes its (empty) `inspect_view_fields` as `fields`: keep ours apart.
    FIELDS = [
        "network",
        "subject",
        "preheader",
        "status",
        "segment",
        "campaign",
        "send_at",
        "recipients",
        "created_by",
        "sent_by",
        "started_at",
        "finished_at",
    ]

    def get_fields(self):
        return self.FIELDS

    def get_actions(self):
        message, url = self.object, self._url
        actions = []
        if message.editable:
            actions += [
                (_("Edit"), url("edit"), "get"),
                (_("Send a test to me"), url("send_test"), "post"),
            ]
            if message.body_en:
                actions.append(
                    (_("Send a test to me in English"), url("send_test") + "?language=en", "post")
                )
            actions += [(_("Send…"), url("send"), "get"), (_("Schedule…"), url("schedule"), "get")]
        if message.status == Message.Status.SCHEDULED:
            actions.append((_("Cancel the schedule"), url("cancel_schedule"), "post"))
        if message.status in (Message.Status.SENDING, Message.Status.SENT):
            actions.append((_("Results"), url("results"), "get"))
        actions.append((_("Plain text"), url("text"), "get"))
        return actions

    def _url(self, name):
        return reverse(f"outreach_message:{name}", args=[self.object.pk])

    def get_send_at_display_value(self):
        return display.format_datetime(self.object.send_at)

    def get_segment_display_value(self):
        return audience_label(self.object)

    def get_field_label(self, field_name, field):
        if field_name == "segment":
            # A segment, or a campaign's donors (`audience_label`).
            return _("Who receives it")
        return super().get_field_label(field_name, field)

    def get_sent_by_display_value(self):
        # Kept by a cancelled schedule; a draft has not been sent by anyone.
        if self.object.status in (Message.Status.DRAFT, Message.Status.CANCELLED):
            return display.EMPTY
        return display.field_value(self.object, "sent_by")

    def get_recipients_display_value(self):
        # Counted when sending starts: before that (scheduled too) there is no number yet.
        if not self.object.recipients:
            return display.EMPTY
        return number(self.object.recipients)


# --- Test, send, schedule ----------------------------------------------------------------------


@require_POST
def test(request, pk):
    """Send the message to the logged-in user's own address, with sample values."""
    message = _message(request, pk)
    language = request.GET.get("language", "it")
    if language not in LANGUAGES:
        raise Http404
    if not request.user.email:
        messages.error(request, _("Your account has no email address to send the test to."))
        return _inspect(message)
    send_test(message, request.user.email, language=language)
    log(message, LOG_TEST, user=request.user, data={"to": request.user.email})
    messages.success(request, _("Test sent to %(email)s.") % {"email": request.user.email})
    return _inspect(message)


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
    message = _message(request, pk)
    refusal = _not_sendable(message)
    if refusal:
        messages.error(request, refusal)
        return message, _inspect(message)
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
                return _inspect(message)
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
                return _inspect(message)
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
    message = _message(request, pk)
    if message.status != Message.Status.SCHEDULED:
        messages.error(request, _("This message is not scheduled."))
        return _inspect(message)
    if cancel_schedule(message):
        log(message, LOG_UNSCHEDULE, user=request.user)
    messages.success(request, _("Schedule cancelled: the message is a draft again."))
    return _inspect(message)


# --- Results -----------------------------------------------------------------------------------


def results(request, pk):
    message = _message(request, pk, "view")
    figures = message_results(message)
    rows = [
        (_("Emails sent"), number(figures["sent"])),
        (_("Emails delivered"), number(figures["delivered"])),
        (_("Emails opened"), number(figures["opened"])),
        (_("Clicked a link"), number(figures["clicked"])),
        (_("Unsubscribed"), number(figures["unsubscribed"])),
        (_("Bounced (the address does not work)"), number(figures["bounced"])),
        (_("Marked as spam"), number(figures["complained"])),
        (_("Gifts through its links within 30 days"), number(figures["gifts"])),
        (_("Amount of these gifts"), format_amount(figures["gifts_cents"])),
    ]
    context = {
        "title": message.subject,
        "message": message,
        "rows": rows,
        "sent": sent_label(message),
        "audience": audience_label(message),
    }
    return TemplateResponse(request, "outreach/message_results.html", context)


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


# --- The viewset --------------------------------------------------------------------------------


class MessageViewSet(ScopedModelViewSet):
    model = Message
    icon = "mail"
    menu_label = _("Messages to donors")
    empty_message = _("No messages yet.")
    add_to_admin_menu = True
    menu_order = 462
    index_view_class = MessageIndexView
    add_view_class = MessageCreateView
    edit_view_class = MessageEditView
    delete_view_class = MessageDeleteView
    inspect_view_class = MessageInspectView
    url_names = {"index", "index_results", "add", "edit", "delete", "inspect"}
    url_names |= {"history", "history_results"}
    list_filter = ["status"]
    list_display = [
        "subject",
        Column("status", label=_("Status"), accessor="get_status_display"),
        Column("audience", label=_("Sent to"), accessor=audience_label),
        Column(
            "recipients",
            label=_("Recipients"),
            accessor=lambda m: number(m.recipients) if m.recipients else display.EMPTY,
        ),
        Column("sent", label=_("When"), accessor=sent_label),
        Column("opened", label=_("Opened"), accessor=lambda m: number(_figure(m, "opened"))),
        Column("clicked", label=_("Clicked"), accessor=lambda m: number(_figure(m, "clicked"))),
    ]
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldPanel("network"),
                    FieldPanel("segment"),
                    FieldPanel("campaign"),
                    FieldPanel("subject"),
                    FieldPanel("preheader"),
                    FieldPanel("body"),
                ],
                heading=_("Message"),
            ),
            ObjectList(
                [FieldPanel("subject_en"), FieldPanel("preheader_en"), FieldPanel("body_en")],
                heading=_("English"),
            ),
        ],
        base_form_class=MessageForm,
    )

    def get_form_class(self, for_update=False):
        return self._edit_handler.get_form_class()

    def get_extra_urlpatterns(self):
        return [
            path("preview/", self.preview_on_add_view, name="preview_on_add"),
            path("preview/<int:pk>/", self.preview_on_edit_view, name="preview_on_edit"),
            path("<int:pk>/text/", plain_text, name="text"),
            path("<int:pk>/test/", test, name="send_test"),
            path("<int:pk>/send/", send, name="send"),
            path("<int:pk>/schedule/", schedule, name="schedule"),
            path("<int:pk>/cancel-schedule/", cancel, name="cancel_schedule"),
            path("<int:pk>/results/", results, name="results"),
            path("campaign-update/", campaign_update, name="campaign_update"),
        ]

    @property
    def preview_on_add_view(self):
        return self.construct_view(
            MessagePreviewOnCreate, form_class=self.get_form_class(), model=Message
        )

    @property
    def preview_on_edit_view(self):
        return self.construct_view(
            MessagePreviewOnEdit, form_class=self.get_form_class(), model=Message
        )
