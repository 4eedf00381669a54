"""Gifts in kind in the admin (CRM → Gifts in kind): the list and its exports, the page of a
gift with its documents and receipt, the form a treasurer records one with. Goods are listed
apart from the money, never in the donations list or its totals."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_filters import DateFromToRangeFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column

from crm import receipts
from crm.in_kind import record_in_kind_gift
from crm.models import Donor, InKindDocument, InKindGift, IssuingEntity, Receipt
from crm.money import EuroField, fiscal_today, format_amount
from crm.receipt_files import ReceiptError
from crm.tenancy import network_view, policy_for, reached
from crm.validators import row_id

from .common import (
    ActionsInspectView,
    ScopedIndexView,
    ScopedModelViewSet,
    campaigns_for,
    donor_column,
    use_donor_chooser,
)
from .entity_lists import EntityColumnMixin, EntityFilterMixin, entity_filter


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class InKindGiftForm(forms.Form):
    donor = forms.ModelChoiceField(queryset=Donor.objects.none(), label=_("Donor"))
    description = forms.CharField(
        label=_("Goods given"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Item by item, with quantities, as in the donor's written declaration."),
    )
    value = EuroField(label=_("Value (EUR)"), help_text=_("For example 1.234,50"))
    valuation = forms.ChoiceField(label=_("How the value was set"), choices=InKindGift.Valuation)
    valuation_note = forms.CharField(
        label=_("Valuation source"),
        required=False,
        max_length=255,
        help_text=_("The price list, invoice number or appraiser the value comes from."),
    )
    appraisal_date = forms.DateField(
        label=_("Date of the sworn appraisal"),
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    received_on = forms.DateField(
        label=_("Received on"),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    campaign: "forms.ModelChoiceField[Any]" = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Campaign")
    )
    entity = forms.ModelChoiceField(
        queryset=IssuingEntity.objects.none(),
        required=False,
        label=_("Receiving entity"),
        empty_label=_("The campaign's, or the network's lead entity"),
        help_text=_("The entity of the network that received the goods and issues the receipt."),
    )
    documents = MultipleFileField(
        label=_("Documents"),
        required=False,
        help_text=_("The donor's declaration, invoices, the sworn appraisal: kept private."),
    )
    wants_receipt = forms.BooleanField(label=_("Issue a receipt"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["donor"].queryset = reached(user, Donor).filter(anonymised_at__isnull=True)
        use_donor_chooser(self.fields["donor"])
        self.fields["campaign"].queryset = campaigns_for(user)
        self.fields["entity"].queryset = IssuingEntity.objects.for_user(user)


@network_view(InKindGift, "add")
def record_in_kind(request):
    """Record goods given (CRM → Gifts in kind → Add)."""
    initial: dict[str, Any] = {"received_on": fiscal_today()}
    if donor_id := row_id(request.GET.get("donor")):
        initial["donor"] = reached(request.user, Donor).filter(pk=donor_id).first()
    form = InKindGiftForm(
        request.POST or None, request.FILES or None, initial=initial, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            gift = record_in_kind_gift(
                network=data["donor"].network,
                donor=data["donor"],
                description=data["description"],
                value_cents=data["value"],
                valuation=data["valuation"],
                valuation_note=data["valuation_note"],
                appraisal_date=data["appraisal_date"],
                received_on=data["received_on"],
                campaign=data["campaign"],
                entity=data["entity"],
                documents=data["documents"],
                wants_receipt=data["wants_receipt"],
                recorded_by=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Gift in kind recorded."))
            return redirect("crm_inkindgift:inspect", gift.pk)
    title = _("Record a gift in kind")
    return TemplateResponse(request, "crm/admin/form.html", {"title": title, "form": form})


def document_url(document: InKindDocument) -> str:
    url = reverse("crm_inkindgift:document", args=[document.gift_id])
    return f"{url}?id={document.pk}"


@never_cache
@network_view(InKindGift, "view", pk=InKindGift)
def in_kind_document(request, pk):
    """A document of a gift in kind (`?id=`), to a treasurer of its network only (404 for any
    other); without an id, the gift's first document."""
    gift = get_object_or_404(reached(request.user, InKindGift, "view"), pk=pk)
    documents = gift.documents.all()
    if document_id := row_id(request.GET.get("id")):
        documents = documents.filter(pk=document_id)
    document = documents.first()
    if document is None:
        raise Http404
    response = FileResponse(document.file.open("rb"), as_attachment=True, filename=document.name)
    response["X-Robots-Tag"] = "noindex"
    return response


