"""Custom admin views of the CRM: thin entry points that check, then call a named verb.

Every view here is mounted by a viewset in `crm.viewsets`, whose URL guard already answers 404
for an object outside the user's networks; the views still load objects through `for_user`.
"""

import datetime
import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy as pgettext
from django.views.decorators.http import require_POST
from wagtail.admin.views.generic import InspectView

from .models import Donation, Donor, Network, Receipt


def reverse_crm(name, *args):
    return reverse(f"crm_donation:{name}", args=args)


def _require(request, perm):
    if (
        not request.user.has_perm(f"crm.{perm}")
        or not Network.objects.for_user(request.user).exists()
    ):
        raise PermissionDenied


# --- Donor page --------------------------------------------------------------------------------


class DonorInspectView(InspectView):
    template_name = "crm/admin/donor_inspect.html"

    def get_context_data(self, **kwargs):
        from django.db.models import Count, Q, Sum
        from django.db.models.functions import ExtractYear

        from .models import DonorEmail
        from .money import format_amount

        context = super().get_context_data(**kwargs)
        donor = self.object
        donations = donor.donations.select_related("campaign").order_by("-received_on")
        receipts = donor.receipts.order_by("-issued_at")
        emails = DonorEmail.objects.filter(
            Q(receipt__donor=donor) | Q(recurring_plan__donor=donor)
        ).select_related("receipt")
        timeline = [(d.received_on, "gift", d) for d in donations[:200]]
        timeline += [(r.issued_at.date(), "receipt", r) for r in receipts[:200]]
        timeline += [(e.created_at.date(), "email", e) for e in emails[:200]]
        timeline.sort(key=lambda item: item[0], reverse=True)
        context.update(
            donor=donor,
            timeline=timeline,
            totals=[
                {**row, "total_display": format_amount(row["total"])}
                for row in donor.donations.succeeded()
                .annotate(year=ExtractYear("received_on"))
                .order_by("-year")
                .values("year")
                .annotate(total=Sum("amount_cents"), n=Count("id"))
            ],
            record_gift_url=reverse("crm_donor:record_gift", args=[donor.pk]),
            export_json_url=reverse("crm_donor:export_json", args=[donor.pk]),
            anonymise_url=reverse("crm_donor:anonymise", args=[donor.pk]),
        )
        return context


class ActionsInspectView(InspectView):
    """An inspect page with the object's actions as buttons (POST ones as small forms)."""

    template_name = "crm/admin/actions_inspect.html"

    def get_actions(self):
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["actions"] = self.get_actions()
        return context


class DonationInspectView(ActionsInspectView):
    def get_actions(self):
        pk = self.object.pk
        actions = []
        if self.object.status in Donation.COUNTED_STATUSES and not self.object.receipts.filter(
            status=Receipt.Status.ISSUED
        ):
            actions.append((_("Issue receipt"), reverse_crm("issue_receipt", pk), "post"))
        if self.object.donor_id:
            donor_url = reverse("crm_donor:inspect", args=[self.object.donor_id])
            actions.append((_("Donor"), donor_url, "get"))
        return actions


class ReceiptInspectView(ActionsInspectView):
    def get_actions(self):
        def url(name):
            return reverse(f"crm_receipt:{name}", args=[self.object.pk])

        actions = [(_("Download PDF"), url("pdf"), "get")]
        if self.object.status == Receipt.Status.ISSUED:
            actions += [
                (_("Email again"), url("resend"), "post"),
                (_("Reissue with current details"), url("reissue"), "get"),
                # The verb, not the status: "Annulla", where the status reads "Annullata".
                (pgettext("receipt action", "Void"), url("void"), "get"),
            ]
        return actions


