"""The gift import screens (Donations → Import gifts): upload a file once, map its columns,
preview what it would write (bad rows, matched and new donors, rows already recorded), apply;
then see the batch, undo it or issue its receipts. The verbs are `crm.import_batches`."""

from django import forms
from django.contrib import messages
from django.db import DatabaseError
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from crm import import_batches, receipt_selection
from crm.exports import export_receipts_zip
from crm.import_rows import FIELDS
from crm.imports import FileRefused, RowError, limit, receipt_forecast
from crm.models import Donation, ImportBatch, Network, Receipt
from crm.tenancy import network_view, reached
from crm.validators import row_id

from .common import ScopedModelViewSet, networks_for


class ImportForm(forms.Form):
    network = forms.ModelChoiceField(queryset=Network.objects.none(), label=_("Network"))
    file = forms.FileField(label=_("CSV or XLSX file"))
    confirm = forms.BooleanField(
        required=False,
        label=_("Write to the CRM at once (leave unticked to map the columns and preview)"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        networks = networks_for(user)
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


class MappingForm(forms.Form):
    """One choice per column of the file: which field it holds, or nothing."""

    def __init__(self, *args, batch, **kwargs):
        super().__init__(*args, **kwargs)
        header = batch.table[0][1] if batch.table else []
        samples = batch.table[1][1] if len(batch.table) > 1 else []
        choices = [("", _("— not imported —")), *FIELDS]
        for index, name in enumerate(header):
            sample = samples[index] if index < len(samples) else ""
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=str(name) or _("Column %(n)s") % {"n": index + 1},
                help_text=_("For example: %(value)s") % {"value": sample} if sample else "",
                choices=choices,
                required=False,
                initial=batch.mapping.get(str(index), ""),
            )

    def clean(self):
        chosen = [v for v in self.cleaned_data.values() if v]
        if len(chosen) != len(set(chosen)):
            raise forms.ValidationError(_("Each field can come from one column only."))
        return self.cleaned_data

    def mapping(self):
        return {name[4:]: value for name, value in self.cleaned_data.items() if value}


def _batch(request, pk):
    return get_object_or_404(reached(request.user, ImportBatch), pk=pk)


def _batch_url(batch):
    return reverse("crm_importbatch:batch", args=[batch.pk])


def _applied_message(request, batch):
    result = batch.result
    donors = ngettext("%(n)s new donor", "%(n)s new donors", result["donors"]) % {
        "n": result["donors"]
    }
    gifts = ngettext("%(n)s gift", "%(n)s gifts", result["gifts"]) % {"n": result["gifts"]}
    text = _("Imported: %(donors)s and %(gifts)s.") % {"donors": donors, "gifts": gifts}
    if result.get("skipped"):
        text += " " + ngettext(
            "%(n)s row already recorded was skipped.",
            "%(n)s rows already recorded were skipped.",
            result["skipped"],
        ) % {"n": result["skipped"]}
    issued = result.get("receipts", {})
    if issued.get("issued") or issued.get("missing_data"):
        text += " " + receipts_report(
            {
                "issued": [None] * issued["issued"],
                "emailed": issued["emailed"],
                "skipped": [(None, "missing_data")] * issued["missing_data"],
            }
        )
    messages.success(request, text)


def _apply(request, batch, include_lines=(), email_receipts=True):
    """Apply and say what happened; None when it was written (or handed to the worker)."""
    try:
        batch = import_batches.apply_batch(
            batch, user=request.user, include_lines=include_lines, email_receipts=email_receipts
        )
    except import_batches.BatchRefused as exc:
        return str(exc)
    except DatabaseError:
        # The checks mirror the database's limits; should one slip, the step was rolled back
        # and the treasurer is told, not shown a 500.
        return _("The file could not be written.")
    if batch.status == ImportBatch.Status.RUNNING:
        messages.success(request, _("The import runs in the background: follow it here."))
    else:
        _applied_message(request, batch)
    return None


@network_view(Donation, "add")
def import_gifts(request):
    """Upload. Bad input (an invalid form, a refused file, the same file again, bad rows)
    answers 400 with the reasons and writes nothing."""
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    recent = reached(request.user, ImportBatch).select_related("created_by")[:20]
    context = {"form": form, "title": _("Import donors and gifts"), "batches": recent}
    if request.method != "POST":
        return TemplateResponse(request, "crm/admin/import.html", context)
    if not form.is_valid():
        return TemplateResponse(request, "crm/admin/import.html", context, status=400)
    upload = form.cleaned_data["file"]
    try:
        batch = import_batches.start_batch(
            upload.read(), upload.name, form.cleaned_data["network"], user=request.user
        )
    except (FileRefused, import_batches.BatchRefused) as exc:
        context["refused"] = str(exc)
        return TemplateResponse(request, "crm/admin/import.html", context, status=400)
    plan = import_batches.plan_batch(batch)
    problem = notice = None
    if plan.is_clean and form.cleaned_data["confirm"]:
        if receipt_forecast(plan).issued:
            # Receipts are documents sent to donors: never issued by a file nobody previewed.
            notice = _("Not written yet: this file issues receipts. Check the preview, then apply.")
        else:
            problem = _apply(request, batch)
            if problem is None:
                return redirect(_batch_url(batch))
            plan.errors.append(RowError(0, problem))
    status = 200 if plan.is_clean and not problem else 400
    return _batch_page(request, batch, plan, status=status, notice=notice)


def _batch_page(request, batch, plan=None, mapping_form=None, status=200, notice=None):
    draft = batch.status == ImportBatch.Status.DRAFT
    if plan is None and draft:
        plan = import_batches.plan_batch(batch)
    context = {
        "title": _("Import: %(name)s") % {"name": batch.file_name},
        "batch": batch,
        "plan": plan,
        "mapping_form": mapping_form or (MappingForm(batch=batch) if draft else None),
        "running": batch.status == ImportBatch.Status.RUNNING,
        "can_undo": batch.status in (ImportBatch.Status.APPLIED, ImportBatch.Status.FAILED),
        "gifts_url": reverse("crm_donation:index") + f"?import_batch={batch.pk}",
        "notice": notice,
    }
    if plan is not None:
        rows = dict(plan.rows)
        context["matched"] = [(line, donor, rows[line]) for line, donor in plan.matches.items()]
        context["new_rows"] = [(line, row) for line, row in plan.rows if line not in plan.matches]
        context["skipped_lines"] = plan.duplicates
        context["duplicates"] = [
            (line, rows[line], plan.duplicate_of.get(line)) for line in sorted(plan.duplicates)
        ]
        if plan.is_clean:
            context["forecast"] = receipt_forecast(plan)
    return TemplateResponse(request, "crm/admin/import_batch.html", context, status=status)


@network_view(Donation, "add", pk=ImportBatch)
def import_batch(request, pk):
    """A batch: while a draft, its mapping and preview (POST `map` or `apply`); then what it
    wrote, its progress on the worker, and its undo and receipts."""
    batch = _batch(request, pk)
    if request.method != "POST":
        return _batch_page(request, batch)
    if batch.status != ImportBatch.Status.DRAFT:
        messages.error(request, _("This batch was already applied."))
        return redirect(_batch_url(batch))
    if "apply" not in request.POST:
        form = MappingForm(request.POST, batch=batch)
        if not form.is_valid():
            return _batch_page(request, batch, mapping_form=form, status=400)
        batch.mapping = form.mapping()
        batch.save(update_fields=["mapping"])
        return redirect(_batch_url(batch))
    plan = import_batches.plan_batch(batch)
    if not plan.is_clean:
        return _batch_page(request, batch, plan, status=400)
    include = [i for i in map(row_id, request.POST.getlist("include")) if i is not None]
    problem = _apply(
        request,
        batch,
        include_lines=[i for i in include if i in plan.duplicates],
        # The preview's "email the receipts" box: a hidden 0 before a ticked 1; absent is yes.
        email_receipts=request.POST.getlist("email_receipts", ["1"])[-1] == "1",
    )
    if problem is not None:
        messages.error(request, problem)
        return _batch_page(request, batch, plan, status=400)
    return redirect(_batch_url(batch))


@network_view(Donation, "add", pk=ImportBatch)
def import_undo(request, pk):
    batch = _batch(request, pk)
    if request.method != "POST":
        notice = _("Its gifts, and the donors it created that have nothing else, are deleted.")
        context = {"title": _("Undo this import"), "object": batch, "notice": notice}
        return TemplateResponse(request, "crm/admin/confirm.html", context)
    try:
        batch = import_batches.undo_batch(batch, user=request.user)
    except import_batches.BatchRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Import undone: %(gifts)s gifts and %(donors)s donors deleted.")
            % batch.result["undone"],
        )
    return redirect(_batch_url(batch))


