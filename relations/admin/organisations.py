"""Organisations in the admin: the list, and an organisation's page (its people, asks,
interactions and tasks; its relationship figures for treasurers), and the funder report."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.display import format_date
from crm.models import Donation
from crm.money import format_amount
from crm.tenancy import network_view, reached

from ..access import sees_gifts_of
from ..figures import relationship_figures
from ..models import Organisation
from ..pdf import render_funder_report
from ..report import funder_report
from .forms import ReportPeriodForm
from .removal import MoneyAwareDeleteView
from .tables import ActionsPage
from .viewsets import OrganisationFilterSet, RelationsViewSet


class OrganisationInspectView(ActionsPage):
    def get_actions(self):
        actions = []
        if sees_gifts_of(self.request.user, self.object.network):
            url = reverse("relations_organisation:funder_report", args=[self.object.pk])
            actions.append((_("Funder report"), url, "get"))
        if self.object.donor_id and sees_gifts_of(self.request.user, self.object.network):
            url = reverse("crm_donor:inspect", args=[self.object.donor_id])
            actions.append((_("Donor record"), url, "get"))
        return actions

    def get_tables(self):
        org = self.object
        tables = [
            (
                _("People"),
                [_("Person"), _("Relationship"), _("Role")],
                [
                    (str(r.person), r.get_kind_display(), r.role or "—")
                    for r in org.relationships.select_related("person")
                ],
            ),
            (
                _("Asks"),
                [_("Ask"), _("Stage"), _("Amount"), _("Expected date")],
                [
                    (
                        o.title,
                        o.get_stage_display(),
                        format_amount(o.amount_cents),
                        format_date(o.expected_on),
                    )
                    for o in org.opportunities.all()
                ],
            ),
            (
                _("Interactions"),
                [_("Date"), _("Kind"), _("Summary")],
                [
                    (format_date(i.happened_on), i.get_kind_display(), i.summary)
                    for i in org.interactions.all()[:50]
                ],
            ),
            (
                _("Tasks"),
                [_("To do"), _("Due on"), _("Owner")],
                [
                    (t.title, format_date(t.due_on), str(t.owner))
                    for t in org.tasks.filter(done=False)
                ],
            ),
        ]
        if sees_gifts_of(self.request.user, org.network):
            money = relationship_figures(org)
            tables.insert(
                0,
                (
                    _("Relationship figures"),
                    [_("Given by the organisation"), _("Given by its people (soft credits)")],
                    [(format_amount(money.given), format_amount(money.soft_credits))],
                ),
            )
        return tables


@network_view(Donation, "view", pk=Organisation)
def funder_report_view(request, pk):
    """The funder report (treasurers: it shows gifts), as a page or, with format=pdf, a PDF."""
    organisation = get_object_or_404(reached(request.user, Organisation), pk=pk)
    if not sees_gifts_of(request.user, organisation.network):
        raise Http404
    today = timezone.localdate()
    data = (
        request.GET
        if "start" in request.GET
        else {
            "start": today.replace(month=1, day=1).isoformat(),
            "end": today.isoformat(),
        }
    )
    form = ReportPeriodForm(data)
    report = None
    status = 200
    if form.is_valid():
        report = funder_report(organisation, form.cleaned_data["start"], form.cleaned_data["end"])
        if request.GET.get("format") == "pdf":
            response = HttpResponse(render_funder_report(report), content_type="application/pdf")
            name = f"report-{organisation.pk}-{report['end']:%Y%m%d}.pdf"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    else:
        status = 400
    title = _("Funder report: %s") % organisation.name
    return TemplateResponse(
        request,
        "relations/admin/funder_report.html",
        {"form": form, "report": report, "title": title},
        status=status,
    )


class OrganisationViewSet(RelationsViewSet):
    model = Organisation
    icon = "site"
    menu_label = gettext_lazy("Organisations")
    empty_message = gettext_lazy("No organisations yet.")
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
    delete_view_class = MoneyAwareDeleteView
    inspect_view_class = OrganisationInspectView
    filterset_class = OrganisationFilterSet
    search_fields = ["name"]
    form_fields = ["network", "name", "kind", "donor", "website", "notes"]
    list_display = ["name", "kind", "network"]

    def get_extra_urlpatterns(self):
        return [path("<int:pk>/report/", funder_report_view, name="funder_report")]
