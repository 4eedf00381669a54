"""Calls (bandi) in the admin: the calendar of calls, a call's page (its documents, private and
downloaded through this checked view only; the reports owed after an award), turning it into
an ask, adding a document; and the user's calendar feed address."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_filters import ChoiceFilter
from wagtail.admin.filters import WagtailFilterSet
from wagtail.log_actions import log

from crm.display import format_date
from crm.tenancy import network_view, policy_for, reached

from .. import verbs
from ..models import Call, CallDocument, Opportunity
from .forms import DocumentForm
from .tables import ActionsPage
from .viewsets import RelationsViewSet, relations_network_filter


class CallInspectView(ActionsPage):
    def get_actions(self):
        call = self.object
        user = self.request.user
        actions = []
        if policy_for(Opportunity).user_has_permission(user, "add"):
            url = reverse("relations_call:to_opportunity", args=[call.pk])
            actions.append((_("Turn into an opportunity"), url, "post"))
        if policy_for(Call).user_has_permission(user, "change"):
            url = reverse("relations_call:add_document", args=[call.pk])
            actions.append((_("Add a document"), url, "get"))
            url = reverse("relations_report:add") + f"?call={call.pk}"
            actions.append((_("Add a report owed"), url, "get"))
        return actions

    def get_tables(self):
        call = self.object
        documents = [
            (
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("relations_call:document", args=[d.pk]),
                    d.title,
                ),
                format_date(d.uploaded_at.date()),
            )
            for d in call.documents.all()
        ]
        reports = [
            (r.title, format_date(r.due_on), str(r.owner or "—"), format_date(r.submitted_on))
            for r in call.reports.all()
        ]
        asks = [(o.title, o.get_stage_display()) for o in call.opportunities.all()]
        return [
            (_("Documents"), [_("Document"), _("Uploaded on")], documents),
            (
                _("Reports owed"),
                [_("Report owed"), _("Due on"), _("Owner"), _("Submitted on")],
                reports,
            ),
            (_("Opportunities"), [_("Ask"), _("Stage")], asks),
        ]


@network_view(Opportunity, "add", pk=Call)
@require_POST
def to_opportunity(request, pk):
    call = get_object_or_404(reached(request.user, Call), pk=pk)
    opportunity = verbs.opportunity_from_call(call, user=request.user)
    messages.success(request, _("The call is now an opportunity."))
    return redirect("relations_opportunity:inspect", opportunity.pk)


@network_view(Call, "change")
def add_document(request, pk):
    call = get_object_or_404(reached(request.user, Call, "change"), pk=pk)
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            document = CallDocument.objects.create(
                call=call, title=form.cleaned_data["title"], file=form.cleaned_data["file"]
            )
            log(call, "wagtail.edit", user=request.user, data={"document": document.pk})
            messages.success(request, _("Document added."))
            return redirect("relations_call:inspect", call.pk)
        status = 400
    else:
        status = 200
    return TemplateResponse(
        request,
        "crm/admin/form.html",
        {"form": form, "title": _("Add a document to %s") % call.title},
        status=status,
    )


@network_view(Call, "view", pk=CallDocument)
def download_document(request, pk):
    document = get_object_or_404(reached(request.user, CallDocument, "view"), pk=pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    name = document.file.name.rsplit("/", 1)[-1].split("-", 1)[-1]
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["Cache-Control"] = "private, no-store"
    return response


@network_view(Call, "view")
def calendar_feed(request):
    """The user's own calendar address: make one (shown once), make a new one, or stop it."""
    address = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            verbs.revoke_calendar(request.user)
            messages.success(request, _("The calendar address no longer works."))
            return redirect("relations_call:calendar")
        token = verbs.new_calendar_token(request.user)
        address = request.build_absolute_uri(
            reverse("relations:calendar_feed", kwargs={"token": token})
        )
    return TemplateResponse(
        request,
        "relations/admin/calendar.html",
        {
            "title": _("Calendar feed"),
            "address": address,
            "has_feed": hasattr(request.user, "relations_calendar"),
        },
    )


class CallFilterSet(WagtailFilterSet):
    network = relations_network_filter()
    status = ChoiceFilter(choices=Call.Status.choices, label=gettext_lazy("Status"))

    class Meta:
        model = Call
        fields = ["network", "status"]


class CallViewSet(RelationsViewSet):
    model = Call
    icon = "date"
    menu_label = gettext_lazy("Calls (bandi)")
    empty_message = gettext_lazy("No calls yet.")
    url_names = {
        "index",
        "index_results",
        "add",
        "edit",
        "delete",
        "history",
        "history_results",
        "inspect",
    }
    inspect_view_class = CallInspectView
    filterset_class = CallFilterSet
    search_fields = ["title"]
    form_fields = ["network", "title", "funder", "deadline", "budget_cents", "status", "owner"]
    form_fields += ["url", "notes"]
    list_display = ["title", "funder", "deadline", "budget_cents", "status", "owner"]

    def get_extra_urlpatterns(self):
        return [
            path("<int:pk>/to-opportunity/", to_opportunity, name="to_opportunity"),
            path("<int:pk>/add-document/", add_document, name="add_document"),
            path("document/<int:pk>/", download_document, name="document"),
            path("calendar/", calendar_feed, name="calendar"),
        ]
