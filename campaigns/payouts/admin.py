"""The Payouts screen (CRM menu) for treasurers: each payout reconciled to the cent, its
report as CSV, XLSX or a printable page, and the year's payouts. Every view is scoped to the
user's networks (`Payout.objects.for_user`; a payout of another network is a 404), and for an
entity's own treasurers to the payouts of its Stripe account (each payout is its entity's:
the partner's whose account paid it out, or the lead's for the network's account). Where a
network has several entities, the list names each payout's entity and filters by it."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column

from crm import extensions
from crm.admin.common import (
    ActionsInspectView,
    ScopedIndexView,
    ScopedModelViewSet,
    network_filter,
)
from crm.admin.entity_lists import EntityColumnMixin, EntityFilterMixin, entity_filter
from crm.models import IssuingEntity
from crm.money import YEARS, format_amount
from crm.tenancy import NetworkPermissionPolicy, network_view, reached, register_network_policy
from crm.validators import row_id

from . import report
from .models import Payout

FORMATS = ("csv", "xlsx", "html")
PRINT_LINES = 5000  # the printable page lists this many lines; the files carry them all

register_network_policy(Payout, NetworkPermissionPolicy(Payout, entities=True))


def _format(request):
    export_format = request.GET.get("format", "html")
    if export_format not in FORMATS:
        raise Http404
    return export_format


class PayoutInspectView(ActionsInspectView):
    template_name = "campaigns/payouts/inspect.html"

    def get_actions(self):
        url = reverse("campaigns_payout:report", args=[self.object.pk])
        return [
            (_("Printable report"), url, "get"),
            (_("Download CSV"), f"{url}?format=csv", "get"),
            (_("Download XLSX"), f"{url}?format=xlsx", "get"),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        totals = report.payout_totals(self.object)
        context.update(totals=totals, summary=report.summary_rows(totals))
        return context


@network_view(Payout, "view")
def payout_report(request, pk):
    payout = get_object_or_404(reached(request.user, Payout, "view"), pk=pk)
    export_format = _format(request)
    if export_format != "html":
        return report.export_payout(payout, export_format)
    totals = report.payout_totals(payout)
    lines = list(report.line_rows(payout))[:PRINT_LINES] if totals.lines <= PRINT_LINES else None
    return TemplateResponse(
        request,
        "campaigns/payouts/print.html",
        {
            "payout": payout,
            "totals": totals,
            "summary": report.summary_rows(totals),
            "lines": lines,
            "headings": report.LINE_HEADINGS,
            "title": _("Payout report"),
        },
    )


@network_view(Payout, "view")
def year_report(request):
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        raise Http404 from None
    if year not in YEARS:
        raise Http404
    payouts = report.payouts_of_year(reached(request.user, Payout, "view"), year)
    if network_id := row_id(request.GET.get("network")):
        payouts = payouts.filter(network_id=network_id)
    if entity_id := row_id(request.GET.get("entity")):
        entity = IssuingEntity.objects.filter(pk=entity_id).first()
        payouts = payouts.of_entity(entity) if entity is not None else payouts.none()
    export_format = _format(request)
    if export_format != "html":
        return report.export_year(payouts, year, export_format)
    rows, total = report.year_totals(payouts)
    return TemplateResponse(
        request,
        "campaigns/payouts/year.html",
        {
            "year": year,
            "rows": rows,
            "total": total,
            "summary": report.summary_rows(total),
            "title": _("Payouts of %(year)s") % {"year": year},
        },
    )


class PayoutIndexView(EntityColumnMixin, ScopedIndexView):
    """Payouts, each naming its entity when a network has several."""


class PayoutFilterSet(EntityFilterMixin, WagtailFilterSet):
    status = ChoiceFilter(label=_("Status"), choices=Payout.Status.choices)
    network = network_filter()
    entity = entity_filter()

    class Meta:
        model = Payout
        fields = ["status", "network", "entity"]


class PayoutViewSet(ScopedModelViewSet):
    model = Payout
    icon = "doc-full"
    menu_label = _("Payouts")
    empty_message = _(
        "No payouts yet: Stripe pays the gifts into the network's bank account every few days."
    )
    menu_hook = extensions.CRM_MENU
    menu_order = 850
    list_display = [
        "arrival_date",
        # The amount alone: the date is the first column (not "€ 25,00 · 26/11/2026" again).
        Column(
            "amount", label=_("Amount"), accessor=lambda payout: format_amount(payout.amount_cents)
        ),
        "status",
        "trace_id",
        "network",
    ]
    filterset_class = PayoutFilterSet
    index_view_class = PayoutIndexView
    list_export = [
        "arrival_date",
        "stripe_payout_id",
        "amount_cents",
        "status",
        "trace_id",
        "statement_descriptor",
        "network",
        "entity",
        "account",
    ]
    export_filename = "versamenti-stripe"
    url_names = {"index", "index_results", "inspect"}
    inspect_view_class = PayoutInspectView
    inspect_view_fields = [
        "network",
        "entity",
        "account",
        "stripe_payout_id",
        "arrival_date",
        "status",
        "statement_descriptor",
        "trace_id",
        "failure_text",
    ]

    def get_extra_urlpatterns(self):
        return [
            path("<int:pk>/report/", payout_report, name="report"),
            path("year/", year_report, name="year"),
        ]