def donor_json_export(request, pk):
    _require(request, "view_donor")
    from .privacy import donor_export

    donor = get_object_or_404(Donor.objects.for_user(request.user), pk=pk)
    body = json.dumps(donor_export(donor), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="donor-{donor.pk}.json"'
    return response


def donor_anonymise(request, pk):
    _require(request, "change_donor")
    from .privacy import KEPT_NOTICE, anonymise_donor

    donor = get_object_or_404(Donor.objects.for_user(request.user), pk=pk)
    if request.method == "POST":
        anonymise_donor(donor, user=request.user)
        messages.success(request, KEPT_NOTICE)
        return redirect("crm_donor:inspect", donor.pk)
    return TemplateResponse(
        request,
        "crm/admin/confirm.html",
        {"title": _("Anonymise donor"), "object": donor, "notice": KEPT_NOTICE},
    )


@require_POST
def donor_merge(request, pk):
    _require(request, "change_donor")
    from .merging import merge_donors

    donors = Donor.objects.for_user(request.user)
    keep = get_object_or_404(donors, pk=pk)
    duplicate = get_object_or_404(donors, pk=request.POST.get("duplicate"))
    try:
        merge_donors(keep, duplicate, user=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Donors merged."))
    return redirect("crm_donor:inspect", keep.pk)


def donor_duplicates(request):
    _require(request, "change_donor")
    from .merging import duplicate_suggestions

    pairs = duplicate_suggestions(Donor.objects.for_user(request.user))
    return TemplateResponse(request, "crm/admin/duplicates.html", {"pairs": pairs})


# --- Gifts -------------------------------------------------------------------------------------


class OfflineGiftForm(forms.Form):
    donor = forms.ModelChoiceField(queryset=Donor.objects.none(), label=_("Donor"))
    amount = forms.CharField(label=_("Amount (EUR)"), help_text=_("For example 1.234,50"))
    received_on = forms.DateField(
        label=_("Received on"),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    method = forms.ChoiceField(label=_("Method"))
    reference = forms.CharField(label=_("Reference (CRO/TRN, cheque no.)"), required=False)
    campaign = forms.ModelChoiceField(queryset=None, required=False, label=_("Campaign"))
    wants_receipt = forms.BooleanField(label=_("Issue a receipt"), required=False)

    def __init__(self, *args, user, **kwargs):
        from .offline import OFFLINE_METHODS
        from .viewsets import campaigns_for, donor_chooser_viewset

        super().__init__(*args, **kwargs)
        self.fields["donor"].queryset = Donor.objects.for_user(user).filter(
            anonymised_at__isnull=True
        )
        self.fields["donor"].widget = donor_chooser_viewset.widget_class()
        self.fields["campaign"].queryset = campaigns_for(user)
        self.fields["method"].choices = [(m.value, m.label) for m in OFFLINE_METHODS]

    def clean_amount(self):
        from .money import parse_amount

        return parse_amount(self.cleaned_data["amount"])


def record_gift(request, pk=None):
    _require(request, "add_donation")
    from .offline import record_offline_gift

    initial = {"received_on": timezone.localdate(), "method": Donation.Method.BANK_TRANSFER}
    if pk is not None:
        initial["donor"] = get_object_or_404(Donor.objects.for_user(request.user), pk=pk)
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


@require_POST
def issue_receipt(request, pk):
    _require(request, "add_receipt")
    from .receipts import ReceiptError
    from .receipts import issue_receipt as issue

    donation = get_object_or_404(Donation.objects.for_user(request.user), pk=pk)
    try:
        receipt = issue([donation], issued_by=request.user)
    except (ValidationError, ReceiptError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("crm_donation:inspect", donation.pk)
    messages.success(request, _("Receipt %(number)s issued.") % {"number": receipt.number})
    return redirect("crm_receipt:inspect", receipt.pk)


# --- Imports and exports -----------------------------------------------------------------------


class ImportForm(forms.Form):
    network = forms.ModelChoiceField(queryset=Network.objects.none(), label=_("Network"))
    file = forms.FileField(label=_("CSV or XLSX file"))
    confirm = forms.BooleanField(
        required=False, label=_("Write to the CRM (leave unticked for a dry run)")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        networks = Network.objects.for_user(user)
        self.fields["network"].queryset = networks
        if networks.count() == 1:
            self.fields["network"].initial = networks.get()


def import_gifts(request):
    _require(request, "add_donation")
    from .imports import apply_import, plan_import

    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    plan = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        plan = plan_import(upload.read(), upload.name, form.cleaned_data["network"])
        if plan.is_clean and form.cleaned_data["confirm"]:
            result = apply_import(plan, user=request.user)
            messages.success(
                request,
                _("Imported %(donors)s new donors and %(gifts)s gifts.") % result,
            )
            return redirect("crm_donation:index")
    return TemplateResponse(
        request,
        "crm/admin/import.html",
        {"form": form, "plan": plan, "title": _("Import donors and gifts")},
    )


def _year(request):
    try:
        return int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        return timezone.localdate().year


def export_summary(request):
    _require(request, "view_donation")
    from .exports import export_yearly_summary

    export_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return export_yearly_summary(
        Donation.objects.for_user(request.user), _year(request), export_format
    )


def export_receipts(request):
    _require(request, "view_receipt")
    from .exports import export_receipts_zip

    def day(name, default):
        try:
            return datetime.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return default

    year = _year(request)
    start = day("from", datetime.date(year, 1, 1))
    end = day("to", datetime.date(year, 12, 31))
    receipts = Receipt.objects.for_user(request.user).filter(
        issued_at__date__gte=start, issued_at__date__lte=end
    )
    return export_receipts_zip(receipts, f"receipts-{start}-{end}")


# --- Receipts ----------------------------------------------------------------------------------


def _receipt(request, pk):
    return get_object_or_404(Receipt.objects.for_user(request.user), pk=pk)


def receipt_pdf(request, pk):
    _require(request, "view_receipt")
    from .links import receipt_download_url

    return redirect(receipt_download_url(_receipt(request, pk)))


def _receipt_change(request, pk, verb, done):
    _require(request, "change_receipt")
    receipt = _receipt(request, pk)
    if request.method != "POST":
        return TemplateResponse(
            request,
            "crm/admin/confirm.html",
            {"title": done, "object": receipt, "ask_reason": True},
        )
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Say why."))
        return redirect("crm_receipt:inspect", receipt.pk)
    result = verb(receipt, reason=reason, user=request.user)
    messages.success(request, done)
    return redirect("crm_receipt:inspect", getattr(result, "pk", receipt.pk))


def receipt_void(request, pk):
    from .receipts import void_receipt

    return _receipt_change(request, pk, void_receipt, _("Receipt voided."))


def receipt_reissue(request, pk):
    from .receipts import reissue_receipt

    return _receipt_change(request, pk, reissue_receipt, _("Receipt reissued."))


@require_POST
def receipt_resend(request, pk):
    _require(request, "view_receipt")
    from .outbox import queue_receipt_email

    queue_receipt_email(_receipt(request, pk), user=request.user)
    messages.success(request, _("The receipt will be emailed again."))
    return redirect("crm_receipt:inspect", pk)
