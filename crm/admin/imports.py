"""The gift import screen (Donations → Import gifts): a dry run first, then the write."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from crm.imports import apply_import, plan_import
from crm.models import Network

from .common import require_perm


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
    require_perm(request, "add_donation")
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
