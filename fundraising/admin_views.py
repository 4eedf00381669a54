"""The treasurers' screens (CRM → Fundraising reports), under /admin/crm/fundraising/ so the
CRM's policy coverage test walks them: the reports, a new one from a campaign or an event, a
report with its income, expenses and note, its PDF and spreadsheet, an expense's document.

Who: the network's treasurers (the gifts' permissions decide, as for bank transfers), rows of
the networks they reach only; communicators do not see these screens (they list expenses and
the money). Bad input answers 400 with the form's translated errors and changes nothing."""

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from wagtail.log_actions import log

from crm.models import Donation
from crm.tenancy import (
    NetworkPermissionPolicy,
    network_view,
    policy_for,
    reached,
    register_network_policy,
)
from crm.validators import row_id

from . import documents, expenses
from .admin_forms import ExpenseForm, NewReportForm, NoteForm
from .models import Expense, FundraisingReport
from .report import report_data

for _model in (FundraisingReport, Expense):
    register_network_policy(_model, NetworkPermissionPolicy(_model, auth_model=Donation))

REPORT = "fundraising/admin/report.html"


def _report(request, pk, action="view"):
    return get_object_or_404(
        reached(request.user, FundraisingReport, action).select_related("network"), pk=pk
    )


@network_view(FundraisingReport, "view")
def report_index(request):
    reports = reached(request.user, FundraisingReport, "view").select_related("network")
    context = {"title": _("Fundraising reports"), "reports": reports[:500]}
    return TemplateResponse(request, "fundraising/admin/index.html", context)


@network_view(FundraisingReport, "add")
def report_new(request):
    networks = policy_for(FundraisingReport).networks_for(request.user)
    initial = {"source": request.GET.get("source", "")}
    form = NewReportForm(request.POST or None, networks=networks, initial=initial)
    context = {"title": _("New fundraising report"), "form": form}
    if request.method != "POST":
        return TemplateResponse(request, "crm/admin/form.html", context)
    if not form.is_valid():
        return TemplateResponse(request, "crm/admin/form.html", context, status=400)
    page = form.cleaned_data["page"]
    is_event = form.cleaned_data["source"].startswith("event:")
    with transaction.atomic():
        report = FundraisingReport.objects.create(
            network=page.network,
            campaign=None if is_event else page,
            event=page if is_event else None,
            title=page.title,
            starts_on=form.cleaned_data["starts_on"],
            ends_on=form.cleaned_data["ends_on"],
            created_by=request.user,
        )
        log(report, "wagtail.create", user=request.user)
    messages.success(request, _("Report created."))
    return redirect("fundraising_report", report.pk)


def _render_report(request, report, *, expense_form=None, note_form=None, status=200):
    context = {
        "title": report.title,
        **report_data(report),
        "expense_form": expense_form or ExpenseForm(),
        "note_form": note_form or NoteForm(instance=report),
    }
    return TemplateResponse(request, REPORT, context, status=status)


@network_view(FundraisingReport, "view")
def report_detail(request, pk):
    return _render_report(request, _report(request, pk))


@network_view(FundraisingReport, "change")
@require_POST
def report_note(request, pk):
    report = _report(request, pk, "change")
    form = NoteForm(request.POST, instance=report)
    if not form.is_valid():
        return _render_report(request, report, note_form=form, status=400)
    with transaction.atomic():
        form.save()
        log(report, "wagtail.edit", user=request.user)
    messages.success(request, _("Explanatory note saved."))
    return redirect("fundraising_report", report.pk)


@network_view(FundraisingReport, "change")
@require_POST
def expense_add(request, pk):
    report = _report(request, pk, "change")
    form = ExpenseForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            expenses.record_expense(
                report,
                amount_cents=data["amount"],
                spent_on=data["spent_on"],
                supplier=data["supplier"],
                category=data["category"],
                description=data["description"],
                document=data["document"],
                recorded_by=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Expense recorded."))
            return redirect("fundraising_report", report.pk)
    return _render_report(request, report, expense_form=form, status=400)


@network_view(FundraisingReport, "change")
@require_POST
def expense_remove(request, pk):
    report = _report(request, pk, "change")
    expense_id = row_id(request.POST.get("id"))
    if expense_id is None:
        raise Http404
    expense = get_object_or_404(Expense, report=report, pk=expense_id)
    expenses.remove_expense(expense, user=request.user)
    messages.success(request, _("Expense removed."))
    return redirect("fundraising_report", report.pk)


@never_cache
@network_view(FundraisingReport, "view")
def expense_document(request, pk):
    """An expense's document (`?id=`; without it, the report's first document), to a
    treasurer of the report's network only."""
    report = _report(request, pk)
    rows = Expense.objects.filter(report=report).exclude(document="")
    if expense_id := row_id(request.GET.get("id")):
        rows = rows.filter(pk=expense_id)
    expense = rows.order_by("pk").first()
    if expense is None:
        raise Http404
    response = FileResponse(
        expense.document.open("rb"),
        as_attachment=True,
        filename=expense.document_name or "document",
    )
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@network_view(FundraisingReport, "view")
def report_pdf(request, pk):
    report = _report(request, pk)
    response = HttpResponse(documents.render_report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.file_name(report, "pdf")}"'
    return response


@never_cache
@network_view(FundraisingReport, "view")
def report_xlsx(request, pk):
    report = _report(request, pk)
    output = io.BytesIO()
    documents.write_report_xlsx(report, output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=documents.file_name(report, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def admin_urls():
    return [
        path("crm/fundraising/", report_index, name="fundraising_reports"),
        path("crm/fundraising/new/", report_new, name="fundraising_new"),
        path("crm/fundraising/<int:pk>/", report_detail, name="fundraising_report"),
        path("crm/fundraising/<int:pk>/note/", report_note, name="fundraising_note"),
        path("crm/fundraising/<int:pk>/expense/", expense_add, name="fundraising_expense"),
        path(
            "crm/fundraising/<int:pk>/expense/remove/",
            expense_remove,
            name="fundraising_expense_remove",
        ),
        path("crm/fundraising/<int:pk>/document/", expense_document, name="fundraising_document"),
        path("crm/fundraising/<int:pk>/pdf/", report_pdf, name="fundraising_pdf"),
        path("crm/fundraising/<int:pk>/xlsx/", report_xlsx, name="fundraising_xlsx"),
    ]
