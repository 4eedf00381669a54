"""Messages to donors in the admin: the viewset (list, write with an English tab, edit, delete,
the message's page) and its results; preview and sending are in `message_preview_views` and
`message_sending_views`, what they share in `message_common`.

Who: every network's communicators and treasurers (model permissions given by `crm.tenancy`
through the hooks in `outreach.wagtail_hooks`), for the networks `networks_for` gives them.
Another network's message is a 404 (`ScopedModelViewSet` guards every URL with a `pk`).
Rendering and sending are `outreach.rendering` and `outreach.sending`; these views only ask."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, ObjectList, TabbedInterface
from wagtail.admin.ui.side_panels import PreviewSidePanel
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.widgets import HeaderButton

from crm import display
from crm.admin.common import ActionsInspectView, ScopedIndexView, ScopedModelViewSet
from crm.money import format_amount

from .forms import MessageForm
from .message_common import audience_label, back_to_inspect, number, sent_label, user_message
from .message_preview_views import MessagePreviewOnCreate, MessagePreviewOnEdit, plain_text
from .message_sending_views import campaign_update, cancel, schedule, send, test
from .models import Message
from .results import message_results

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
            return back_to_inspect(message)
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
            return back_to_inspect(self.object)
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
# --- Results -----------------------------------------------------------------------------------


def results(request, pk):
    message = user_message(request, pk, "view")
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