@network_view(Receipt, "add", pk=ImportBatch)
def import_receipts(request, pk):
    """Issue a receipt for each gift of the batch not yet covered: the page says who gets one
    and why (as the bulk issue does); by default only gifts whose donor asked and has the
    data a receipt needs; emailed unless unticked."""
    batch = _batch(request, pk)
    if request.method != "POST":
        gifts = import_batches.batch_gifts(batch)
        context = {
            "title": _("Issue this import's receipts"),
            "object": batch,
            "selection": selection_summary(receipt_selection.sort_for_receipts(gifts)),
            "back_url": _batch_url(batch),
        }
        return TemplateResponse(request, "crm/admin/import_receipts.html", context)

    def ticked(name, default="0"):
        return request.POST.getlist(name, [default])[-1] == "1"

    report = import_batches.issue_batch_receipts(
        batch,
        user=request.user,
        email=ticked("email", "1"),
        include_not_asked=ticked("include_not_asked"),
        include_missing=ticked("include_missing"),
    )
    messages.success(request, receipts_report(report))
    return redirect(_batch_url(batch))


def selection_summary(selection):
    """A bulk issue's selection (`crm.receipt_selection.sort_for_receipts`) as its confirmation
    shows it: counts, and the gifts whose donor lacks data with what is missing (the first 200)."""
    missing = selection.missing_data
    return {
        "ready": len(selection.ready),
        "not_asked": len(selection.not_asked),
        "missing": len(missing),
        "missing_shown": [
            (g, receipt_selection.describe_missing(codes)) for g, codes in missing[:200]
        ],
        "covered": len(selection.covered),
        "not_eligible": len(selection.not_eligible),
    }