@network_view(InKindGift, "add", pk=InKindGift)
def in_kind_receipt(request, pk):
    """POST: issue the in-kind receipt of a gift that has none."""
    gift = get_object_or_404(reached(request.user, InKindGift, "add"), pk=pk)
    if request.method == "POST":
        try:
            receipt = receipts.issue_in_kind_receipt(gift, issued_by=request.user)
        except ReceiptError:
            messages.error(request, _("This gift in kind already has a receipt."))
        else:
            messages.success(request, _("Receipt %(number)s issued.") % {"number": receipt.number})
    return redirect("crm_inkindgift:inspect", gift.pk)


class InKindInspectView(ActionsInspectView):
    def get_value_cents_display_value(self):
        return format_amount(self.object.value_cents)

    def get_actions(self):
        # An entity's own treasurers read the goods (documents, receipt): no donor's page to
        # open (the donors are the network's), no receipt to issue.
        pk, user = self.object.pk, self.request.user
        actions = []
        if policy_for(Donor).user_has_permission(user, "view"):
            donor_url = reverse("crm_donor:inspect", args=[self.object.donor_id])
            actions.append((_("Donor"), donor_url, "get"))
        for doc in self.object.documents.all():
            label = _("Document: %(name)s") % {"name": doc.name}
            actions.append((label, document_url(doc), "get"))
        issued = self.object.receipts.filter(status=Receipt.Status.ISSUED).first()
        if issued is None:
            if policy_for(InKindGift).user_has_permission(user, "add"):
                url = reverse("crm_inkindgift:receipt", args=[pk])
                actions.append((_("Issue receipt"), url, "post"))
        else:
            url = reverse("crm_receipt:inspect", args=[issued.pk])
            actions.append((_("Receipt %(number)s") % {"number": issued.number}, url, "get"))
        return actions


def _value(gift):
    return format_amount(gift.value_cents)


class InKindIndexView(EntityColumnMixin, ScopedIndexView):
    pass


class InKindFilterSet(EntityFilterMixin, WagtailFilterSet):
    received_on = DateFromToRangeFilter(label=_("Received on"), widget=DateRangePickerWidget)
    entity = entity_filter()

    class Meta:
        model = InKindGift
        fields = ["valuation", "received_on"]


class InKindGiftViewSet(ScopedModelViewSet):
    model = InKindGift
    icon = "pick"
    menu_label = _("Gifts in kind")
    empty_message = _("No gifts in kind yet.")
    index_view_class = InKindIndexView
    inspect_view_class = InKindInspectView
    filterset_class = InKindFilterSet
    list_display = [
        "received_on",
        donor_column(),
        "description",
        Column("value", label=_("Value"), accessor=_value),
        "valuation",
        "campaign",
    ]
    list_export = [
        "received_on",
        "donor",
        "description",
        "value_cents",
        "valuation",
        "valuation_note",
        "appraisal_date",
        "campaign",
        "entity",
    ]
    export_filename = "donazioni-in-natura"
    search_fields = ["description"]
    url_names = {"index", "index_results", "history", "history_results", "inspect"}

    def get_extra_urlpatterns(self):
        return [
            path("new/", record_in_kind, name="add"),
            path("<int:pk>/receipt/", in_kind_receipt, name="receipt"),
            path("<int:pk>/document/", in_kind_document, name="document"),
        ]

    def get_index_view_kwargs(self, **kwargs):
        kwargs = super().get_index_view_kwargs(**kwargs)
        kwargs["add_url_name"] = self.get_url_name("add")
        return kwargs
