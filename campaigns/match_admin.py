"""Matched campaigns in the admin (CRM → Matched campaigns): the pledges with what each matched
so far, what the funder paid and what it owes (the report, also as CSV/XLSX), a pledge's page
and the form to record the funder's payment. Scoped to the user's networks."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column

from crm import extensions
from crm.admin.common import (
    ActionsInspectView,
    ScopedForm,
    ScopedIndexView,
    ScopedModelViewSet,
    use_donor_chooser,
)
from crm.exports import csv_response, xlsx_response
from crm.models import Donation, Donor
from crm.money import EuroField, cents_to_decimal, fiscal_today, format_amount
from crm.offline import OFFLINE_METHODS
from crm.tenancy import NetworkPermissionPolicy, network_view, reached, register_network_policy

from .matches import MatchPledge, check_pledge, figures, record_match_payment
from .models import invalidate_progress

# A pledge is part of the giving: the gifts' permissions decide (no new permission to grant).
register_network_policy(MatchPledge, NetworkPermissionPolicy(MatchPledge, auth_model=Donation))


class PledgeForm(ScopedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        funders = reached(self.for_user, Donor).filter(kind=Donor.Kind.ORGANISATION)
        self.fields["funder"].queryset = funders
        use_donor_chooser(self.fields["funder"])

    def clean(self):
        data = super().clean()
        pledge = self.instance
        for name in ("campaign", "funder", "starts_on", "ends_on"):
            if data.get(name) is not None:
                setattr(pledge, name, data[name])
        if not self.errors:
            try:
                check_pledge(pledge)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        return data

    def save(self, commit=True):
        pledge = super().save(commit=commit)
        if commit:
            invalidate_progress(pledge.campaign_id)
        return pledge


def _money(cents):
    return format_amount(cents)


REPORT_HEADINGS = [
    _("Campaign"),
    _("Funder"),
    _("Ratio (%)"),
    _("Cap"),
    _("From"),
    _("Until"),
    _("Matched so far"),
    _("Paid"),
    _("Owed"),
]


def report_rows(pledges):
    """One row per pledge, amounts in euros (Decimal): the matched campaigns' report."""
    for pledge in pledges.select_related("campaign", "funder"):
        numbers = figures(pledge)
        yield [
            pledge.campaign.title,
            pledge.funder.display_name,
            pledge.ratio_percent,
            cents_to_decimal(pledge.cap_cents),
            pledge.starts_on,
            pledge.ends_on,
            cents_to_decimal(numbers.matched_cents),
            cents_to_decimal(numbers.paid_cents),
            cents_to_decimal(numbers.owed_cents),
        ]


class PledgeIndexView(ScopedIndexView):
    def as_spreadsheet(self, queryset, spreadsheet_format):
        make = csv_response if spreadsheet_format == self.FORMAT_CSV else xlsx_response
        return make(REPORT_HEADINGS, report_rows(queryset), self.get_filename())


class PledgeInspectView(ActionsInspectView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        numbers = figures(self.object)
        context["fields"] = [
            *context["fields"],
            {"label": _("Matched so far"), "value": format_amount(numbers.matched_cents)},
            {"label": _("Paid"), "value": format_amount(numbers.paid_cents)},
            {"label": _("Owed"), "value": format_amount(numbers.owed_cents)},
        ]
        return context

    def get_actions(self):
        url = reverse("campaigns_matchpledge:payment", args=[self.object.pk])
        funder = reverse("crm_donor:inspect", args=[self.object.funder_id])
        return [(_("Record the funder's payment"), url, "get"), (_("Funder"), funder, "get")]


class PaymentForm(forms.Form):
    amount = EuroField(label=_("Amount (EUR)"), help_text=_("For example 1.234,50"))
    received_on = forms.DateField(
        label=_("Received on"),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    method = forms.ChoiceField(
        label=_("Method"), choices=[(m.value, m.label) for m in OFFLINE_METHODS]
    )
    reference = forms.CharField(
        label=_("Reference (CRO/TRN, cheque no.)"), required=False, max_length=255
    )


@network_view(MatchPledge, "add", pk=MatchPledge)
def record_payment(request, pk):
    """The funder paid: a gift of the funder on the campaign, linked to the pledge."""
    pledge = get_object_or_404(reached(request.user, MatchPledge, "add"), pk=pk)
    initial: dict[str, Any] = {"received_on": fiscal_today(), "method": "bank_transfer"}
    form = PaymentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record_match_payment(
                pledge,
                amount_cents=data["amount"],
                received_on=data["received_on"],
                method=data["method"],
                reference=data["reference"],
                recorded_by=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The funder's payment is recorded."))
            return redirect("campaigns_matchpledge:inspect", pledge.pk)
    title = _("Record the funder's payment")
    return TemplateResponse(request, "crm/admin/form.html", {"title": title, "form": form})


class MatchPledgeViewSet(ScopedModelViewSet):
    model = MatchPledge
    icon = "pick"
    menu_label = _("Matched campaigns")
    empty_message = _("No matching pledges yet.")
    menu_hook = extensions.CRM_MENU
    menu_order = 860
    index_view_class = PledgeIndexView
    inspect_view_class = PledgeInspectView
    list_display = [
        "campaign",
        "funder",
        Column("ratio", label=_("Ratio (%)"), accessor="ratio_percent"),
        Column("cap", label=_("Cap"), accessor=lambda p: _money(p.cap_cents)),
        Column(
            "matched",
            label=_("Matched so far"),
            accessor=lambda p: _money(figures(p).matched_cents),
        ),
        Column("owed", label=_("Owed"), accessor=lambda p: _money(figures(p).owed_cents)),
    ]
    list_export = ["id"]  # the export itself is `report_rows`
    export_filename = "campagne-raddoppiate"
    form_fields = ["campaign", "funder", "ratio_percent", "cap_cents", "starts_on", "ends_on"]
    inspect_view_fields = [
        "campaign",
        "funder",
        "ratio_percent",
        "cap_cents",
        "starts_on",
        "ends_on",
    ]
    url_names = {"index", "index_results", "add", "edit", "history", "history_results", "inspect"}

    def get_form_class(self, for_update=False):
        return forms.modelform_factory(self.model, form=PledgeForm, fields=self.form_fields)

    def get_extra_urlpatterns(self):
        return [path("<int:pk>/payment/", record_payment, name="payment")]