def receipts_report(report):
    """What an issue of many receipts did, as the treasurer reads it."""
    text = ngettext("%(n)s receipt issued", "%(n)s receipts issued", len(report["issued"])) % {
        "n": len(report["issued"])
    }
    text += ", " + ngettext("%(n)s emailed", "%(n)s emailed", report["emailed"]) % {
        "n": report["emailed"]
    }
    reasons = [why for _gift, why in report["skipped"]]
    for code, words in LEFT_OUT.items():
        n = reasons.count(code) + (reasons.count("cash") if code == "not_receiptable" else 0)
        if n:
            text += "; " + words % {"n": n}
    return text + "."


#: Why gifts were left out of a bulk issue, as `receipts_report` says it.
LEFT_OUT = {
    "covered": ngettext_lazy("%(n)s gift already had one", "%(n)s gifts already had one", "n"),
    "not_asked": ngettext_lazy(
        "%(n)s gift left out: the donor did not ask",
        "%(n)s gifts left out: the donor did not ask",
        "n",
    ),
    "missing_data": ngettext_lazy(
        "%(n)s gift left out: the donor lacks a codice fiscale or address",
        "%(n)s gifts left out: the donor lacks a codice fiscale or address",
        "n",
    ),
    "not_receiptable": ngettext_lazy(
        "%(n)s gift cannot have one (paid in cash, not completed or without a donor)",
        "%(n)s gifts cannot have one (paid in cash, not completed or without a donor)",
        "n",
    ),
}


@network_view(Receipt, "view", pk=ImportBatch)
def import_receipts_zip(request, pk):
    batch = _batch(request, pk)
    issued = reached(request.user, Receipt, "view").filter(
        pk__in=Receipt.objects.filter(donations__in=batch.gift_ids).values("pk")
    )
    return export_receipts_zip(issued, f"ricevute-importazione-{batch.pk}")


class ImportBatchViewSet(ScopedModelViewSet):
    """Imports (CRM → Imports): the batches of the user's networks, each with its page."""

    model = ImportBatch
    icon = "upload"
    menu_label = _("Imports")
    empty_message = _("No imports yet.")
    list_display = ["file_name", "created_at", "created_by", "row_count", "status", "network"]
    url_names = {"index", "index_results"}

    def get_extra_urlpatterns(self):
        return [
            path("new/", import_gifts, name="add"),
            path("<int:pk>/", import_batch, name="batch"),
            path("<int:pk>/undo/", import_undo, name="undo"),
            path("<int:pk>/receipts/", import_receipts, name="receipts"),
            path("<int:pk>/receipts.zip", import_receipts_zip, name="receipts_zip"),
        ]

    def get_index_view_kwargs(self, **kwargs):
        kwargs = super().get_index_view_kwargs(**kwargs)
        kwargs["add_url_name"] = self.get_url_name("add")
        kwargs["inspect_url_name"] = self.get_url_name("batch")
        return kwargs
