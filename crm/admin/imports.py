"""The gift import screen (Donations → Import gifts): a dry run first, then the write."""

from django import forms
from django.contrib import messages
from django.db import DatabaseError
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from crm.imports import RowError, apply_import, limit, plan_import
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

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > limit("IMPORT_MAX_BYTES"):
            raise forms.ValidationError(
                _("The file is too large (at most %(size)s): split it into smaller files.")
                % {"size": filesizeformat(limit("IMPORT_MAX_BYTES"))}
            )
        return upload


def import_gifts(request):
    """Bad input (an invalid form, a refused file, bad rows) answers 400 with the reasons and
    writes nothing; only a clean, confirmed file is written."""
    require_perm(request, "add_donation")
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    plan, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            plan = plan_import(upload.read(), upload.name, form.cleaned_data["network"])
            if plan.is_clean:
                status = 200
            if plan.is_clean and form.cleaned_data["confirm"]:
                try:
                    result = apply_import(plan, user=request.user)
                except DatabaseError:
                    # The checks mirror the database's limits; should one slip, nothing was
                    # written (one transaction) and the treasurer is told, not shown a 500.
                    plan.errors.append(RowError(0, _("The file could not be written.")))
                    status = 400
                else:
                    messages.success(
                        request,
                        _("Imported %(donors)s new donors and %(gifts)s gifts.") % result,
                    )
                    return redirect("crm_donation:index")
    return TemplateResponse(
        request,
        "crm/admin/import.html",
        {"form": form, "plan": plan, "title": _("Import donors and gifts")},
        status=status,
    )
