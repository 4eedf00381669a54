"""Donations in the admin: the list (with import and exports), the gift page with its actions,
the offline gift form and "issue receipt"."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter, DateFromToRangeFilter, ModelChoiceFilter, NumberFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, StatusFlagColumn
from wagtail.admin.widgets import HeaderButton

from crm import display, extensions, receipt_selection, receipts
from crm.exports import export_donations
from crm.models import Donation, Donor, ImportBatch, IssuingEntity, Receipt
from crm.money import EuroField, fiscal_today, format_amount
from crm.offline import OFFLINE_METHODS, record_offline_gift
from crm.search import search_gifts
from crm.tenancy import network_view, reached

from .common import (
    ActionsInspectView,
    BulkActionsMixin,
    ScopedIndexView,
    ScopedModelViewSet,
    campaigns_for,
    donor_column,
    donor_url,
    may,
    network_filter,
    use_donor_chooser,
)
from .entity_lists import EntityColumnMixin, EntityFilterMixin, entity_filter
from .exports import export_receipts, export_summary, exports_page
from .imports import import_gifts


def reverse_crm(name, *args):
    return reverse(f"crm_donation:{name}", args=args)


# --- Views --------------------------------------------------------------------------------------


class DonationIndexView(EntityColumnMixin, BulkActionsMixin, ScopedIndexView):
    """The gifts: money that arrived (or is held for review); checkout attempts have their own
    list (`CheckoutAttemptViewSet`)."""

    def get_base_queryset(self):
        return super().get_base_queryset().gifts()

    def search_queryset(self, queryset):
        return search_gifts(queryset, self.search_query) if self.is_searching else queryset

    def as_spreadsheet(self, queryset, spreadsheet_format):
        return export_donations(queryset, spreadsheet_format, self.get_filename())

    @property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if may(self.request.user, Donation, "add"):  # not an entity's own treasurer
            url = reverse_crm("import")
            buttons.append(HeaderButton(_("Import gifts"), url=url, icon_name="upload"))
        return buttons


class DonationInspectView(ActionsInspectView):
    template_name = "crm/admin/donation_inspect.html"
    # What a treasurer reads first; the rest follows, Stripe's ids folded away.
    LEAD = ["amount_cents", "received_on", "donor", "campaign", "method", "status", "receipts"]

    def get_fields(self):
        return self.LEAD + [name for name in super().get_fields() if name not in self.LEAD]

    def get_field_label(self, field_name, field):
        if field_name == "receipts":
            return _("Receipt")
        return super().get_field_label(field_name, field)

    def get_receipts_display_value(self):
        numbers = [
            f"{r.number} ({r.get_status_display()})" for r in self.object.receipts.order_by("id")
        ]
        return ", ".join(numbers) or _("No receipt")

    def get_received_on_display_value(self):
        # A checkout that never paid received nothing (it has its own list, crm.admin.attempts).
        if self.object.is_checkout_attempt:
            return "—"
        return display.field_value(self.object, "received_on")

    def get_reported_amount_cents_display_value(self):
        if self.object.reported_amount_cents is None:
            return "—"
        return reported_payment(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.object.status == Donation.Status.NEEDS_REVIEW:
            context["review"] = {
                "expected": format_amount(self.object.amount_cents),
                "reported": reported_payment(self.object),
            }
        return context

    def get_actions(self):
        # An entity's own treasurers read their gifts: no receipt to issue, no donor's page
        # (the donors are the network's), no button to a screen that would refuse them.
        pk, user = self.object.pk, self.request.user
        actions = []
        if (
            self.object.status in Donation.COUNTED_STATUSES
            and may(user, Receipt, "add")
            and not self.object.receipts.filter(status=Receipt.Status.ISSUED)
        ):
            actions.append((_("Issue receipt"), reverse_crm("issue_receipt", pk), "get"))
        actions += extensions.gift_actions(self.request, self.object)
        if url := donor_url(user, self.object.donor_id):
            actions.append((_("Donor"), url, "get"))
        return actions


def reported_payment(donation):
    """What Stripe said was paid for a gift held for review, as the treasurer reads it."""
    amount, currency = donation.reported_amount_cents, donation.reported_currency or "?"
    if amount is None:
        return _("no readable amount (%(currency)s)") % {"currency": currency}
    if currency == "EUR":
        return format_amount(amount)
    return _("%(amount)s in the smallest unit of %(currency)s") % {
        "amount": amount,
        "currency": currency,
    }


class OfflineGiftForm(forms.Form):
    donor = forms.ModelChoiceField(queryset=Donor.objects.none(), label=_("Donor"))
    amount = EuroField(label=_("Amount (EUR)"), help_text=_("For example 1.234,50"))
    received_on = forms.DateField(
        label=_("Received on"),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    method = forms.ChoiceField(label=_("Method"))
    reference = forms.CharField(
        label=_("Reference (CRO/TRN, cheque no.)"), required=False, max_length=255
    )
    campaign: "forms.ModelChoiceField[Any]" = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Campaign")
    )
    entity = forms.ModelChoiceField(
        queryset=IssuingEntity.objects.none(),
        required=False,
        label=_("Receiving entity"),
        empty_label=_("The campaign's, or the network's lead entity"),
        help_text=_("The entity of the network that received the money and issues the receipt."),
    )
    wants_receipt = forms.BooleanField(label=_("Issue a receipt"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].queryset = IssuingEntity.objects.for_user(user)
        self.fields["donor"].queryset = reached(user, Donor).filter(anonymised_at__isnull=True)
        use_donor_chooser(self.fields["donor"])
        self.fields["campaign"].queryset = campaigns_for(user)
        self.fields["method"].choices = [(m.value, m.label) for m in OFFLINE_METHODS]


def record_gift(request, pk=None):
    """Record a gift that did not come through Stripe; mounted as Donations → Add and on the
    donor's page (`pk` is then the donor: `record_gift_for_donor`)."""
    initial = {"received_on": fiscal_today(), "method": Donation.Method.BANK_TRANSFER}
    if pk is not None:
        initial["donor"] = get_object_or_404(reached(request.user, Donor), pk=pk)
    form = OfflineGiftForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            donation = record_offline_gift(
                network=data["donor"].network,
                donor=data["donor"],
                amount_cents=data["amount"],
                received_on=data["received_on"],
                method=data["method"],
                reference=data["reference"],
                campaign=data["campaign"],
                entity=data["entity"],
                wants_receipt=data["wants_receipt"],
                recorded_by=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Gift recorded."))
            return redirect("crm_donation:inspect", donation.pk)
    return TemplateResponse(
        request, "crm/admin/form.html", {"title": _("Record an offline gift"), "form": form}
    )


record_gift_for_donor = network_view(Donation, "add", pk=Donor)(record_gift)
record_gift = network_view(Donation, "add")(record_gift)


@network_view(Receipt, "add", pk=Donation)
def issue_receipt(request, pk):
    """GET asks (with "email the donor" ticked, and a warning with a box to tick when the
    donor lacks what a receipt needs); POST issues, and emails unless unticked (`email=0`; a
    POST without the field emails). Without the data and without `confirm_missing`, nothing
    is issued (400); a confirmed issue keeps the confirmation in the receipt's history."""
    # The network's treasurers issue (an entity's own treasurers, who read the gift, do not).
    donation = get_object_or_404(reached(request.user, Donation, "change"), pk=pk)
    missing = receipt_selection.missing_receipt_data(donation.donor) if donation.donor_id else []
    confirmed = request.POST.get("confirm_missing") == "1"
    if request.method != "POST" or (missing and not confirmed):
        refused = request.method == "POST"
        return TemplateResponse(
            request,
            "crm/admin/confirm.html",
            _issue_context(donation, missing, refused),
            status=400 if refused else 200,
        )
    try:
        receipt = receipts.issue_receipt(
            [donation], issued_by=request.user, confirmed_missing=missing
        )
    except (ValidationError, receipts.ReceiptError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("crm_donation:inspect", donation.pk)
    messages.success(request, issued_message(request, receipt))
    return redirect("crm_receipt:inspect", receipt.pk)


def _issue_context(donation, missing, refused):
    context = {
        "title": _("Issue receipt"),
        "object": donation,
        "ask_email": True,
        "back_url": reverse("crm_donation:inspect", args=[donation.pk]),
    }
    notes = []
    if donation.donor_id and not receipt_selection.donor_asked(donation):
        notes.append(_("The donor did not ask for a receipt for this gift."))
    if donation.method == Donation.Method.CASH:
        notes.append(_("Paid in cash: the receipt gives the donor no tax benefit."))
    if missing:
        notes.append(
            _(
                "The donor lacks what a receipt needs: %(missing)s. Complete the donor first, "
                "or confirm below to issue it without them."
            )
            % {"missing": receipt_selection.describe_missing(missing)}
        )
        context["complete_url"] = reverse("crm_donor:edit", args=[donation.donor_id])
        context["ask_missing"] = _(
            "Issue it without them: I confirm (kept in the receipt's history)"
        )
    if refused:
        context["error"] = _(
            "Nothing was issued: the donor lacks %(missing)s. Tick the box to issue it "
            "without them, or complete the donor first."
        ) % {"missing": receipt_selection.describe_missing(missing)}
    context["notice"] = " ".join(str(n) for n in notes)
    return context


def wants_email(request):
    """The "email the donor" box: a hidden `0` before a ticked `1`; absent means yes."""
    return request.POST.getlist("email", ["1"])[-1] == "1"


def issued_message(request, receipt):
    """Email the receipt if asked (and possible), and say what happened."""
    number = {"number": receipt.number}
    if not wants_email(request):
        return _("Receipt %(number)s issued; not emailed, as chosen.") % number
    if receipts.email_receipt(receipt, user=request.user):
        return _("Receipt %(number)s issued and emailed to the donor.") % number
    return _("Receipt %(number)s issued; not emailed: the donor has no email address.") % number


# --- Declarations -------------------------------------------------------------------------------


class DonationFilterSet(EntityFilterMixin, WagtailFilterSet):
    status = ChoiceFilter(
        label=_("Status"),
        choices=[(s.value, s.label) for s in Donation.Status if s not in Donation.ATTEMPT_STATUSES],
    )
    received_on = DateFromToRangeFilter(label=_("Period"), widget=DateRangePickerWidget)
    campaign = ModelChoiceFilter(
        label=_("Campaign"), queryset=lambda request: campaigns_for(request.user)
    )
    network = network_filter()
    entity = entity_filter()
    import_batch = NumberFilter(
        label=_("Import batch"), method="filter_import_batch", widget=forms.HiddenInput
    )

    class Meta:
        model = Donation
        fields = ["received_on", "campaign", "method", "status", "channel", "network"]

    def filter_import_batch(self, queryset, name, value):
        """The gifts an import batch of the user's networks recorded (none for another's)."""
        batch = reached(self.request.user, ImportBatch).filter(pk=value).first()
        return queryset.filter(pk__in=batch.gift_ids if batch else [])


class DonationViewSet(ScopedModelViewSet):
    model = Donation
    icon = "euro"
    menu_label = _("Donations")
    empty_message = _("No gifts yet.")
    index_view_class = DonationIndexView
    inspect_view_class = DonationInspectView
    filterset_class = DonationFilterSet
    list_display = [
        "received_on",
        donor_column(),
        # The amount alone: the date is the first column (not "€ 25,00 · 26/11/2026" again).
        Column("amount", label=_("Amount"), accessor=lambda gift: format_amount(gift.amount_cents)),
        "method",
        "channel",
        "status",
        StatusFlagColumn("in_dispute", label=_("Dispute"), true_label=_("Open dispute")),
        "campaign",
    ]
    list_export = ["id"]  # the export itself is crm.exports.export_donations
    export_filename = "donazioni"
    # Searched by crm.search.search_gifts (donor, reference, receipt number).
    search_fields = ["reference"]
    form_fields = ["donor", "campaign", "reference", "dedication", "anonymous", "wants_receipt"]
    url_names = {"index", "index_results", "edit", "history", "history_results", "inspect"}

    def get_extra_urlpatterns(self):
        return [
            path("new/", record_gift, name="add"),
            path("<int:pk>/issue-receipt/", issue_receipt, name="issue_receipt"),
            path("import/", import_gifts, name="import"),
            path("exports/", exports_page, name="exports"),
            path("export/summary/", export_summary, name="export_summary"),
            path("export/receipts/", export_receipts, name="export_receipts"),
        ]

    def get_index_view_kwargs(self, **kwargs):
        kwargs = super().get_index_view_kwargs(**kwargs)
        kwargs["add_url_name"] = self.get_url_name("add")
        return kwargs
